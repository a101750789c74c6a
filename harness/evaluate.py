"""One evaluation run: arms (embedding models, optionally BM25) over one or more candidate pools, scored per
query on one split's qrels, then compared with paired statistics.

Queries whose relevant documents are all missing from a pool are kept and count as misses (they could not
be found), with their number reported; dropping them would flatter every arm on small pools.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.beir import Dataset, Document, corpus_fingerprint
from corpus.cache_policy import CachePolicy
from corpus.console import console
from corpus.errors import RagtuneError
from harness.ann import IndexConfig, build_index, recall_vs_exact, search
from harness.embedding_cache import EmbeddingCache
from harness.metrics import DEFAULT_KS, first_relevant_rank, per_query, relevance_matrix
from harness.paired_comparison import compare_arms
from harness.retrieval import retrieval_backend
from harness.retrieval_options import RetrievalOptions

BM25 = "bm25"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class EvalConfig:
    data: str = ""
    corpus: str = ""  # pool file ('' = the dataset's whole corpus, or --sizes pools)
    split: str = "test"
    models: list[list[str]] = field(default_factory=list)  # [[name, path], ...] in comparison order
    bm25: bool = False
    hybrids: list[list[str]] = field(default_factory=list)  # [[name, part_a, part_b, 'rrf' | 'convex'], ...]
    reranks: list[list[str]] = field(default_factory=list)  # [[name, first-stage arm, reranker folder], ...]
    order: list[str] = field(default_factory=list)  # comparison order of all arms ([] = models, bm25, hybrids, reranks)
    rrf_k: int = 60
    rerank_depth: int = 50  # first-stage documents reranked per query
    ks: list[int] = field(default_factory=lambda: list(DEFAULT_KS))
    depth: int = 100  # ranks kept per query (TREC runs, first-relevant rank)
    index: IndexConfig = field(default_factory=IndexConfig)
    retrieval: RetrievalOptions = field(default_factory=RetrievalOptions)  # store and encoder of the dense arms
    batch_size: int = 64
    cache: CachePolicy = CachePolicy.REUSE
    bootstrap_samples: int = 10_000
    confidence: float = 0.95
    seed: int = 13
    fix_k: int = 10
    latency_queries: int = 50  # single-query encode+search timings, on a seeded sample
    sizes: list[int] = field(default_factory=list)
    external: bool = True  # --sizes pools may draw outside distractors
    # BEIR's own evaluator drops a retrieved document whose id equals the query's id (ArguAna, Quora and
    # CQADupStack hold the query's own text in the corpus); on to reproduce numbers published that way
    ignore_identical_ids: bool = False
    out: str = ""

    @property
    def search_kind(self) -> str:
        """What the dense arms search: a FAISS index kind, or the database store's HNSW."""
        return self.index.kind if self.retrieval.is_faiss else "pgvector-hnsw"

    @property
    def search_depth(self) -> int:
        """Ranks fetched per query: one spare when the query's own document may be dropped."""
        return self.depth + (1 if self.ignore_identical_ids else 0)

    def __post_init__(self):
        self.ks = sorted(set(int(k) for k in self.ks))
        if not self.ks or self.ks[0] < 1:
            raise RagtuneError("--k values must be positive integers")
        self.depth = max(self.depth, self.ks[-1])
        names = (
            [n for n, _ in self.models]
            + ([BM25] if self.bm25 else [])
            + [h[0] for h in self.hybrids]
            + [r[0] for r in self.reranks]
        )
        for n in names:
            if not NAME_RE.match(n):
                raise RagtuneError(f"arm name '{n}' must be letters, digits, '_', '.' or '-'")
        if len(set(names)) != len(names):
            raise RagtuneError(
                f"arm names must be unique, got {', '.join(names)}"
                + (" ('bm25' is taken by the bm25 arm)" if self.bm25 else "")
            )
        if not names:
            raise RagtuneError("nothing to evaluate: give --arms")
        if self.order and sorted(self.order) != sorted(names):
            raise RagtuneError(f"arm order {', '.join(self.order)} does not name the arms {', '.join(names)}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Pool:
    size: int
    doc_ids: list[str]
    fingerprint: str


@dataclass
class ArmRun:
    name: str
    kind: str  # 'dense', 'bm25', 'hybrid' or 'rerank'
    scores: np.ndarray  # (n_queries, depth') float32
    ranked: np.ndarray  # (n_queries, depth') indices into the evaluation's doc_ids, -1 = empty slot
    values: dict[str, np.ndarray]  # metric -> (n_queries, n_ks)
    first_rank: np.ndarray  # (n_queries,) 0 = no relevant document within depth
    encode_seconds: float = float("nan")
    docs_per_second: float = float("nan")
    cached: bool = False
    latency_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ann_recall: float = float("nan")  # recall@10 of the approximate index against exact search
    training_minutes: float = 0.0  # wall time of the training behind the arm (its cards), 0 for base and BM25
    note: str = ""  # e.g. the convex weight and where it was chosen


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
    dataset_fingerprint: str
    query_ids: list[str]
    query_texts: list[str]
    qrels: dict[str, dict[str, float]]  # graded; fractional where the qrels say so
    doc_ids: list[str]  # union of all pools; rankings index into it
    pools: list[PoolResult]
    models: dict[str, dict]  # name -> path, fingerprint
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


def _latency(one_query, texts: list[str], n: int, seed: int) -> np.ndarray:
    """Milliseconds per single-query call over a seeded sample of queries (a warm-up call is not counted)."""
    if n <= 0 or not texts:
        return np.zeros(0)
    sample = np.random.default_rng(seed).permutation(len(texts))[:n]
    one_query(texts[sample[0]])
    out = np.empty(len(sample))
    for i, j in enumerate(sample):
        t0 = time.perf_counter()
        one_query(texts[j])
        out[i] = (time.perf_counter() - t0) * 1000.0
    return out


def drop_identical_ids(
    scores: np.ndarray, ranked: np.ndarray, doc_ids: list[str], query_ids: list[str], depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """Remove each query's own id from its ranking, keep the order of the rest, cut to `depth` (-1 pads)."""
    out_scores = np.full((len(query_ids), depth), np.nan, dtype=np.float32)
    out_ranked = np.full((len(query_ids), depth), -1, dtype=ranked.dtype)
    for i, qid in enumerate(query_ids):
        keep = [j for j, r in enumerate(ranked[i]) if r >= 0 and doc_ids[r] != qid][:depth]
        out_scores[i, : len(keep)] = scores[i, keep]
        out_ranked[i, : len(keep)] = ranked[i, keep]
    return out_scores, out_ranked


@dataclass(frozen=True)
class Setting:
    """What every arm of one evaluation is scored on: the queries, the union of the pools and each pool's rows."""

    cfg: EvalConfig
    query_ids: list[str]
    query_texts: list[str]
    qrels: dict[str, dict[str, int]]
    union: dict[str, Document]
    doc_ids: list[str]  # the union's ids; rankings index into it
    pools_rows: list[np.ndarray]  # per pool, its documents' rows in doc_ids
    cache: EmbeddingCache
    backend: object = None  # the open database store backend (None: FAISS in memory)


def _score(name: str, kind: str, scores: np.ndarray, ranked: np.ndarray, s: Setting) -> ArmRun:
    cfg = s.cfg
    if cfg.ignore_identical_ids:
        scores, ranked = drop_identical_ids(scores, ranked, s.doc_ids, s.query_ids, cfg.depth)
    judged = relevance_matrix(ranked, s.doc_ids, s.query_ids, s.qrels)
    return ArmRun(name, kind, scores, ranked, per_query(judged, cfg.ks), first_relevant_rank(judged))


def _pool_searcher(retriever, rows: np.ndarray, s: Setting) -> tuple[Callable, Callable | None]:
    """(search(q_emb, k), exact(q_emb, k) or None when the search is already exact) over one pool's rows."""
    cfg = s.cfg
    whole = len(rows) == len(s.doc_ids) and bool((rows == np.arange(len(rows))).all())
    if not cfg.retrieval.is_faiss:
        store = retriever.store if whole else _pool_store(retriever, rows, s)
        return store.search, _exact(retriever, rows)
    if whole and cfg.index.kind == "exact":
        index = retriever.index  # the retriever's own exact index: no copy of the embeddings
    else:
        index = build_index(retriever.doc_emb if whole else retriever.doc_emb[rows], cfg.index)
    exact = _exact(retriever, rows) if cfg.index.kind != "exact" else None
    return (lambda q, k, index=index: search(index, q, k)), exact


def _exact(retriever, rows: np.ndarray) -> Callable:
    index = build_index(retriever.doc_emb[rows], IndexConfig("exact"))
    return lambda q, k: search(index, q, k)


def _pool_store(retriever, rows: np.ndarray, s: Setting):
    """A database store of one smaller pool, filled from the union's embeddings (never encoded again)."""
    from harness.stores import StoreKey

    ids = [s.doc_ids[r] for r in rows]
    texts = [retriever.texts[r] for r in rows]
    row_of = {t: r for t, r in zip(texts, rows, strict=True)}
    key = StoreKey.for_model(retriever.model, ids, texts)
    return s.backend.store_for(key, ids, texts, lambda part: retriever.doc_emb[[row_of[t] for t in part]])


def training_minutes(model_path) -> float:
    """Wall minutes recorded in a trained model's training_card.json (0 for the shipped model or no card)."""
    from pathlib import Path

    from corpus.jsonl import read_json_or_none

    card = read_json_or_none(Path(model_path) / "training_card.json")
    try:
        return float(card.get("wall_time_s", 0.0)) / 60.0 if card else 0.0
    except (TypeError, ValueError, AttributeError):
        return float("nan")


def _dense_arm(name: str, path: str, s: Setting) -> tuple[list[ArmRun], dict]:
    """The arm's run on every pool, and the model's identity (path, fingerprint, store) for the card."""
    cfg, union, cache, query_texts = s.cfg, s.union, s.cache, s.query_texts
    from corpus.models import load_embedder
    from harness.retrieval import dense_retriever

    model = load_embedder(path)
    hits_before = cache.hits
    t0 = time.perf_counter()
    retriever = dense_retriever(
        model, union, cache, cfg.retrieval, s.backend, batch_size=cfg.batch_size, show_progress=True, name=name
    )
    encode_s = time.perf_counter() - t0
    info = {"path": str(model.path), "fingerprint": model.fingerprint, "store": retriever.describe()}
    cached = cache.hits > hits_before
    q_emb = retriever.encode_queries(query_texts, show_progress=True)
    runs = []
    for rows in s.pools_rows:
        searcher, exact = _pool_searcher(retriever, rows, s)
        scores, idx = searcher(q_emb, cfg.search_depth)
        ann = recall_vs_exact(idx, exact(q_emb, 10)[1], 10) if exact is not None else float("nan")
        ranked = np.where(idx >= 0, rows[np.clip(idx, 0, None)], -1)
        run = _score(name, "dense", scores, ranked, s)
        run.encode_seconds = encode_s
        run.docs_per_second = len(union) / encode_s if not cached and encode_s > 0 else float("nan")
        run.cached = cached
        run.ann_recall = ann

        def one_query(text, searcher=searcher):
            # what a RAG system pays per question: encode one query, no cache, then search
            searcher(model.encode([text], "query", batch_size=1), cfg.depth)

        run.latency_ms = _latency(one_query, query_texts, cfg.latency_queries, cfg.seed)
        run.training_minutes = training_minutes(model.path)
        runs.append(run)
    return runs, info


def _bm25_arm(s: Setting) -> list[ArmRun]:
    from harness.bm25 import BM25Arm

    cfg, doc_ids, query_texts = s.cfg, s.doc_ids, s.query_texts
    runs = []
    for rows in s.pools_rows:
        t0 = time.perf_counter()
        arm = BM25Arm({doc_ids[r]: s.union[doc_ids[r]] for r in rows})
        index_s = time.perf_counter() - t0
        scores, idx = arm.search(query_texts, cfg.search_depth)
        ranked = np.where(idx >= 0, rows[np.clip(idx, 0, None)], -1)
        run = _score(BM25, "bm25", scores, ranked, s)
        run.encode_seconds = index_s
        run.docs_per_second = len(rows) / index_s if index_s > 0 else float("nan")
        run.latency_ms = _latency(
            lambda t, arm=arm: arm.search([t], cfg.depth), query_texts, cfg.latency_queries, cfg.seed
        )
        runs.append(run)
    return runs


def _run_arms(ds: Dataset, setting: Setting, n_pools: int) -> tuple[list[list[ArmRun]], dict[str, dict]]:
    """Every arm's run per pool (in the configured order), and each model's identity for the card."""
    cfg = setting.cfg
    models_info: dict[str, dict] = {}
    runs_by_pool: list[list[ArmRun]] = [[] for _ in range(n_pools)]
    with retrieval_backend(cfg.retrieval) as backend:
        setting = dataclasses.replace(setting, backend=backend)
        for name, path in cfg.models:
            console.print(f"[bold]{name}[/]: {path}")
            runs, models_info[name] = _dense_arm(name, path, setting)
            for i, run in enumerate(runs):
                runs_by_pool[i].append(run)
    if cfg.bm25:
        with console.status("BM25: indexing and searching"):
            for i, run in enumerate(_bm25_arm(setting)):
                runs_by_pool[i].append(run)
    if cfg.hybrids or cfg.reranks:
        from harness.composite_arms import composite_runs

        composite_runs(ds, setting, runs_by_pool)
    if cfg.order:
        runs_by_pool = [sorted(runs, key=lambda r: cfg.order.index(r.name)) for runs in runs_by_pool]
    return runs_by_pool, models_info


def _pool_result(
    size: int, docs: dict[str, Document], runs: list[ArmRun], cfg: EvalConfig, query_ids: list[str], qrels: dict
) -> PoolResult:
    in_pool = [sum(d in docs for d, g in qrels[q].items() if g > 0) for q in query_ids]
    n_rel = [sum(g > 0 for g in qrels[q].values()) for q in query_ids]
    metric_rows, outcome_rows = compare_arms(
        {r.name: r.values for r in runs},
        {r.name: r.first_rank for r in runs},
        cfg.ks,
        cfg.fix_k,
        cfg.bootstrap_samples,
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
    ds: Dataset, pools: list[tuple[int, dict[str, Document]]], cfg: EvalConfig, cache: EmbeddingCache | None = None
) -> EvalResult:
    """Score every arm on every pool; each model is loaded and its documents encoded once for all pools."""
    query_ids, query_texts, qrels = split_queries(ds, cfg.split)
    # largest pool first: with nested pools its rows are 0..N-1 and its exact index is the retriever's own
    union = union_pool(sorted((docs for _, docs in pools), key=len, reverse=True))
    doc_ids = list(union)
    position = {d: i for i, d in enumerate(doc_ids)}
    pools_rows = [np.fromiter((position[d] for d in docs), dtype=np.int64, count=len(docs)) for _, docs in pools]
    cache = cache or EmbeddingCache(policy=cfg.cache)
    setting = Setting(cfg, query_ids, query_texts, qrels, union, doc_ids, pools_rows, cache)
    runs_by_pool, models_info = _run_arms(ds, setting, len(pools))
    results = [
        _pool_result(size, docs, runs, cfg, query_ids, qrels)
        for (size, docs), runs in zip(pools, runs_by_pool, strict=False)
    ]
    return EvalResult(
        cfg,
        ds.fingerprint(),
        query_ids,
        query_texts,
        qrels,
        doc_ids,
        results,
        models_info,
        {"hits": cache.hits, "misses": cache.misses, "policy": cache.policy},
    )
