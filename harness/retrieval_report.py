"""Everything an evaluation leaves behind: tidy CSVs, TREC run files, a markdown summary, plots, the run card
and the rich table printed at the end. Pure formatting: no figure is computed here that evaluate did not.
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import pandas as pd
from rich.table import Table

from corpus.jsonl import write_json
from harness.evaluate import ArmRun, EvalResult, PoolResult
from harness.metrics import METRICS

LABELS = {"hit": "Hit", "precision": "P", "recall": "Recall", "mrr": "MRR", "ndcg": "nDCG", "map": "MAP"}
FILES = {
    "metrics": "retrieval_metrics.csv",
    "per_query": "retrieval_per_query.csv",
    "outcomes": "retrieval_outcomes.csv",
    "speed": "retrieval_speed.csv",
    "summary": "retrieval_summary.md",
    "card": "retrieval_card.json",
    "hit_plot": "hit_at_k.png",
    "size_plot": "metric_vs_size.png",
    "runs": "runs",
}


def metrics_frame(result: EvalResult) -> pd.DataFrame:
    rows = [{"size": p.pool.size, **r, "n_queries": len(result.query_ids)} for p in result.pools for r in p.metric_rows]
    return pd.DataFrame(
        rows,
        columns=[
            "size",
            "kind",
            "arm",
            "baseline",
            "metric",
            "k",
            "value",
            "ci_low",
            "ci_high",
            "p_value",
            "n_queries",
        ],
    )


def outcomes_frame(result: EvalResult) -> pd.DataFrame:
    return pd.DataFrame(
        [{"size": p.pool.size, **r} for p in result.pools for r in p.outcome_rows],
        columns=["size", "baseline", "arm", "k", "fixed", "regressed", "unchanged"],
    )


def _top(run: ArmRun, result: EvalResult, col: int) -> list:
    if run.ranked.shape[1] <= col:
        return [""] * len(run.ranked)
    ids = np.asarray(result.doc_ids, dtype=object)
    idx = run.ranked[:, col]
    return np.where(idx >= 0, ids[np.clip(idx, 0, None)], "").tolist()


def per_query_frame(result: EvalResult) -> pd.DataFrame:
    ks = result.config.k
    n_rel = np.array([sum(g > 0 for g in result.qrels[q].values()) for q in result.query_ids])
    frames = []
    for p in result.pools:
        docs = set(p.pool.doc_ids)
        in_pool = np.array([sum(d in docs for d, g in result.qrels[q].items() if g > 0) for q in result.query_ids])
        for run in p.arms:
            rows = np.arange(len(result.query_ids))
            first = run.first_rank
            found = first > 0
            col = np.clip(first - 1, 0, None)
            ids = np.asarray(result.doc_ids, dtype=object)
            frame = pd.DataFrame(
                {
                    "size": p.pool.size,
                    "arm": run.name,
                    "query_id": result.query_ids,
                    "n_relevant": n_rel,
                    "n_relevant_in_pool": in_pool,
                    "first_relevant_rank": pd.array(np.where(found, first, 0), dtype="Int64"),
                    "first_relevant_score": np.where(
                        found, run.scores[rows, col] if run.scores.size else np.nan, np.nan
                    ),
                    "first_relevant_id": np.where(
                        found, ids[np.clip(run.ranked[rows, col], 0, None)] if run.ranked.size else "", ""
                    ),
                    "top1_id": _top(run, result, 0),
                    "top2_id": _top(run, result, 1),
                    "top3_id": _top(run, result, 2),
                    "top1_score": run.scores[:, 0] if run.scores.shape[1] else np.nan,
                }
            )
            frame.loc[~found, "first_relevant_rank"] = pd.NA
            for m in METRICS:
                for j, k in enumerate(ks):
                    frame[f"{m}@{k}"] = run.values[m][:, j]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def speed_frame(result: EvalResult) -> pd.DataFrame:
    rows = []
    for p in result.pools:
        for run in p.arms:
            lat = run.latency_ms
            rows.append(
                {
                    "size": p.pool.size,
                    "arm": run.name,
                    "kind": run.kind,
                    "docs": len(p.pool.doc_ids),
                    "queries": len(result.query_ids),
                    "index": result.config.search_kind if run.kind == "dense" else run.kind,
                    "encode_seconds": run.encode_seconds,
                    "docs_per_second": run.docs_per_second,
                    "cached": run.cached,
                    "latency_queries": len(lat),
                    "latency_mean_ms": float(np.mean(lat)) if len(lat) else np.nan,
                    "latency_p50_ms": float(np.percentile(lat, 50)) if len(lat) else np.nan,
                    "latency_p95_ms": float(np.percentile(lat, 95)) if len(lat) else np.nan,
                    "ann_recall_at_10": run.ann_recall,
                    "training_minutes": run.training_minutes,
                    "note": run.note,
                }
            )
    return pd.DataFrame(rows)


def trec_lines(run: ArmRun, result: EvalResult, tag: str) -> list[str]:
    ids = result.doc_ids
    lines = []
    for qid, idx_row, score_row in zip(result.query_ids, run.ranked, run.scores, strict=False):
        rank = 0
        for j, s in zip(idx_row, score_row, strict=False):
            if j < 0:
                continue
            rank += 1
            lines.append(f"{qid} Q0 {ids[j]} {rank} {float(s):.6f} {tag}")
    return lines


def write_trec(result: EvalResult, folder: Path) -> list[Path]:
    """One run per arm (and pool), `qid Q0 docid rank score tag`, plus the split's qrels in TREC form."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    several = len(result.pools) > 1
    for p in result.pools:
        for run in p.arms:
            tag = f"{run.name}.size{p.pool.size}" if several else run.name
            path = folder / f"{tag}.trec"
            path.write_text("\n".join(trec_lines(run, result, tag)) + "\n", encoding="utf-8")
            written.append(path)
    qrels = folder / f"qrels.{result.config.split}.txt"
    qrels.write_text(
        "".join(f"{q} 0 {d} {g}\n" for q in result.query_ids for d, g in result.qrels[q].items()), encoding="utf-8"
    )
    return written + [qrels]


def _arm_colour(i: int):
    import matplotlib.pyplot as plt

    return plt.get_cmap("tab10")(i % 10)


def plot_hit_at_k(metrics: pd.DataFrame, path: Path, size: int, confidence: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = metrics[(metrics["kind"] == "arm") & (metrics["metric"] == "hit") & (metrics["size"] == size)]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    _curves_with_bands(ax, rows, "k")
    ax.set_xscale("log")
    ks = sorted(rows["k"].unique())
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("k")
    ax.set_ylabel("Hit@k (share of queries)")
    ax.set_ylim(0, 1.02)
    ax.set_title(
        f"Hit@k over {size:,} documents, {int(rows['n_queries'].iloc[0]) if len(rows) else 0} queries "
        f"(bands: {confidence:.0%} bootstrap CI)",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _curves_with_bands(ax, rows: pd.DataFrame, x: str) -> None:
    """One line per arm with its own CI as a band (not the paired delta's: see the README's note)."""
    for i, (arm, g) in enumerate(rows.groupby("arm", sort=False)):
        g = g.sort_values(x)
        ax.plot(g[x], g["value"], marker="o", color=_arm_colour(i), label=arm)
        ax.fill_between(g[x], g["ci_low"], g["ci_high"], color=_arm_colour(i), alpha=0.2)


def plot_vs_size(metrics: pd.DataFrame, path: Path, confidence: float, panels=(("hit", 10), ("ndcg", 10))) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4))
    for ax, (metric, k) in zip(np.atleast_1d(axes), panels, strict=False):
        rows = metrics[(metrics["kind"] == "arm") & (metrics["metric"] == metric) & (metrics["k"] == k)]
        _curves_with_bands(ax, rows, "size")
        ax.set_xscale("log")
        sizes = sorted(rows["size"].unique())
        ax.set_xticks(sizes, [f"{s:,}" for s in sizes])
        ax.minorticks_off()
        ax.set_xlabel("documents in the pool")
        ax.set_ylabel(f"{LABELS[metric]}@{k}")
        ax.set_title(f"{LABELS[metric]}@{k} vs corpus size ({confidence:.0%} CI)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _fmt_delta(r) -> str:
    return f"{r['value']:+.3f} [{r['ci_low']:+.3f},{r['ci_high']:+.3f}]"


def _num(x: float, fmt: str) -> str:
    return format(x, fmt) if np.isfinite(x) else "-"


def _fmt_p(p: float) -> str:
    return f"{p:.4f}" if p >= 1e-4 else "<1e-4"


def _metric_rows(t: Table, result: EvalResult, metrics: pd.DataFrame, arms: list[str], deltas: list[str]) -> None:
    """Per metric and k: each arm's value, then each paired difference (green or red when its CI excludes 0)."""
    cfg = result.config
    for m in METRICS:
        for k in cfg.k:
            sel = metrics[(metrics["metric"] == m) & (metrics["k"] == k)]
            cells = [f"{sel[(sel['kind'] == 'arm') & (sel['arm'] == a)]['value'].iloc[0]:.3f}" for a in arms]
            for d in deltas:
                r = sel[(sel["kind"] == "delta") & (sel["arm"] == d)].iloc[0]
                style = "green" if r["ci_low"] > 0 else "red" if r["ci_high"] < 0 else ""
                cells += [f"[{style}]{_fmt_delta(r)}[/]" if style else _fmt_delta(r), _fmt_p(r["p_value"])]
            t.add_row(f"{LABELS[m]}@{k}", *cells, end_section=(k == cfg.k[-1]))


def _outcome_rows(t: Table, pr: PoolResult, arms: list[str], deltas: list[str]) -> None:
    for o in pr.outcome_rows:
        cells = [""] * len(arms)
        for d in deltas:
            cells += (
                [f"{o['fixed']} / {o['regressed']} / {o['unchanged']}", ""]
                if d == f"{o['arm']} - {o['baseline']}"
                else ["", ""]
            )
        t.add_row(f"fixed / regressed / unchanged (Hit@{o['k']})", *cells)


def _cost_rows(t: Table, result: EvalResult, pr: PoolResult, deltas: list[str]) -> None:
    """What each arm costs: latency, training time, encoding speed and, for an approximate index, its recall."""
    blank = [""] * (2 * len(deltas))
    lat = [
        f"{np.percentile(r.latency_ms, 50):.1f} / {np.percentile(r.latency_ms, 95):.1f}" if len(r.latency_ms) else "-"
        for r in pr.arms
    ]
    t.add_row("latency p50 / p95 (ms per query)", *lat, *blank)
    t.add_row("training minutes", *[f"{r.training_minutes:.1f}" for r in pr.arms], *blank)
    speed = [
        "cached" if r.cached else (f"{r.docs_per_second:,.0f}" if np.isfinite(r.docs_per_second) else "-")
        for r in pr.arms
    ]
    t.add_row("documents/s (encode or index)", *speed, *blank)
    if result.config.search_kind != "exact":
        t.add_row(
            "approximate recall@10 vs exact",
            *[f"{r.ann_recall:.3f}" if np.isfinite(r.ann_recall) else "-" for r in pr.arms],
            *blank,
        )


def results_table(result: EvalResult, pr: PoolResult) -> Table:
    cfg = result.config
    metrics = pd.DataFrame(pr.metric_rows)
    arms = [r.name for r in pr.arms]
    # the console shows each arm against the baseline (the first arm); every pair's Δ is in the CSV and summary,
    # since all pairs of 7 arms would be 42 columns
    deltas = [d for d in metrics[metrics["kind"] == "delta"]["arm"].unique() if d.endswith(f" - {arms[0]}")]
    t = Table(
        title=f"retrieval on {pr.pool.size:,} documents, {len(result.query_ids):,} '{cfg.split}' queries "
        f"({cfg.search_kind} search; Δ with {cfg.confidence:.0%} paired bootstrap CI, "
        f"randomization p)"
    )
    t.add_column("metric")
    for a in arms:
        t.add_column(a, justify="right")
    for d in deltas:
        t.add_column(f"Δ {d}", justify="right")
        t.add_column("p", justify="right")
    _metric_rows(t, result, metrics, arms, deltas)
    _outcome_rows(t, pr, arms, deltas)
    _cost_rows(t, result, pr, deltas)
    t.caption = (
        f"queries with no relevant document in the pool (scored as misses): {pr.unreachable}; "
        f"with only some: {pr.partial}"
        + ("; Δ of every pair of arms: retrieval_metrics.csv, retrieval_summary.md" if len(arms) > 2 else "")
    )
    return t


def headline_cutoffs(ks: list[int]) -> list[tuple[str, int]]:
    """The console's headline: Hit, MRR and nDCG at the cut-off closest to 10, and Recall at the largest cut-off
    (Hit@10, MRR@10, nDCG@10, Recall@100 with the default cut-offs)."""
    near10 = min(ks, key=lambda k: (abs(k - 10), k))
    return [("hit", near10), ("mrr", near10), ("ndcg", near10), ("recall", max(ks))]


def headline_table(result: EvalResult, pr: PoolResult) -> Table:
    """Step 3's console summary: per arm its headline metrics, with the paired Δ against the baseline (the first
    arm), its CI and p, and the fixed/regressed counts. Every metric at every cut-off and every pair of arms is in
    retrieval_metrics.csv and retrieval_summary.md (and `results_table`, behind step 3's --full-table)."""
    cfg = result.config
    metrics = pd.DataFrame(pr.metric_rows)
    arms = [r.name for r in pr.arms]
    base = arms[0]
    t = Table(
        title=f"retrieval on {pr.pool.size:,} documents, {len(result.query_ids):,} '{cfg.split}' queries: "
        f"each arm against {base}",
        caption=f"Δ: paired, {cfg.confidence:.0%} bootstrap CI; p: randomization test. "
        "Every metric, cut-off and pair: retrieval_metrics.csv",
    )
    for col, justify in (("arm", "left"), ("metric", "left"), ("value", "right"), (f"Δ vs {base}", "right")):
        t.add_column(col, justify=justify)
    t.add_column("p", justify="right")
    cuts = headline_cutoffs(cfg.k)
    arm_rows = metrics[metrics["kind"] == "arm"]
    for i, arm in enumerate(arms):
        for j, (m, k) in enumerate(cuts):
            sel = arm_rows[(arm_rows["arm"] == arm) & (arm_rows["metric"] == m) & (arm_rows["k"] == k)]
            delta = metrics[(metrics["kind"] == "delta") & (metrics["arm"] == f"{arm} - {base}")]
            delta = delta[(delta["metric"] == m) & (delta["k"] == k)]
            cells = ["", ""]
            if len(delta):
                r = delta.iloc[0]
                style = "green" if r["ci_low"] > 0 else "red" if r["ci_high"] < 0 else ""
                cells = [f"[{style}]{_fmt_delta(r)}[/]" if style else _fmt_delta(r), _fmt_p(r["p_value"])]
            last = j == len(cuts) - 1 and i == 0
            t.add_row(
                arm if j == 0 else "", f"{LABELS[m]}@{k}", f"{sel['value'].iloc[0]:.3f}", *cells, end_section=last
            )
        for o in pr.outcome_rows:
            if o["arm"] == arm and o["baseline"] == base:
                t.add_row(
                    "",
                    f"fixed / regressed (Hit@{o['k']})",
                    f"{o['fixed']} / {o['regressed']}",
                    "",
                    "",
                    end_section=True,
                )
    return t


def size_lines(result: EvalResult) -> list[str]:
    """With several pool sizes: each arm's MRR Δ against the baseline per size, one line per size."""
    if len(result.pools) < 2:
        return []
    _, (metric, k), *_ = headline_cutoffs(result.config.k)
    lines = []
    for pr in sorted(result.pools, key=lambda p: p.pool.size):
        base = pr.arms[0].name
        deltas = [
            f"{r['arm'].split(' - ')[0]} {r['value']:+.3f} [{r['ci_low']:+.3f},{r['ci_high']:+.3f}]"
            for r in pr.metric_rows
            if r["kind"] == "delta" and r["baseline"] == base and r["metric"] == metric and r["k"] == k
        ]
        lines.append(f"{pr.pool.size:>9,} documents: Δ {LABELS[metric]}@{k} vs {base}: " + ", ".join(deltas))
    return lines


def _header_lines(result: EvalResult) -> list[str]:
    cfg = result.config
    return [
        "# Retrieval evaluation",
        "",
        f"- dataset: `{result.data}` (fingerprint {result.dataset_fingerprint}), split `{cfg.split}`, "
        f"{len(result.query_ids):,} queries with at least one relevant document",
        f"- pool: `{result.pool_file or ('sizes ' + ','.join(map(str, cfg.sizes)) if cfg.sizes else 'whole corpus')}`"
        + "".join(f"; {p.pool.size:,} documents (fingerprint {p.pool.fingerprint})" for p in result.pools),
        f"- search: {cfg.search_kind}; bootstrap {cfg.bootstrap:,} resamples of queries, seed {cfg.seed}; "
        f"p-values from a paired randomization (sign-flip) test, two-sided, not corrected for the "
        f"{len(METRICS) * len(cfg.k)} metrics tested",
        "- arms: "
        + ", ".join(f"`{n}` = `{info['path']}` ({info['fingerprint']})" for n, info in result.models.items())
        + "".join(f", `{a.text}`" for a in result.arms if a.kind != "dense"),
        "",
    ]


def _metric_table(m: pd.DataFrame, arms: list[str], cfg) -> list[str]:
    deltas = m[m["kind"] == "delta"]["arm"].unique().tolist()
    header = ["metric", *arms, *[f"Δ {d} [{cfg.confidence:.0%} CI]" for d in deltas], *["p" for _ in deltas]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for metric in METRICS:
        for k in cfg.k:
            sel = m[(m["metric"] == metric) & (m["k"] == k)]
            vals = [f"{sel[(sel['kind'] == 'arm') & (sel['arm'] == a)]['value'].iloc[0]:.4f}" for a in arms]
            drows = [sel[(sel["kind"] == "delta") & (sel["arm"] == d)].iloc[0] for d in deltas]
            cells = [f"{LABELS[metric]}@{k}", *vals, *map(_fmt_delta, drows), *(_fmt_p(r["p_value"]) for r in drows)]
            lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def _outcome_lines(o: pd.DataFrame, fix_k: int) -> list[str]:
    if not len(o):
        return []
    lines = [
        f"Queries fixed / regressed / unchanged at Hit@{fix_k} (fixed: the baseline has no relevant "
        f"document in its top {fix_k} and the arm has; regressed: the reverse):",
        "",
    ]
    lines += [
        f"- `{r.arm}` vs `{r.baseline}`: {r.fixed} fixed, {r.regressed} regressed, {r.unchanged} unchanged"
        for r in o.itertuples()
    ]
    return lines + [""]


def _speed_table(s: pd.DataFrame) -> list[str]:
    lines = [
        "| arm | documents/s | cached | latency p50 ms | latency p95 ms | approx. recall@10 |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.arm} | {_num(r.docs_per_second, ',.0f')} | {r.cached} | {_num(r.latency_p50_ms, '.1f')} | "
        f"{_num(r.latency_p95_ms, '.1f')} | {_num(r.ann_recall_at_10, '.3f')} |"
        for r in s.itertuples()
    ]
    return lines + [""]


def summary_markdown(
    result: EvalResult, metrics: pd.DataFrame, outcomes: pd.DataFrame, speed: pd.DataFrame, written: dict[str, Path]
) -> str:
    cfg = result.config
    lines = _header_lines(result)
    for p in result.pools:
        lines += [
            f"## {p.pool.size:,} documents",
            "",
            f"Queries with no relevant document in the pool (kept, scored as misses): {p.unreachable}; "
            f"with only some of theirs: {p.partial}.",
            "",
        ]
        lines += _metric_table(metrics[metrics["size"] == p.pool.size], [r.name for r in p.arms], cfg)
        lines += _outcome_lines(outcomes[outcomes["size"] == p.pool.size], cfg.fix_k)
        lines += _speed_table(speed[speed["size"] == p.pool.size])
    lines += ["## Files", ""] + [f"- `{path.name}`" for path in written.values()]
    return "\n".join(lines) + "\n"


def write_reports(result: EvalResult, out: Path) -> dict[str, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics, outcomes = metrics_frame(result), outcomes_frame(result)
    speed, per_query = speed_frame(result), per_query_frame(result)
    written = {name: out / FILES[name] for name in ("metrics", "per_query", "outcomes", "speed")}
    metrics.to_csv(written["metrics"], index=False)
    per_query.to_csv(written["per_query"], index=False)
    outcomes.to_csv(written["outcomes"], index=False)
    speed.to_csv(written["speed"], index=False)
    write_trec(result, out / FILES["runs"])
    written["runs"] = out / FILES["runs"]
    largest = max(p.pool.size for p in result.pools)
    written["hit_plot"] = out / FILES["hit_plot"]
    plot_hit_at_k(metrics, written["hit_plot"], largest, result.config.confidence)
    if len(result.pools) > 1:
        written["size_plot"] = out / FILES["size_plot"]
        plot_vs_size(metrics, written["size_plot"], result.config.confidence)
    written["card"] = out / FILES["card"]
    written["summary"] = out / FILES["summary"]
    write_json(written["card"], card(result))
    written["summary"].write_text(summary_markdown(result, metrics, outcomes, speed, written), encoding="utf-8")
    return written


def card(result: EvalResult) -> dict:
    import faiss
    import sentence_transformers
    import torch

    return {
        "stage": "3_eval_retrieval",
        "config": result.config.as_dict(),
        "data": result.data,
        "arms": [a.text for a in result.arms],
        "pool_file": result.pool_file,
        "fitted": result.fitted,
        "dataset_fingerprint": result.dataset_fingerprint,
        "pools": [
            {
                "size": p.pool.size,
                "fingerprint": p.pool.fingerprint,
                "unreachable_queries": p.unreachable,
                "partially_reachable_queries": p.partial,
            }
            for p in result.pools
        ],
        "queries": len(result.query_ids),
        "models": result.models,
        "embedding_cache": result.cache,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sentence_transformers": sentence_transformers.__version__,
            "faiss": faiss.__version__,
            "numpy": np.__version__,
        },
    }
