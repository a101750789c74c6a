"""Step 3: does the fine-tuned embedder retrieve better than the base one? Hit@k, P@k, Recall@k, MRR@k, nDCG@k and
MAP@k per arm, paired deltas with bootstrap CIs and randomization p-values, reports under reports/."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.cache_policy import CACHE_POLICIES, CachePolicy
from corpus.errors import RagtuneError
from corpus.options import check_options, option
from harness.ann import KINDS as INDEX_KINDS
from harness.ann import IndexConfig
from harness.arms import DEFAULT_ARMS
from harness.fusion import DEFAULT_RRF_K
from harness.metrics import DEFAULT_KS
from harness.rerank import DEFAULT_RERANK_DEPTH
from harness.retrieval_options import RetrievalOptions

_INDEX = IndexConfig()
HEADLINE_METRICS = ("mrr", "ndcg")


@dataclass
class EvalStepConfig:
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
    rrf_k: int = option(DEFAULT_RRF_K, help="hybrid arms: RRF constant (a document at rank r adds 1/(k + r))", min=1)
    rerank_depth: int = option(DEFAULT_RERANK_DEPTH, help="reranked arms: first-stage documents reranked", min=1)
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
    retrieval: RetrievalOptions = field(default_factory=RetrievalOptions)
    full_table: bool = option(
        False, help="print every metric at every cut-off (as in retrieval_metrics.csv), not only the headline"
    )

    def __post_init__(self):
        check_options(self)
        if self.index != "exact" and not self.retrieval.is_faiss:
            raise RagtuneError(
                f"--index {self.index} is a FAISS search; a database --store searches its own HNSW "
                "(tune it with --hnsw-m, --ef-construction, --ef-search)"
            )
        if self.pool and self.sizes:
            raise RagtuneError(
                "--pool and --sizes exclude each other: evaluate one pool file or pools built on the fly"
            )


@dataclass(frozen=True)
class Figure:
    size: int  # pool documents
    arm: str
    metric: str
    k: int
    value: float


@dataclass
class EvalStepResult:
    out: Path
    written: dict[str, Path]  # report name -> file
    figures: list[Figure]  # every arm's mean per metric, cut-off and pool (the metrics CSV's 'arm' rows)
    evaluation: object  # harness.evaluate.EvalResult: rankings, per-query values, outcomes
    config: EvalStepConfig | None = None  # the settings it ran with (show() reads --full-table from it)

    def figure(self, arm: str, metric: str, k: int, size: int | None = None) -> float:
        """One mean, e.g. result.figure('finetuned', 'mrr', 10); size defaults to the largest pool."""
        size = size if size is not None else max(f.size for f in self.figures)
        for f in self.figures:
            if (f.arm, f.metric, f.k, f.size) == (arm, metric, k, size):
                return f.value
        raise KeyError((arm, metric, k, size))

    @property
    def headline(self) -> list[Figure]:
        """MRR and nDCG at the cut-off closest to 10, per arm, on the largest pool."""
        size = max(f.size for f in self.figures)
        k = min({f.k for f in self.figures}, key=lambda c: abs(c - 10))
        return [f for f in self.figures if f.size == size and f.k == k and f.metric in HEADLINE_METRICS]


def _pools(cfg: EvalStepConfig, ds) -> tuple[list[tuple[int, dict]], str]:
    from corpus.console import console
    from corpus.datasets import resolve_pool
    from corpus.paths import triplets_dir
    from corpus.pool import PoolConfig, build_pool, external_distractors
    from corpus.triplets import training_negative_ids

    if not cfg.sizes:
        choice = resolve_pool(cfg.pool, ds)
        return [(len(choice.docs), choice.docs)], choice.file
    excluded = training_negative_ids(Path(cfg.triplets) if cfg.triplets else triplets_dir(ds.path))
    extra = [] if cfg.no_external else [("external", external_distractors)]
    pools = []
    with console.status("building candidate pools"):
        for size in sorted(set(cfg.sizes)):
            pool, _ = build_pool(ds, PoolConfig(size, cfg.split, cfg.seed), excluded, extra)
            pools.append((size, {d.id: d for _, d in pool}))
    return pools, ""


def run(cfg: EvalStepConfig) -> EvalStepResult:
    from corpus.console import console
    from corpus.datasets import dataset_dir, open_dataset
    from corpus.output_location import check_output_dir
    from corpus.paths import REPORTS_DIR, finetuned_dir
    from corpus.report_set import report_set
    from harness.arms import BM25, DENSE, HYBRID, RERANK, parse_arms
    from harness.evaluate import EvalConfig, evaluate
    from harness.retrieval_report import write_reports

    arms = parse_arms(cfg.arms, finetuned_dir(dataset_dir(cfg.data)))
    if any(a.kind == BM25 and a.name != BM25 for a in arms):
        raise RagtuneError("--arms: the BM25 arm is written 'bm25'")
    out = check_output_dir(cfg.out or REPORTS_DIR)
    ds = open_dataset(cfg.data)
    pools, pool_file = _pools(cfg, ds)
    ecfg = EvalConfig(
        data=str(ds.path),
        corpus=pool_file,
        split=cfg.split,
        models=[[a.name, a.model] for a in arms if a.kind == DENSE],
        bm25=any(a.kind == BM25 for a in arms),
        hybrids=[[a.name, *a.parts, a.fusion] for a in arms if a.kind == HYBRID],
        reranks=[[a.name, *a.parts] for a in arms if a.kind == RERANK],
        order=[a.name for a in arms],
        rrf_k=cfg.rrf_k,
        rerank_depth=cfg.rerank_depth,
        ks=cfg.k,
        depth=cfg.depth,
        index=IndexConfig(cfg.index, nprobe=cfg.nprobe, ef_search=cfg.retrieval.ef_search, seed=cfg.seed),
        retrieval=cfg.retrieval,
        batch_size=cfg.batch_size,
        cache=cfg.cache,
        bootstrap_samples=cfg.bootstrap,
        confidence=cfg.confidence,
        seed=cfg.seed,
        fix_k=cfg.fix_k,
        latency_queries=cfg.latency_queries,
        sizes=cfg.sizes,
        external=not cfg.no_external,
        ignore_identical_ids=cfg.ignore_identical_ids,
        out=str(out),
    )
    result = evaluate(ds, pools, ecfg)
    with console.status("writing reports"), report_set(out, "retrieval") as staging:
        staged = write_reports(result, staging)
    # staging paths vanish on publishing: name each file by its fixed link in the report folder
    written = {name: out / path.relative_to(staging) for name, path in staged.items()}
    figures = [
        Figure(p.pool.size, r["arm"], r["metric"], int(r["k"]), float(r["value"]))
        for p in result.pools
        for r in p.metric_rows
        if r["kind"] == "arm"
    ]
    return EvalStepResult(out, written, figures, result, cfg)


def show(result: EvalStepResult) -> None:
    """The headline per arm on the largest pool (or, with --full-table, every metric at every cut-off per pool);
    the rest is in the reports, and the review page is named last."""
    from corpus.console import console
    from harness.retrieval_report import headline_table, results_table, size_lines

    ev = result.evaluation
    page = result.out / "index.html"
    if result.config is not None and result.config.full_table:
        for pr in ev.pools:
            console.print(results_table(ev, pr))
    else:
        largest = max(ev.pools, key=lambda p: p.pool.size)
        console.print(headline_table(ev, largest))
        for line in size_lines(ev):
            console.print(line)
    console.print(f"[green]reports written to[/] {result.out}: " + ", ".join(p.name for p in result.written.values()))
    if page.exists():
        console.print(f"[bold]review page:[/] {page.resolve().as_uri()}")
