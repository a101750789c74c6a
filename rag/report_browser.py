"""Reading what scripts 3 and 4 left in reports/ for the chatbot's report tab: the review page (reports/index.html,
built afresh from the files there), every CSV as a table, the RAG comparison filtered by verdict with one query
opened in full. A missing or unreadable file becomes a message, never an error page."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from corpus.beir import Document, document_text
from harness.outcomes import VERDICTS
from rag.answer_report import REPORT_CSV, report_arms
from rag.report_page import build_page

# tall enough to read the headline, a chart and a screen of the query table without scrolling the outer page
PAGE_FRAME_HEIGHT = "82vh"

ALL = "all"
# what the table shows of the comparison report, then each arm's rank and correctness; the rest is in the opened row
BRIEF_COLUMNS = ["query", "verdict"]
ARM_BRIEF = ("rank", "correct")


def report_tables(folder: Path) -> list[str]:
    """CSV files in the reports folder, the RAG comparison first."""
    folder = Path(folder)
    names = sorted(p.name for p in folder.glob("*.csv")) if folder.is_dir() else []
    return sorted(names, key=lambda n: (n != REPORT_CSV, n))


def page_frame(folder: Path, docs: dict[str, Document] | None = None) -> str:
    """The review page in an iframe (srcdoc: Gradio serves .html files only as downloads), or a message."""
    folder = Path(folder)
    if not folder.is_dir() or not any(folder.glob("*.csv")):
        return (
            f"<p>No reports in <code>{html.escape(str(folder))}</code> yet: run <code>3_eval_retrieval.py</code> "
            "and <code>4_rag_compare.py</code> (or <code>make demo</code>), then press Reload.</p>"
        )
    page = build_page(folder, docs)
    # braces and dollars as entities too, so no template syntax of the hosting page can touch the content
    srcdoc = html.escape(page, quote=True).replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")
    return (
        f'<iframe id="report-page" title="ragtune report" srcdoc="{srcdoc}" '
        f'style="width:100%;height:{PAGE_FRAME_HEIGHT};border:1px solid #ddd;border-radius:6px;background:#fff">'
        "</iframe>"
    )


def read_table(folder: Path, name: str | None) -> tuple[pd.DataFrame | None, str]:
    """(table, message); the message says what is missing or wrong when there is no table."""
    folder = Path(folder)
    if not name:
        return None, (
            f"No reports in `{folder}` yet: run `3_eval_retrieval.py` and `4_rag_compare.py` "
            "(or `make demo`), then press Reload."
        )
    path = folder / name
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        return None, f"`{path}` is gone; press Reload."
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        return None, f"`{path}` could not be read as a CSV: {str(exc).splitlines()[0] if str(exc) else exc}"
    return df, f"`{path}`: {len(df):,} rows"


def verdict_choices(df: pd.DataFrame | None) -> list[str]:
    if df is None or "verdict" not in df.columns:
        return [ALL]
    present = set(df["verdict"].dropna().astype(str))
    return [ALL] + [v for v in VERDICTS if v in present] + sorted(present - set(VERDICTS))


def filter_rows(df: pd.DataFrame | None, verdict: str | None) -> pd.DataFrame:
    if df is None:
        return pd.DataFrame()
    if verdict and verdict != ALL and "verdict" in df.columns:
        df = df[df["verdict"].astype(str) == verdict]
    return df


def brief(df: pd.DataFrame) -> pd.DataFrame:
    """The columns worth a glance: the query, the verdict, each arm's rank and correctness, then the query id
    (every column for tables that are not the comparison report)."""
    if not all(c in df.columns for c in BRIEF_COLUMNS):
        return df
    per_arm = [f"{arm}_{f}" for arm in report_arms(df) for f in ARM_BRIEF if f"{arm}_{f}" in df.columns]
    return df[[*BRIEF_COLUMNS, *per_arm, *(["query_id"] if "query_id" in df.columns else [])]]


def _passage(doc_id: str, docs: dict[str, Document], relevant: bool) -> str:
    mark = " <b style='color:#15803d'>(relevant)</b>" if relevant else ""
    doc = docs.get(doc_id)
    if doc is None:
        return f"<li><code>{html.escape(doc_id)}</code>{mark} (not in the chatbot's corpus)</li>"
    title = html.escape(doc.title or doc_id)
    return (
        f"<li><details><summary><b>{title}</b> <code>{html.escape(doc_id)}</code>{mark}</summary>"
        f"<div style='white-space:pre-wrap'>{html.escape(document_text(doc))}</div></details></li>"
    )


def row_details(row: dict, docs: dict[str, Document]) -> str:
    """One query of the comparison report in full: every arm's context (openable passages) and answer."""
    if "verdict" not in row or "query" not in row:
        return "<p>Open a row of <code>rag_compare_report.csv</code> to read it in full.</p>"
    relevant = set(str(row.get("relevant_ids") or "").split(";")) - {""}
    parts = [
        f"<h3>{html.escape(str(row['query']))}</h3>",
        f"<p>query <code>{html.escape(str(row.get('query_id', '')))}</code> · verdict "
        f"<b>{html.escape(str(row['verdict']))}</b> · relevant: "
        f"{', '.join(f'<code>{html.escape(d)}</code>' for d in sorted(relevant)) or 'none'}</p>",
        "<div style='display:flex;gap:1em'>",
    ]
    for arm in [c.removesuffix("_answer") for c in row if c.endswith("_answer")]:
        ids = [d for d in str(row.get(f"{arm}_context_ids") or "").split(";") if d and d != "nan"]
        rank = row.get(f"{arm}_rank")
        rank_text = "not within the search depth" if rank is None or pd.isna(rank) else f"{int(rank)}"
        correct = row.get(f"{arm}_correct")
        if correct is not None and not (isinstance(correct, float) and pd.isna(correct)):
            rank_text += f" · answer correct: {'yes' if str(correct) == 'True' else 'no'}"
        items = "".join(_passage(d, docs, d in relevant) for d in ids)
        answer = row.get(f"{arm}_answer")
        answer = "" if answer is None or (isinstance(answer, float) and pd.isna(answer)) else str(answer)
        parts.append(
            f"<div style='flex:1'><h4>{arm}</h4><p>first relevant rank: {rank_text}</p>"
            f"<ol>{items}</ol><p><b>answer</b></p>"
            f"<div style='white-space:pre-wrap'>{html.escape(answer) or '<i>(empty)</i>'}</div></div>"
        )
    parts.append("</div>")
    return "".join(parts)
