"""Step 3's evaluation: every arm (harness.arm_engine) over one or more candidate pools, scored per query on one
split's qrels with harness.metrics, then compared with paired statistics.

Queries whose relevant documents are all missing from a pool are kept and count as misses (they could not
be found), with their number reported; dropping them would flatter every arm on small pools.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.beir import Dataset, Document, corpus_fingerprint
from corpus.cache_policy import CACHE_POLICIES, CachePolicy
from corpus.errors import RagtuneError
from corpus.options import check_options, option
from harness.ann import KINDS as INDEX_KINDS
from harness.ann import IndexConfig
from harness.arm_engine import ArmEngine, ArmOptions
from harness.arm_ranking import ArmRanking
from harness.arms import BM25, DEFAULT_ARMS, ArmSpec
from harness.embedding_cache import EmbeddingCache
from harness.metrics import DEFAULT_KS, first_relevant_rank, per_query, relevance_matrix
from harness.paired_comparison import compare_arms
from harness.retrieval import retrieval_backend
from harness.retrieval_options import RetrievalOptions

_INDEX = IndexConfig()


@dataclass
class EvalConfig:
    data: str | None = option(None, help="BEIR folder or flat file (default: the prepared O*NET set)")
    pool: str | None = option(
        None,
        help="candidate pool from step 1 (default: <data>/corpus_800.jsonl when it exists, else the whole corpus)",
    )
    sizes: list[int] = option(
        default_factory=list, help="pool sizes built on the fly instead of --pool, e.g. 800 3000 10000", min=1
    )
    split: str = option("test", help="split whose queries are evaluated")
    arms: list[str] | None = option(
        None,
        help="arms in comparison order: NAME=PATH, base, bm25 or a model folder; NAME=a+b fuses arms a and b by "
        "reciprocal rank (NAME=a+b:convex: weighted scores, the weight chosen on dev); NAME=a>RERANKER reranks "
        f"arm a's top --rerank-depth with a step-2b cross-encoder (default: {' '.join(DEFAULT_ARMS)} when step 2 "
        "wrote it)",
    )
    k: list[int] = option(default_factory=lambda: list(DEFAULT_KS), help="cut-offs", min=1)
    depth: int = option(100, help="ranks kept per query for TREC runs", min=1)
    index: str = option(_INDEX.kind, help="search kind", choices=INDEX_KINDS)
    nprobe: int = option(_INDEX.nprobe, help="IVF cells visited per query", min=1)
    bootstrap: int = option(10_000, help="bootstrap / randomization samples", min=100)
    confidence: float = option(0.95, help="confidence level of the intervals, in [0.5, 1)", min=0.5, max=0.999999)
    fix_k: int = option(10, help="cut-off for fixed/regressed counts (first relevant rank ≤ k)", min=1)
    latency_queries: int = option(50, help="queries timed one by one for latency (0 = skip)", min=0)
    no_external: bool = option(False, help="--sizes: only the dataset's own distractors")
    triplets: str | None = option(None, help="--sizes: triplets folder whose negatives are excluded")
    seed: int = option(13, help="seed of bootstrap, latency sample and pools")
    batch_size: int = option(64, help="encoding batch size", min=1)
    ignore_identical_ids: bool = option(
        False,
        help="drop a retrieved document whose id is the query's id, as BEIR's evaluator does (ArguAna, Quora, CQADupStack)",
    )
    cache: CachePolicy = option(CachePolicy.REUSE, help="embedding cache: reuse or recompute", choices=CACHE_POLICIES)
    out: str | None = option(None, help="report folder (default: reports/)")
    full_table: bool = option(False, help="print every metric at every cut-off (the console shows the headline)")
    arm_options: ArmOptions = field(default_factory=ArmOptions)
    retrieval: RetrievalOptions = field(default_factory=RetrievalOptions)

    def __post_init__(self):
        check_options(self)
        self.k = sorted(set(int(k) for k in self.k))
        if not self.k:
            raise RagtuneError("--k needs at least one cut-off")
        self.depth = max(self.depth, self.k[-1])
        if self.index != "exact" and not self.retrieval.is_faiss:
            raise RagtuneError(
                f"--index {self.index} is a FAISS search; a database --store searches its own HNSW "
                "(tune it with --hnsw-m, --ef-construction, --ef-search)"
            )
        if self.pool and self.sizes:
            raise RagtuneError(
                "--pool and --sizes exclude each other: evaluate one pool file or pools built on the fly"
            )

    @property
    def index_config(self) -> IndexConfig:
        return IndexConfig(self.index, nprobe=self.nprobe, ef_search=self.retrieval.ef_search, seed=self.seed)

    @property
    def search_kind(self) -> str:
        """What the dense arms search: a FAISS index kind, or the database store's HNSW."""
        return self.index if self.retrieval.is_faiss else "pgvector-hnsw"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Pool:
    size: int
    doc_ids: list[str]
    fingerprint: str


@dataclass
class ArmRun(ArmRanking):
    """An arm's ranking on one pool with its per-query metric values."""

    values: dict[str, np.ndarray] = field(default_factory=dict)  # metric -> (n_queries, n_ks)
    first_rank: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # 0 = none within depth


@dataclass
class PoolResult:
    pool: Pool
    arms: list[ArmRun]
    metric_rows: list[dict]
    outcome_rows: list[dict]
    unreachable: int  # queries with no relevant document in the pool
    partial: int  # queries with some but not all relevant documents in the pool


@dataclass
class EvalResult:
    config: EvalConfig
    data: str  # the dataset folder evaluated (config.data as resolved)
    dataset_fingerprint: str
    pool_file: str  # the pool file evaluated ('' for --sizes pools or the whole corpus)
    arms: list[ArmSpec]
    query_ids: list[str]
    query_texts: list[str]
    qrels: dict[str, dict[str, float]]  # graded; fractional where the qrels say so
    doc_ids: list[str]  # union of all pools; rankings index into it
    pools: list[PoolResult]
    models: dict[str, dict]  # name -> path, fingerprint, store
    fitted: dict[str, dict]  # name -> what was fitted (convex weights and the dev split they were chosen on)
    cache: dict


def split_queries(ds: Dataset, split: str) -> tuple[list[str], list[str], dict[str, dict[str, float]]]:
    """Queries of the split that have at least one relevant (grade > 0) document."""
    qrels = ds.split(split)
    ids = [q for q, docs in qrels.items() if any(g > 0 for g in docs.values())]
    if not ids:
        raise RagtuneError(f"{ds.path}: split '{split}' has no query with a relevant (score > 0) document")
    return ids, [ds.queries[q] for q in ids], {q: qrels[q] for q in ids}


def union_pool(pools: list[dict[str, Document]]) -> dict[str, Document]:
    union: dict[str, Document] = {}
    for docs in pools:
        for d, doc in docs.items():
            union.setdefault(d, doc)
    return union


def score(run: ArmRanking, doc_ids: list[str], query_ids: list[str], qrels: dict, ks: list[int]) -> ArmRun:
    """An arm's ranking judged against the qrels: per-query values of every metric at every cut-off."""
    judged = relevance_matrix(run.ranked, doc_ids, query_ids, qrels)
    return ArmRun(**vars(run), values=per_query(judged, ks), first_rank=first_relevant_rank(judged))


def _pool_result(
    size: int, docs: dict[str, Document], runs: list[ArmRun], cfg: EvalConfig, query_ids: list[str], qrels: dict
) -> PoolResult:
    in_pool = [sum(d in docs for d, g in qrels[q].items() if g > 0) for q in query_ids]
    n_rel = [sum(g > 0 for g in qrels[q].values()) for q in query_ids]
    metric_rows, outcome_rows = compare_arms(
        {r.name: r.values for r in runs},
        {r.name: r.first_rank for r in runs},
        cfg.k,
        cfg.fix_k,
        cfg.bootstrap,
        cfg.confidence,
        cfg.seed,
    )
    return PoolResult(
        Pool(size, list(docs), corpus_fingerprint(docs.values())),
        runs,
        metric_rows,
        outcome_rows,
        unreachable=sum(i == 0 for i in in_pool),
        partial=sum(0 < i < n for i, n in zip(in_pool, n_rel, strict=False)),
    )


def evaluate(
    ds: Dataset,
    pools: list[tuple[int, dict[str, Document]]],
    arms: list[ArmSpec],
    cfg: EvalConfig,
    cache: EmbeddingCache | None = None,
    pool_file: str = "",
) -> EvalResult:
    """Score every arm on every pool; each model is loaded and its documents encoded once for all pools."""
    if not arms:
        raise RagtuneError("nothing to evaluate: give --arms")
    if any(a.kind == BM25 and a.name != BM25 for a in arms):
        raise RagtuneError("--arms: the BM25 arm is written 'bm25'")
    query_ids, query_texts, qrels = split_queries(ds, cfg.split)
    # largest pool first: with nested pools its rows are 0..N-1 and its exact index is the retriever's own
    union = union_pool(sorted((docs for _, docs in pools), key=len, reverse=True))
    doc_ids = list(union)
    position = {d: i for i, d in enumerate(doc_ids)}
    pools_rows = [np.fromiter((position[d] for d in docs), dtype=np.int64, count=len(docs)) for _, docs in pools]
    cache = cache or EmbeddingCache(policy=cfg.cache)
    with retrieval_backend(cfg.retrieval) as backend:
        engine = ArmEngine(
            arms, union, dataset=ds, options=cfg.arm_options, retrieval=cfg.retrieval, index=cfg.index_config,
            cache=cache, backend=backend, batch_size=cfg.batch_size, exclude_own_ids=cfg.ignore_identical_ids,
            ann_recall=True,
        )  # fmt: skip
        rankings = engine.rank(query_texts, cfg.depth, pools_rows, query_ids, cfg.latency_queries, cfg.seed)
        models = engine.models()
    results = [
        _pool_result(size, docs, [score(r, doc_ids, query_ids, qrels, cfg.k) for r in runs], cfg, query_ids, qrels)
        for (size, docs), runs in zip(pools, rankings, strict=True)
    ]
    return EvalResult(
        cfg,
        str(ds.path),
        ds.fingerprint(),
        pool_file,
        list(arms),
        query_ids,
        query_texts,
        qrels,
        doc_ids,
        results,
        models,
        engine.fitted(),
        {"hits": cache.hits, "misses": cache.misses, "reused_rows": cache.reused_rows, "policy": cache.policy},
    )
