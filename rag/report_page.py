"""`reports/index.html`: one self-contained page to share a run: step 3's retrieval summary, metrics and pictures,
and step 4's summary, retrieval × answer join and a filterable per-query list. No server and no network: CSS and
JS are inline and pictures are data: URIs, so the file can be mailed or opened from a USB stick.

Works with whatever is present: only step 3's files, only step 4's, or both (missing parts say which step
writes them).
"""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

import pandas as pd

from corpus.beir import Document
from corpus.jsonl import temp_sibling

PAGE = "index.html"
RETRIEVAL_SUMMARY = "retrieval_summary.md"
RETRIEVAL_METRICS = "retrieval_metrics.csv"
ANSWER_SUMMARY = "rag_compare_summary.md"
ANSWER_REPORT = "rag_compare_report.csv"
ANSWER_JOIN = "rag_answer_join.csv"
# per-arm columns shown for each query, in this order, when the report has them
ARM_FIELDS = ("rank", "correct", "f1", "names_wrong", "context_hit", "faithfulness", "correctness")

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 1.2em 3em;color:#222}
h1{margin-top:.8em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f3f3f3}code{background:#f3f3f3;padding:0 3px}
.pictures img{display:block;max-width:100%;height:auto;margin:.8em 0;border:1px solid #eee}
.missing{color:#777;font-style:italic}#filters{position:sticky;top:0;background:#fff;padding:.5em 0;
border-bottom:1px solid #ddd}#filters input{width:24em}.query{border:1px solid #ddd;border-radius:6px;
margin:.7em 0;padding:.5em .8em}.query h3{margin:.2em 0;font-size:15px}.arms{display:flex;gap:.8em;flex-wrap:wrap}
.arm{flex:1 1 260px;background:#fafafa;border-radius:4px;padding:.4em .6em}.arm b{font-size:13px}
.verdict{font-size:12px;padding:1px 6px;border-radius:8px;background:#eee;margin-left:.5em}
.ok{color:#1a7f37}.bad{color:#c0392b}.passages{font-size:12px;color:#555}
"""

SCRIPT = """
function applyFilter(){
  const text = document.getElementById('filter-text').value.toLowerCase();
  const verdict = document.getElementById('filter-verdict').value;
  let shown = 0;
  document.querySelectorAll('.query').forEach(q => {
    const ok = (!text || q.dataset.text.includes(text)) && (!verdict || q.dataset.verdict === verdict);
    q.style.display = ok ? '' : 'none';
    shown += ok ? 1 : 0;
  });
  document.getElementById('shown').textContent = shown;
}
document.addEventListener('DOMContentLoaded', () => {
  const t = document.getElementById('filter-text');
  if (t) { t.addEventListener('input', applyFilter);
           document.getElementById('filter-verdict').addEventListener('change', applyFilter); }
});
"""


def _inline(text: str) -> str:
    text = html.escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)


def markdown_html(text: str) -> str:
    """The Markdown ragtune's summaries use: headings, pipe tables, bullet lists, paragraphs, `code`, **bold**."""
    out, table, items, para = [], [], [], []

    def flush():
        if table:
            rows = [
                [c.strip() for c in r.strip().strip("|").split("|")]
                for r in table
                if not re.fullmatch(r"\|?[\s|:-]+\|?", r.strip())
            ]
            head, body = rows[0], rows[1:]
            out.append(
                "<table><tr>"
                + "".join(f"<th>{_inline(c)}</th>" for c in head)
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body)
                + "</table>"
            )
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
        table.clear(), items.clear(), para.clear()

    for line in text.splitlines():
        s = line.strip()
        heading = re.match(r"(#{1,6})\s+(.*)", s)
        if not s or heading or (s.startswith("|") != bool(table)) or (s.startswith("- ") != bool(items)):
            flush()
        if heading:
            level = min(len(heading.group(1)) + 2, 6)  # below the page title (h1) and the step sections (h2)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif s.startswith("|"):
            table.append(s)
        elif s.startswith("- "):
            items.append(s[2:])
        elif s:
            para.append(s)
    flush()
    return "\n".join(out)


def _picture(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}"></figure>'


def _frame_table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, border=0, na_rep="", float_format=lambda x: f"{x:.4g}", escape=True)


def _section(title: str, parts: list[str], missing: str) -> str:
    body = "\n".join(parts) if parts else f'<p class="missing">{html.escape(missing)}</p>'
    return f"<section><h2>{html.escape(title)}</h2>\n{body}\n</section>"


def retrieval_section(folder: Path) -> list[str]:
    parts = []
    if (folder / RETRIEVAL_SUMMARY).is_file():
        parts.append(markdown_html((folder / RETRIEVAL_SUMMARY).read_text(encoding="utf-8")))
    pictures = [p for p in sorted(folder.glob("*.png")) if not p.name.startswith("rag_")]
    if pictures:
        parts.append('<div class="pictures">' + "".join(_picture(p) for p in pictures) + "</div>")
    if (folder / RETRIEVAL_METRICS).is_file():
        parts.append(
            "<details><summary>every metric (retrieval_metrics.csv)</summary>"
            + _frame_table(pd.read_csv(folder / RETRIEVAL_METRICS))
            + "</details>"
        )
    return parts


def _arms(report: pd.DataFrame) -> list[str]:
    return [c.removesuffix("_answer") for c in report.columns if c.endswith("_answer")]


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, (bool,)) or str(value) in ("True", "False"):
        good = str(value) == "True"
        return f'<span class="{"ok" if good else "bad"}">{"yes" if good else "no"}</span>'
    return html.escape(f"{value:.3g}" if isinstance(value, float) else str(value))


def _passages(ids, docs: dict[str, Document] | None) -> str:
    if not isinstance(ids, str) or not ids:
        return ""
    shown = [f"{d} {docs[d].title}" if docs and d in docs else d for d in ids.split(";")]
    return '<div class="passages">passages: ' + "; ".join(html.escape(s) for s in shown) + "</div>"


def query_list(report: pd.DataFrame, docs: dict[str, Document] | None = None) -> str:
    arms = _arms(report)
    verdicts = sorted(report["verdict"].dropna().astype(str).unique()) if "verdict" in report else []
    out = [
        '<div id="filters">filter: <input id="filter-text" placeholder="words in the question or an answer"> '
        '<select id="filter-verdict"><option value="">any verdict</option>'
        + "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in verdicts)
        + f'</select> <span id="shown">{len(report)}</span> of {len(report)} queries</div>'
    ]
    for rec in report.to_dict("records"):
        verdict = str(rec.get("verdict", "") or "")
        words = " ".join(str(rec.get(c, "")) for c in ["query", *[f"{a}_answer" for a in arms]]).lower()
        blocks = []
        for arm in arms:
            facts = " · ".join(
                f"{f.replace('_', ' ')} {_cell(rec[f'{arm}_{f}'])}" for f in ARM_FIELDS if f"{arm}_{f}" in rec
            )
            blocks.append(
                f'<div class="arm"><b>{html.escape(arm)}</b> <small>{facts}</small>'
                f"{_passages(rec.get(f'{arm}_context_ids'), docs)}"
                f"<p>{html.escape(str(rec.get(f'{arm}_answer', '') or ''))}</p></div>"
            )
        out.append(
            f'<div class="query" data-verdict="{html.escape(verdict)}" data-text="{html.escape(words)}">'
            f'<h3>{html.escape(str(rec.get("query", "")))}<span class="verdict">{html.escape(verdict)}</span>'
            f"</h3><small>{html.escape(str(rec.get('query_id', '')))}</small>"
            f'<div class="arms">{"".join(blocks)}</div></div>'
        )
    return "\n".join(out)


def answer_section(folder: Path, docs: dict[str, Document] | None = None) -> list[str]:
    parts = []
    if (folder / ANSWER_SUMMARY).is_file():
        parts.append(markdown_html((folder / ANSWER_SUMMARY).read_text(encoding="utf-8")))
    if (folder / ANSWER_JOIN).is_file():
        parts.append("<h3>Retrieval × answer, per pair of arms</h3>" + _frame_table(pd.read_csv(folder / ANSWER_JOIN)))
    pictures = sorted(folder.glob("rag_*.png"))
    if pictures:
        parts.append('<div class="pictures">' + "".join(_picture(p) for p in pictures) + "</div>")
    if (folder / ANSWER_REPORT).is_file():
        parts.append("<h3>Query by query</h3>" + query_list(pd.read_csv(folder / ANSWER_REPORT), docs))
    return parts


def build_page(folder: Path, docs: dict[str, Document] | None = None) -> str:
    folder = Path(folder)
    sections = [
        _section(
            "Step 3: retrieval",
            retrieval_section(folder),
            "No retrieval results here yet: 3_eval_retrieval.py writes them.",
        ),
        _section(
            "Step 4: answers",
            answer_section(folder, docs),
            "No answer comparison here yet: 4_rag_compare.py writes it.",
        ),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>ragtune report</title>'
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body><h1>ragtune report</h1>"
        + "\n".join(sections)
        + "</body></html>\n"
    )


def write_page(folder: Path, docs: dict[str, Document] | None = None) -> Path:
    """Write `folder`/index.html from the step outputs found in `folder` (atomically)."""
    path = Path(folder) / PAGE
    tmp = temp_sibling(path)
    tmp.write_text(build_page(folder, docs), encoding="utf-8")
    os.replace(tmp, path)
    return path
