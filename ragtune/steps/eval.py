"""Step 3: does the fine-tuned embedder retrieve better than the base one? Hit@k, P@k, Recall@k, MRR@k, nDCG@k and
MAP@k per arm, paired deltas with bootstrap CIs and randomization p-values, reports under reports/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.evaluate import EvalConfig

HEADLINE_METRICS = ("mrr", "ndcg")

__all__ = ["EvalConfig", "EvalStepResult", "Figure", "run", "show"]


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
    evaluation: object  # harness.evaluate.EvalResult: rankings, per-query values, outcomes, fitted weights

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


def _pools(cfg: EvalConfig, ds) -> tuple[list[tuple[int, dict]], str]:
    from corpus.datasets import resolve_pool
    from corpus.paths import triplets_dir
    from corpus.pool import PoolConfig, build_pool, external_distractors
    from corpus.progress import working
    from corpus.triplets import training_negative_ids

    if not cfg.sizes:
        choice = resolve_pool(cfg.pool, ds)
        return [(len(choice.docs), choice.docs)], choice.file
    excluded = training_negative_ids(Path(cfg.triplets) if cfg.triplets else triplets_dir(ds.path))
    extra = [] if cfg.no_external else [("external", external_distractors)]
    pools = []
    with working("building candidate pools"):
        for size in sorted(set(cfg.sizes)):
            pool, _ = build_pool(ds, PoolConfig(size, cfg.split, cfg.seed), excluded, extra)
            pools.append((size, {d.id: d for _, d in pool}))
    return pools, ""


def run(cfg: EvalConfig) -> EvalStepResult:
    from corpus.datasets import dataset_dir, open_dataset
    from corpus.output_location import check_output_dir
    from corpus.paths import REPORTS_DIR, finetuned_dir
    from corpus.progress import working
    from corpus.report_set import report_set
    from harness.arms import parse_arms
    from harness.evaluate import evaluate
    from harness.retrieval_report import write_reports
    from rag.report_page import write_page

    arms = parse_arms(cfg.arms, finetuned_dir(dataset_dir(cfg.data)))
    out = check_output_dir(cfg.out or REPORTS_DIR)
    ds = open_dataset(cfg.data)
    pools, pool_file = _pools(cfg, ds)
    result = evaluate(ds, pools, arms, cfg, pool_file=pool_file)
    with working("writing reports"), report_set(out, "retrieval") as staging:
        staged = write_reports(result, staging)
    # staging paths vanish on publishing: name each file by its fixed link in the report folder
    written = {name: out / path.relative_to(staging) for name, path in staged.items()}
    # the review page reads every published set (step 4's too, when it ran): written last, over the largest pool
    written["page"] = write_page(out, max(pools, key=lambda p: p[0])[1])
    figures = [
        Figure(p.pool.size, r["arm"], r["metric"], int(r["k"]), float(r["value"]))
        for p in result.pools
        for r in p.metric_rows
        if r["kind"] == "arm"
    ]
    return EvalStepResult(out, written, figures, result)


def show(result: EvalStepResult) -> None:
    """The headline per arm on the largest pool (or, with --full-table, every metric at every cut-off per pool);
    the rest is in the reports, and the review page is named last."""
    from corpus.console import console
    from harness.retrieval_report import headline_table, results_table, size_lines

    ev = result.evaluation
    page = result.out / "index.html"
    if ev.config.full_table:
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
