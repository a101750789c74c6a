"""The comparison's outputs: the per-query report CSV, a tidy summary (CSV + Markdown) with 95% bootstrap CIs (Wilson for
the hit rate), a picture."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from harness.outcomes import VERDICTS
from rag.answer_comparison import report_columns

REPORT_CSV = "rag_compare_report.csv"
SUMMARY_CSV = "rag_compare_summary.csv"
SUMMARY_MD = "rag_compare_summary.md"
PLOT_PNG = "rag_compare.png"
CARD_JSON = "rag_compare_card.json"
SUMMARY_COLUMNS = ["arm", "metric", "n", "value", "ci_low", "ci_high", "missing"]
# the same interval family and defaults as step 3 (harness.bootstrap; --bootstrap 10000, --confidence 0.95, seed 13)
BOOTSTRAP_SAMPLES = 10_000
CONFIDENCE = 0.95
BOOTSTRAP_SEED = 13


def report_arms(df: pd.DataFrame) -> list[str]:
    """The arms of a report, in its column order."""
    return [c.removesuffix("_answer") for c in df.columns if c.endswith("_answer")]


def write_report(rows: list[dict], judged: bool, out_dir: Path, arms: list[str]) -> tuple[Path, pd.DataFrame]:
    df = pd.DataFrame(rows, columns=report_columns(judged, arms))
    # ranks are integers with gaps (not found within the search depth): keep them integers, not floats
    for arm in arms:
        df[f"{arm}_rank"] = df[f"{arm}_rank"].astype("Int64")
    path = Path(out_dir) / REPORT_CSV
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path, df


def _mean_ci(values: pd.Series) -> tuple[int, float, float, float]:
    """(n, mean, low, high) over the non-missing values: the percentile bootstrap over queries of step 3
    (harness.bootstrap), seeded; no CI below two values. Pass finetuned - base per query for a paired difference."""
    from harness.bootstrap import bootstrap_ci

    v = pd.to_numeric(values, errors="coerce").dropna().astype(float).to_numpy()
    n = len(v)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    if n < 2:
        return n, float(v.mean()), math.nan, math.nan
    ci = bootstrap_ci(v, BOOTSTRAP_SAMPLES, CONFIDENCE, BOOTSTRAP_SEED)
    return n, float(ci.value), float(ci.low), float(ci.high)


def _wilson(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson interval for the context hit rate. The one exception to the bootstrap family, on purpose: a
    percentile bootstrap of a proportion on a handful of queries that all hit (or all miss) collapses to [1, 1]
    ([0, 0]), claiming certainty five queries cannot give; Wilson's interval stays honest near 0 and 1."""
    if n == 0:
        return math.nan, math.nan
    z = 1.959963984540054
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def summarise(df: pd.DataFrame, judged: bool) -> pd.DataFrame:
    """One tidy table: per arm context and cost averages with their counts and 95% CIs, and the verdict counts
    (the answer metrics' means and paired differences are `evidence_rows`)."""
    out = []

    def add(arm, metric, n, value, lo=math.nan, hi=math.nan, missing=0):
        # a bootstrap interval stays inside the values' range already; clipping keeps the bounds explicit
        if not metric.endswith("_diff") and not math.isnan(lo):
            lo = max(lo, 1.0 if metric == "first_relevant_rank" else 0.0)
        if metric in ("mrr", "context_hit_rate", "faithfulness", "correctness") and not math.isnan(hi):
            hi = min(hi, 1.0)
        out.append(
            {"arm": arm, "metric": metric, "n": n, "value": value, "ci_low": lo, "ci_high": hi, "missing": missing}
        )

    total = len(df)
    for arm in report_arms(df):
        if df[f"{arm}_context_ids"].notna().any():  # closed book has no context to rate
            hits = int(df[f"{arm}_context_hit"].astype(bool).sum())
            add(arm, "context_hit_rate", total, hits / total if total else math.nan, *_wilson(hits, total))
            ranks = df[f"{arm}_rank"]
            rr = 1.0 / pd.to_numeric(ranks, errors="coerce").astype(float)
            add(arm, "mrr", total, *_mean_ci(rr.fillna(0.0))[1:])
            n, m, lo, hi = _mean_ci(ranks)
            add(arm, "first_relevant_rank", n, m, lo, hi, missing=total - n)
        for metric in ("prompt_tokens", "context_tokens", "answer_tokens", "latency_s"):
            n, m, lo, hi = _mean_ci(df[f"{arm}_{metric}"])
            add(arm, metric, n, m, lo, hi, missing=total - n)
    counts = df["verdict"].value_counts()
    for v in VERDICTS:
        add("paired", f"verdict_{v}", total, int(counts.get(v, 0)))
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def evidence_rows(ev) -> pd.DataFrame:
    """The answer metrics of a rag.answer_evaluation.AnswerEvaluation as summary rows: each arm's mean, and each
    pair's paired difference as arm 'later-earlier', metric '<metric>_diff' (its p-value in `p_value`)."""
    rows = [
        {"arm": m.arm, "metric": m.metric, "n": m.n, "value": m.value, "ci_low": m.low, "ci_high": m.high,
         "missing": m.missing, "p_value": math.nan}
        for m in ev.means
    ] + [
        {"arm": f"{d.later}-{d.earlier}", "metric": f"{d.metric}_diff", "n": d.n, "value": d.value, "ci_low": d.low,
         "ci_high": d.high, "missing": ev.queries - d.n, "p_value": d.p_value}
        for d in ev.deltas
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, "p_value"])


def _fmt(x) -> str:
    if isinstance(x, float):
        return "" if math.isnan(x) else f"{x:.3g}"
    return str(x)


def summary_markdown(summary: pd.DataFrame, card: dict, evidence: str = "") -> str:
    """The answer evidence (`rag.answer_evidence_report.evidence_markdown`) leads; the context and cost table
    follows."""
    arms = ", ".join(a.split("=")[0] for a in card.get("arms", [])) or "base, finetuned"
    lines = [
        "# RAG comparison: " + arms,
        "",
        f"LLM: `{card['llm'].get('model', '')}` at `{card['llm'].get('base_url', '')}`; "
        f"top-k {card['top_k']}, max tokens {card['max_tokens']}, queries: {card.get('queries', '')} "
        f"({card['split']} split).",
        "",
        evidence,
        "## Contexts and cost per arm",
        "",
        "Means with 95% percentile-bootstrap intervals over queries, as step 3 (context hit rate: Wilson); `n` counts "
        "the values averaged, `missing` those left out (not found within the search depth, or not measured).",
        "",
        "| " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|" + "---|" * len(SUMMARY_COLUMNS),
    ]
    for rec in summary.to_dict("records"):
        lines.append("| " + " | ".join(_fmt(rec[c]) for c in SUMMARY_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def plot(df: pd.DataFrame, judged: bool, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = report_arms(df)
    ranked = [a for a in arms if df[f"{a}_rank"].notna().any() or df[f"{a}_context_ids"].notna().any()]
    panels = 3 if judged else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4))
    counts = df["verdict"].value_counts().reindex(VERDICTS, fill_value=0)
    axes[0].bar(counts.index, counts.values, color=["tab:green", "tab:red", "tab:blue", "tab:gray"])
    axes[0].set_title(f"verdicts over {len(df)} queries (context hit)")
    axes[0].set_ylabel("queries")
    buckets = ["1", "2", "3", "4–10", "11–100", "not in top 100"]
    width = 0.8 / max(len(ranked), 1)
    for a, arm in enumerate(ranked):
        ranks = pd.to_numeric(df[f"{arm}_rank"], errors="coerce")
        cut = pd.cut(ranks.fillna(1000), [0, 1, 2, 3, 10, 100, float("inf")], labels=buckets)
        vc = cut.value_counts().reindex(buckets, fill_value=0)
        axes[1].bar([x + (a - (len(ranked) - 1) / 2) * width for x in range(len(buckets))], vc.values, width, label=arm)
    axes[1].set_xticks(range(len(buckets)), buckets, fontsize=8)
    axes[1].set_title("rank of the first relevant document")
    axes[1].legend(fontsize=7)
    for ax in axes[:2]:
        ax.yaxis.get_major_locator().set_params(integer=True)  # counts of queries
    if judged:
        width = 0.8 / max(len(arms), 1)
        for a, arm in enumerate(arms):
            means = [pd.to_numeric(df[f"{arm}_{m}"], errors="coerce").mean() for m in ("faithfulness", "correctness")]
            axes[2].bar([x + (a - (len(arms) - 1) / 2) * width for x in range(2)], means, width, label=arm)
        axes[2].set_xticks(range(2), ["faithfulness", "correctness"])
        axes[2].set_ylim(0, 1)
        axes[2].set_title("judge scores (mean, 0–1)")
        axes[2].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summary_table(summary: pd.DataFrame):
    from rich.table import Table

    arms = list(dict.fromkeys(r["arm"] for r in summary.to_dict("records") if not r["metric"].endswith("_diff")))
    arms = [a for a in arms if a != "paired"]
    paired = "paired"
    t = Table(title="RAG comparison (95% CI)")
    for c in ("metric", *arms, paired):
        t.add_column(c, justify="left" if c == "metric" else "right")
    rows: dict[str, dict[str, str]] = {}
    for rec in summary.to_dict("records"):
        if rec["metric"].endswith("_diff"):
            continue  # the pairs are in the summary Markdown
        ci = "" if math.isnan(rec["ci_low"]) else f" [{_fmt(rec['ci_low'])}, {_fmt(rec['ci_high'])}]"
        value = _fmt(rec["value"]) if not isinstance(rec["value"], float) else f"{rec['value']:.3g}"
        col = rec["arm"] if rec["arm"] in arms else paired
        rows.setdefault(rec["metric"], {})[col] = f"{value}{ci} (n={rec['n']})"
    for metric, cells in rows.items():
        t.add_row(metric, *(cells.get(c, "") for c in (*arms, paired)))
    return t
