"""Step 4's answer evidence written down: the headline sentences, per-arm means and per-pair differences with
CIs and p-values, judge agreement, the join table (rag_answer_join.csv) and its picture (rag_answer_join.png).
Pure formatting of an `AnswerEvaluation`: nothing is computed here.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from corpus.jsonl import temp_sibling
from rag.answer_evaluation import AnswerEvaluation
from rag.answer_statistics import ANSWER, RETRIEVAL, join_rows

JOIN_CSV = "rag_answer_join.csv"
JOIN_PNG = "rag_answer_join.png"
# below this many queries a reader is told plainly that the intervals are wide
FEW_QUERIES = 50


def _num(x: float) -> str:
    return "" if x is None or math.isnan(x) else f"{x:.3f}"


def _p(p: float) -> str:
    return "" if math.isnan(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def _headline_lines(ev: AnswerEvaluation) -> list[str]:
    lines = ["## Did the retrieval gain reach the answers?", ""]
    lines += [f"- {s}" for s in ev.headline()] or ["- (no deterministic answer metric for this data)"]
    lines.append("")
    if ev.queries < FEW_QUERIES:
        lines += [
            (
                f"Only {ev.queries} queries: the intervals below are wide, and a difference whose interval "
                "crosses 0 is not evidence either way. Answer more queries (`--limit 0`) against a faster "
                "endpoint for a conclusion."
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
