"""Step 4's outputs, in one place: the per-query report CSV (one row per query, each arm's columns side by side), a
tidy summary (CSV + Markdown) with 95% bootstrap CIs (Wilson for the hit rate), the answer evidence (headline
sentences, per-arm means and per-pair differences with CIs and p-values, judge agreement), the retrieval × answer
join (rag_answer_join.csv and its picture) and the pictures. Pure formatting: nothing is computed here that
rag.answer_evaluation did not."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from corpus.jsonl import temp_sibling
from harness.outcomes import VERDICTS, verdict
from rag.answer_comparison import ARMS, Arm, ArmContext, ArmResult, Query
from rag.answer_evaluation import AnswerEvaluation
from rag.answer_statistics import ANSWER, RETRIEVAL, join_rows

REPORT_CSV = "rag_compare_report.csv"
SUMMARY_CSV = "rag_compare_summary.csv"
SUMMARY_MD = "rag_compare_summary.md"
PLOT_PNG = "rag_compare.png"
CARD_JSON = "rag_compare_card.json"
JOIN_CSV = "rag_answer_join.csv"
JOIN_PNG = "rag_answer_join.png"
# below this many queries a reader is told plainly that the intervals are wide
FEW_QUERIES = 50
SUMMARY_COLUMNS = ["arm", "metric", "n", "value", "ci_low", "ci_high", "missing"]
# the same interval family and defaults as step 3 (harness.bootstrap; --bootstrap 10000, --confidence 0.95, seed 13)
BOOTSTRAP_SAMPLES = 10_000
CONFIDENCE = 0.95
BOOTSTRAP_SEED = 13


# per-arm columns, grouped so that each group's arms sit side by side
CONTEXT_GROUPS = ("rank", "context_ids", "answer", "context_hit")
CORRECTNESS_FIELDS = ("correct", "f1", "names_wrong")
ANSWER_METRICS = (
    "prompt_tokens",
    "context_tokens",
    "context_chars",
    "answer_tokens",
    "latency_s",
    "finish_reason",
    "cached",
)
# the mean over judge repeats per answer (the repeats themselves are in the summary's statistics)
JUDGE_FIELDS = ("faithfulness", "correctness")


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def verdict_arms(arms: Sequence[Arm]) -> tuple[str, str]:
    """The pair the verdict column compares: the first two retriever arms (the first with itself if alone)."""
    retrievers = [a.name for a in arms if not a.is_bracket] or [a.name for a in arms]
    return retrievers[0], retrievers[min(1, len(retrievers) - 1)]


def build_rows(
    queries: list[Query],
    contexts: dict[Arm, list[ArmContext]],
    results: dict[tuple[int, str], ArmResult],
    scores: dict[str, list],
    judged: bool,
    top_k: int,
) -> list[dict]:
    """One row per query; the verdict is harness.outcomes' fixed/regressed at k = top_k (the prompt's passages)
    between the first two retriever arms; `scores[arm]` are rag.answer_metrics.AnswerScore in query order."""
    names = [a.name for a in contexts]
    ctx_by_name = {a.name: c for a, c in contexts.items()}
    first, second = verdict_arms(list(contexts))
    rows = []
    for i, q in enumerate(queries):
        row = {"query_id": q.id, "query": q.text, "relevant_ids": ";".join(sorted(q.relevant))}
        for name in names:
            ctx, res, score = ctx_by_name[name][i], results[(i, name)], scores[name][i]
            row[f"{name}_rank"] = ctx.rank
            row[f"{name}_context_ids"] = ";".join(ctx.ids)
            row[f"{name}_answer"] = res.answer.answer
            row[f"{name}_context_hit"] = ctx.hit
            row[f"{name}_correct"] = score.correct
            row[f"{name}_f1"] = score.f1
            row[f"{name}_names_wrong"] = score.names_wrong
            row.update({f"{name}_{m}": res.fields[m] for m in ANSWER_METRICS})
            if judged:
                row[f"{name}_faithfulness"] = _mean(res.judged.faithfulness)
                row[f"{name}_correctness"] = _mean(res.judged.correctness)
        row["verdict"] = verdict(ctx_by_name[first][i].rank, ctx_by_name[second][i].rank, top_k)
        rows.append(row)
    return rows


def report_columns(judged: bool, arms: Sequence[str] = ARMS) -> list[str]:
    cols = ["query_id", "query", "relevant_ids"]
    for group in CONTEXT_GROUPS + CORRECTNESS_FIELDS:
        cols += [f"{arm}_{group}" for arm in arms]
    cols.append("verdict")
    for metric in ANSWER_METRICS + (JUDGE_FIELDS if judged else ()):
        cols += [f"{arm}_{metric}" for arm in arms]
    return cols


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


def design_lines(ev) -> list[str]:
    """The split-wide estimates of the stratified design, and what the run could detect, as sentences."""
    d = getattr(ev, "design", None)
    if d is None:
        return []
    lines = []
    for arm, e in d.arms.items():
        lines.append(
            f"{arm}: correct {e.value:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}] for the whole split "
            f"(from {e.n} answered queries, {e.covered:.0%} of the split in strata with an answer)"
        )
    for (a, b), e in d.differences.items():
        det = d.detectable[(a, b)]
        verdict = "differs" if e.ci_low > 0 or e.ci_high < 0 else "cannot tell apart"
        more = (
            f"; a difference of {det.effect:.2f} would need about {det.queries_needed:,} answered queries"
            if det.effect is not None and det.queries_needed is not None and det.queries_needed > det.n
            else ""
        )
        lines.append(
            f"{b} − {a}: {e.value:+.3f} [{e.ci_low:+.3f}, {e.ci_high:+.3f}] ({verdict}); the smallest difference "
            f"this run could detect (80% power, {det.confidence:.0%} confidence) is {det.mde:.3f}{more}"
        )
    return lines


def design_rows(ev) -> pd.DataFrame:
    """The split-wide estimates as summary rows: metric 'correct_split' per arm, 'correct_split_diff' per pair
    (b-a) with its minimum detectable difference in 'mde'."""
    d = getattr(ev, "design", None)
    rows = []
    if d is not None:
        for arm, e in d.arms.items():
            rows.append({"arm": arm, "metric": "correct_split", "n": e.n, "value": e.value, "ci_low": e.ci_low,
                         "ci_high": e.ci_high, "missing": 0, "mde": math.nan})  # fmt: skip
        for (a, b), e in d.differences.items():
            rows.append({"arm": f"{b}-{a}", "metric": "correct_split_diff", "n": e.n, "value": e.value,
                         "ci_low": e.ci_low, "ci_high": e.ci_high, "missing": 0,
                         "mde": d.detectable[(a, b)].mde})  # fmt: skip
    return pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, "mde"])


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
    """The answer evidence (`evidence_markdown`) leads; the context and cost table
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


# what the console shows per arm, in this order, when the run has it; tokens and seconds stay in the CSV
CONSOLE_METRICS = ("correct", "f1", "names_wrong", "correctness", "faithfulness", "context_hit_rate")


def _interval(rec: dict) -> str:
    ci = "" if math.isnan(rec["ci_low"]) else f" [{rec['ci_low']:.2f}, {rec['ci_high']:.2f}]"
    return f"{rec['value']:.2f}{ci}"


def summary_table(summary: pd.DataFrame):
    """Per arm what the answers got right (with intervals), then each arm's paired difference against the first
    arm with its p-value: the lines a reviewer reads first. Cost and the full grid are in the summary files."""
    from rich.table import Table

    records = summary.to_dict("records")
    arms = list(dict.fromkeys(r["arm"] for r in records if not r["metric"].endswith("_diff") and r["arm"] != "paired"))
    shown = [m for m in CONSOLE_METRICS if any(r["metric"] == m for r in records)]
    value = {(r["arm"], r["metric"]): r for r in records}
    t = Table(title=f"RAG comparison: answers per arm ({CONFIDENCE:.0%} CI)")
    t.add_column("arm")
    for m in shown:
        t.add_column(m.replace("_", " "), justify="right")
    answer_metric = next((m for m in ("correct", "correctness", "f1") if m in shown), None)
    if answer_metric:
        t.add_column(f"Δ {answer_metric} vs {arms[0]}", justify="right")
        t.add_column("p", justify="right")
    for arm in arms:
        cells = [_interval(value[(arm, m)]) if (arm, m) in value else "" for m in shown]
        if answer_metric:
            d = value.get((f"{arm}-{arms[0]}", f"{answer_metric}_diff"))
            cells += [_interval(d), _p(d["p_value"])] if d else ["", ""]
        t.add_row(arm, *cells)
    return t


def _num(x: float) -> str:
    return "" if x is None or math.isnan(x) else f"{x:.3f}"


def _p(p: float) -> str:
    return "" if math.isnan(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def _headline_lines(ev: AnswerEvaluation) -> list[str]:
    lines = ["## Did the retrieval gain reach the answers?", ""]
    lines += [f"- {s}" for s in ev.headline()] or ["- (no deterministic answer metric for this data)"]
    lines.append("")
    design = design_lines(ev)
    if design:
        lines += [
            "The answered queries are a stratified sample of the split (more of them where the arms' retrieval "
            "differs); weighted back, they estimate the whole split:",
            "",
            *[f"- {s}" for s in design],
            "",
        ]
    if ev.queries < FEW_QUERIES:
        lines += [
            (
                f"Only {ev.queries} queries answered: the per-sample intervals below are wide, and a difference whose "
                "interval crosses 0 is not evidence either way. `--budget MINUTES` plans a run that can detect a "
                "given difference; `--limit 0` answers every query."
            ),
            "",
        ]
    return lines


def _interval_tables(ev: AnswerEvaluation, confidence: float, samples: int) -> list[str]:
    """The means and the paired differences, each with its interval."""
    lines = [
        (
            f"Means with {confidence:.0%} bootstrap intervals over queries (and judge repeats within queries); "
            f"differences are paired by query, p-values from a paired randomization (sign-flip) test, "
            f"{samples:,} resamples, two-sided, not corrected for multiple comparisons."
        ),
        "",
        "| arm | metric | n | missing | mean | CI |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {m.arm} | {m.metric} | {m.n} | {m.missing} | {_num(m.value)} | [{_num(m.low)}, {_num(m.high)}] |"
        for m in ev.means
    ]
    lines += ["", "| later − earlier | metric | n | Δ | CI | p |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {d.later} − {d.earlier} | {d.metric} | {d.n} | {_num(d.value)} | [{_num(d.low)}, {_num(d.high)}] "
        f"| {_p(d.p_value)} |"
        for d in ev.deltas
    ]
    return lines


def _agreement_lines(ev: AnswerEvaluation) -> list[str]:
    if not (ev.judge_agreement or ev.inter_judge):
        return []
    lines = ["", "Judge agreement (Krippendorff's alpha, interval; 1 = perfect, 0 = chance):", ""]
    lines += [
        f"- {metric} across {a.coders} repeats: alpha {_num(a.alpha)} over {a.units} answers; all repeats "
        f"equal on {a.exact:.0%}; mean spread (sd) {_num(a.mean_sd)}; {a.missing} calls missing"
        for metric, a in ev.judge_agreement.items()
    ]
    lines += [
        f"- {metric}, judge 1 vs judge 2: alpha {_num(a.alpha)} over {a.units} answers"
        for metric, a in ev.inter_judge.items()
    ]
    return lines


def _join_tables(ev: AnswerEvaluation) -> list[str]:
    lines = [
        "",
        (
            "Retrieval × answer per pair (rows: retrieval fixed / regressed / unchanged within the top k; "
            "columns: the answer improved / worsened / unchanged / missing):"
        ),
        "",
    ]
    for t in ev.joins:
        lines += [
            f"**{t.later} vs {t.earlier}, {t.metric}**",
            "",
            "| retrieval | " + " | ".join(ANSWER) + " |",
            "|---|" + "---|" * len(ANSWER),
        ]
        lines += [f"| {r} | " + " | ".join(str(t.counts[r][a]) for a in ANSWER) + " |" for r in RETRIEVAL]
        lines.append("")
    return lines


def evidence_markdown(ev: AnswerEvaluation, confidence: float = 0.95, samples: int = 10_000) -> str:
    lines = _headline_lines(ev) + _interval_tables(ev, confidence, samples) + _agreement_lines(ev) + _join_tables(ev)
    return "\n".join(lines) + "\n"


def write_join_csv(ev: AnswerEvaluation, folder: Path) -> Path:
    path = Path(folder) / JOIN_CSV
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    pd.DataFrame(join_rows(ev.joins), columns=["earlier", "later", "metric", "k", "retrieval", *ANSWER]).to_csv(
        tmp, index=False
    )
    tmp.replace(path)
    return path


def plot_join(ev: AnswerEvaluation, folder: Path, metric: str = "correct") -> Path | None:
    """One panel per pair: for each retrieval outcome, how the answers moved (stacked bars of queries)."""
    tables = [t for t in ev.joins if t.metric == metric] or ev.joins
    if not tables:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"improved": "tab:green", "worsened": "tab:red", "unchanged": "tab:gray", "missing": "lightgray"}
    fig, axes = plt.subplots(1, len(tables), figsize=(4.5 * len(tables), 3.8), squeeze=False)
    for ax, t in zip(axes[0], tables):
        bottom = [0] * len(RETRIEVAL)
        for a in ANSWER:
            heights = [t.counts[r][a] for r in RETRIEVAL]
            ax.bar(RETRIEVAL, heights, bottom=bottom, color=colours[a], label=f"answer {a}")
            bottom = [b + h for b, h in zip(bottom, heights)]
        ax.set_title(f"{t.later} vs {t.earlier}: {t.metric}", fontsize=10)
        ax.set_xlabel(f"retrieval (top {t.k})")
        ax.set_ylabel("queries")
        ax.yaxis.get_major_locator().set_params(integer=True)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    path = Path(folder) / JOIN_PNG
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path, ".png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
