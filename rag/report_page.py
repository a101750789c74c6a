"""`reports/index.html`, the review page: does the fine-tuned retriever make the system better?

Built from the files steps 3 and 4 publish in the reports folder (never from a step's objects in memory), so either
step can rewrite it and it shows whatever is there: only step 3's set, only step 4's, or both. It leads with the
answer (one sentence per arm against the baseline, with its interval and p-value, and the fixed/regressed counts),
then the pictures (forest plot of the headline metrics, lift by pool size, Hit@k), a per-query explorer, the answer
section and the run facts. One self-contained file: CSS, JS and SVG inline, the data as embedded JSON, no network,
so it opens from file:// and can be mailed.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from corpus.beir import Document, read_queries
from corpus.errors import RagtuneError
from corpus.jsonl import temp_sibling
from rag.report_page_assets import SCRIPT, STYLE

PAGE = "index.html"
RETRIEVAL_SUMMARY = "retrieval_summary.md"
RETRIEVAL_METRICS = "retrieval_metrics.csv"
RETRIEVAL_PER_QUERY = "retrieval_per_query.csv"
RETRIEVAL_OUTCOMES = "retrieval_outcomes.csv"
RETRIEVAL_SPEED = "retrieval_speed.csv"
RETRIEVAL_CARD = "retrieval_card.json"
RUNS = "runs"
ANSWER_SUMMARY = "rag_compare_summary.md"
ANSWER_SUMMARY_CSV = "rag_compare_summary.csv"
ANSWER_REPORT = "rag_compare_report.csv"
ANSWER_JOIN = "rag_answer_join.csv"
ANSWER_CARD = "rag_compare_card.json"

# the metrics the page leads with, as "<metric>@<k>"; the first one is the headline sentence's
DEFAULT_HEADLINE = ("mrr@10", "hit@10", "ndcg@10", "recall@100")
LABELS = {"hit": "Hit", "precision": "P", "recall": "Recall", "mrr": "MRR", "ndcg": "nDCG", "map": "MAP"}
TOP_DOCS = 10  # documents per arm and query kept for the explorer
SNIPPET_CHARS = 200
# answer-side arms that bound the others: the question alone, and the relevant passage handed over
BRACKETS = ("closed_book", "oracle")
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
COST_METRICS = (("prompt_tokens", "prompt tokens"), ("context_tokens", "context tokens"),
                ("answer_tokens", "answer tokens"), ("latency_s", "seconds"))  # fmt: skip


def _e(x) -> str:
    return html.escape(str(x))


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
            level = min(len(heading.group(1)) + 2, 6)  # below the page title (h1) and the sections (h2)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif s.startswith("|"):
            table.append(s)
        elif s.startswith("- "):
            items.append(s[2:])
        elif s:
            para.append(s)
    flush()
    return "\n".join(out)


# ---------------------------------------------------------------- reading the published files


def _read_csv(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return None


def _read_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return obj if isinstance(obj, dict) else {}


def _metric_key(text: str) -> tuple[str, int]:
    name, _, k = text.lower().partition("@")
    return name, int(k)


def metric_label(metric: str, k: int) -> str:
    return f"{LABELS.get(metric, metric)}@{k}"


@dataclass
class Retrieval:
    """Step 3's published set, at its largest pool."""

    metrics: pd.DataFrame  # every pool size
    size: int
    arms: list[str]
    baseline: str
    fix_k: int
    confidence: float
    depth: int
    card: dict
    outcomes: pd.DataFrame | None
    speed: pd.DataFrame | None
    query_ids: list[str] = field(default_factory=list)
    ranks: dict[str, dict[str, int]] = field(default_factory=dict)  # arm -> query -> first relevant rank, 0 = none
    top: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # arm -> query -> top documents
    relevant: dict[str, list[str]] = field(default_factory=dict)

    def delta(self, arm: str, metric: str, k: int, size: int | None = None) -> dict | None:
        m = self.metrics
        sel = m[
            (m["kind"] == "delta")
            & (m["arm"] == f"{arm} - {self.baseline}")
            & (m["metric"] == metric)
            & (m["k"] == k)
            & (m["size"] == (size or self.size))
        ]
        return sel.iloc[0].to_dict() if len(sel) else None

    def value(self, arm: str, metric: str, k: int) -> dict | None:
        m = self.metrics
        sel = m[(m["kind"] == "arm") & (m["arm"] == arm) & (m["metric"] == metric) & (m["k"] == k)]
        sel = sel[sel["size"] == self.size]
        return sel.iloc[0].to_dict() if len(sel) else None

    def has(self, metric: str, k: int) -> bool:
        return self.value(self.baseline, metric, k) is not None


def _read_trec(path: Path, depth: int) -> dict[str, list[str]]:
    """query -> its documents in rank order (the first `depth`)."""
    top: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4:
                docs = top.setdefault(parts[0], [])
                if len(docs) < depth:
                    docs.append(parts[2])
    return top


def _trec_path(runs: Path, arm: str, size: int, several: bool) -> Path:
    return runs / (f"{arm}.size{size}.trec" if several else f"{arm}.trec")


def load_retrieval(folder: Path) -> Retrieval | None:
    metrics = _read_csv(folder / RETRIEVAL_METRICS)
    if metrics is None or not {"kind", "arm", "metric", "k", "value", "size"} <= set(metrics.columns):
        return None
    arms = list(dict.fromkeys(metrics.loc[metrics["kind"] == "arm", "arm"].astype(str)))
    if not arms:
        return None
    card = _read_json(folder / RETRIEVAL_CARD)
    cfg = card.get("config", {})
    sizes = sorted(int(s) for s in metrics["size"].unique())
    r = Retrieval(
        metrics=metrics,
        size=sizes[-1],
        arms=arms,
        baseline=arms[0],
        fix_k=int(cfg.get("fix_k", 10)),
        confidence=float(cfg.get("confidence", 0.95)),
        depth=int(cfg.get("depth", 100)),
        card=card,
        outcomes=_read_csv(folder / RETRIEVAL_OUTCOMES),
        speed=_read_csv(folder / RETRIEVAL_SPEED),
    )
    runs = folder / RUNS
    full: dict[str, dict[str, list[str]]] = {}
    for arm in arms:
        path = _trec_path(runs, arm, r.size, len(sizes) > 1)
        if path.is_file():
            full[arm] = _read_trec(path, r.depth)
            r.top[arm] = {q: d[:TOP_DOCS] for q, d in full[arm].items()}
    for qrels in sorted(runs.glob("qrels.*.txt")) if runs.is_dir() else []:
        for line in qrels.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 4 and float(parts[3]) > 0:
                r.relevant.setdefault(parts[0], []).append(parts[2])
    per_query = _read_csv(folder / RETRIEVAL_PER_QUERY)
    if per_query is not None and {"size", "arm", "query_id", "first_relevant_rank"} <= set(per_query.columns):
        pq = per_query[per_query["size"] == r.size]
        r.query_ids = list(dict.fromkeys(pq["query_id"].astype(str)))
        for arm, g in pq.groupby("arm", sort=False):
            ranks = pd.to_numeric(g["first_relevant_rank"], errors="coerce").fillna(0).astype(int)
            r.ranks[str(arm)] = dict(zip(g["query_id"].astype(str), ranks.tolist(), strict=True))
    else:  # the same first relevant rank from the TREC runs and the qrels
        for arm, runs_of in full.items():
            r.ranks[arm] = {
                q: next((i + 1 for i, d in enumerate(docs) if d in set(r.relevant.get(q, ()))), 0)
                for q, docs in runs_of.items()
            }
        r.query_ids = list(dict.fromkeys(q for arm in full for q in full[arm])) or list(r.relevant)
    return r


@dataclass
class Answers:
    """Step 4's published set."""

    report: pd.DataFrame | None
    summary: pd.DataFrame | None
    join: pd.DataFrame | None
    card: dict
    markdown: str
    arms: list[str]
    top_k: int


def load_answers(folder: Path) -> Answers | None:
    report = _read_csv(folder / ANSWER_REPORT)
    summary = _read_csv(folder / ANSWER_SUMMARY_CSV)
    join = _read_csv(folder / ANSWER_JOIN)
    md_path = folder / ANSWER_SUMMARY
    markdown = md_path.read_text(encoding="utf-8") if md_path.is_file() else ""
    if report is None and summary is None and join is None and not markdown:
        return None
    card = _read_json(folder / ANSWER_CARD)
    arms = [c.removesuffix("_answer") for c in report.columns if c.endswith("_answer")] if report is not None else []
    if not arms and summary is not None and "arm" in summary:
        arms = [a for a in dict.fromkeys(summary["arm"].astype(str)) if a != "paired" and "-" not in a]
    return Answers(report, summary, join, card, markdown, arms, int(card.get("top_k", 3)))


# ---------------------------------------------------------------- formatting


def _num(x, fmt: str = ".3f") -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "–"
    return format(x, fmt) if math.isfinite(x) else "–"


def fmt_p(p) -> str:
    try:
        p = float(p)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(p):
        return ""
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.2g}" if p < 0.01 else f"p = {p:.2f}"


def judgement(lo, hi) -> str:
    """'better' or 'worse' when the interval excludes 0, else 'no clear difference'."""
    lo, hi = float(lo), float(hi)
    return "better" if lo > 0 else "worse" if hi < 0 else "no clear difference"


def _delta_text(d: dict) -> str:
    return f"{d['value']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"


def headline_metrics(r: Retrieval, headline: Sequence[str]) -> list[tuple[str, int]]:
    wanted = [_metric_key(h) for h in headline]
    present = [(m, k) for m, k in wanted if r.has(m, k)]
    if present:
        return present
    ks = sorted(r.metrics["k"].unique())
    return [(m, int(ks[-1])) for m in ("mrr", "hit", "ndcg", "recall") if r.has(m, int(ks[-1]))]


def _outcome_counts(r: Retrieval, arm: str) -> dict | None:
    o = r.outcomes
    if o is None or not len(o):
        return None
    sel = o[(o["arm"] == arm) & (o["baseline"] == r.baseline) & (o["size"] == r.size)]
    return sel.iloc[0].to_dict() if len(sel) else None


def retrieval_headline(r: Retrieval, metrics: list[tuple[str, int]]) -> str:
    lead = metrics[0]
    lines = []
    for arm in r.arms[1:]:
        d = r.delta(arm, *lead)
        if d is None:
            continue
        word = judgement(d["ci_low"], d["ci_high"])
        o = _outcome_counts(r, arm)
        counts = (
            f"; <b>{int(o['fixed'])}</b> queries fixed, <b>{int(o['regressed'])}</b> regressed "
            f"<small>(Hit@{int(o['k'])})</small>"
            if o
            else ""
        )
        lines.append(
            f'<li class="verdict-{word.split()[0]}"><b class="arm">{_e(arm)}</b>: {metric_label(*lead)} '
            f'<b class="delta">{_delta_text(d)}</b>, {fmt_p(d.get("p_value"))} — <b class="word">{word}</b>'
            f"{counts}</li>"
        )
    base = r.value(r.baseline, *lead)
    intro = (
        f"Against <b>{_e(r.baseline)}</b> ({metric_label(*lead)} {_num(base['value'])}) on "
        f"{r.size:,} documents, {int(base.get('n_queries', 0)):,} queries; "
        f"{r.confidence:.0%} paired bootstrap intervals:"
        if base
        else ""
    )
    return f'<p class="intro">{intro}</p><ul class="headline" id="headline">{"".join(lines)}</ul>'


def metric_cards(r: Retrieval, metrics: list[tuple[str, int]]) -> str:
    head = "".join(f"<th>{metric_label(m, k)}</th>" for m, k in metrics)
    rows = []
    for arm in r.arms:
        cells = []
        for m, k in metrics:
            v = r.value(arm, m, k)
            d = r.delta(arm, m, k) if arm != r.baseline else None
            sub = ""
            if d:
                cls = judgement(d["ci_low"], d["ci_high"]).split()[0]
                sub = f'<div class="d {cls}">{d["value"]:+.3f} <small>[{d["ci_low"]:+.3f}, {d["ci_high"]:+.3f}]</small></div>'
            cells.append(f"<td><div class=v>{_num(v['value'] if v else None)}</div>{sub}</td>")
        rows.append(
            f"<tr><th>{_e(arm)}{' <small>(baseline)</small>' if arm == r.baseline else ''}</th>{''.join(cells)}</tr>"
        )
    return f'<table class="cards" id="headline-metrics"><tr><th></th>{head}</tr>{"".join(rows)}</table>'


def metric_grid(r: Retrieval) -> str:
    """Every metric at every cut-off: values per arm, then each arm's Δ against the baseline, at the largest pool."""
    m = r.metrics[r.metrics["size"] == r.size]
    ks = sorted(int(k) for k in m["k"].unique())
    names = list(dict.fromkeys(m["metric"]))
    others = r.arms[1:]
    head = "".join(f"<th>{_e(a)}</th>" for a in r.arms) + "".join(f"<th>Δ {_e(a)} [CI]</th><th>p</th>" for a in others)
    rows = []
    for name in names:
        for k in ks:
            vals = [r.value(a, name, k) for a in r.arms]
            if all(v is None for v in vals):
                continue
            cells = "".join(f"<td>{_num(v['value'] if v else None)}</td>" for v in vals)
            for a in others:
                d = r.delta(a, name, k)
                if d:
                    cls = judgement(d["ci_low"], d["ci_high"]).split()[0]
                    cells += f'<td class="{cls}">{_delta_text(d)}</td><td>{_e(fmt_p(d.get("p_value")))}</td>'
                else:
                    cells += "<td></td><td></td>"
            rows.append(f"<tr><th>{metric_label(name, k)}</th>{cells}</tr>")
    return f'<table class="grid"><tr><th>metric</th>{head}</tr>{"".join(rows)}</table>'


# ---------------------------------------------------------------- pictures (inline SVG)


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def arm_colour(arm: str, order: Sequence[str]) -> str:
    """One colour per arm across every chart and the explorer: its place in the page's arm order."""
    return _colour(list(order).index(arm)) if arm in order else "#555"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    out, t = [], start
    while t <= hi + 1e-9:
        out.append(round(t, 10) + 0.0)  # + 0.0: no "-0" label
        t += step
    return out


def interval_plot(rows: list[dict], title: str, zero: bool, width: int = 420, lo=None, hi=None) -> str:
    """One line per row: a dot at `value` and a bar from `ci_low` to `ci_high` (a forest plot when zero=True)."""
    if not rows:
        return ""
    left = max(60, 12 + 7 * max(len(str(r["label"])) for r in rows))
    right, top, step = 20, 28, 26
    width = max(width, left + 200)
    height = top + step * len(rows) + 34
    vals = [v for r in rows for v in (r["ci_low"], r["ci_high"], r["value"]) if v is not None and math.isfinite(v)]
    lo = min([*vals, 0.0] if zero else vals) if lo is None else lo
    hi = max([*vals, 0.0] if zero else vals) if hi is None else hi
    pad = (hi - lo) * 0.08 or 0.05
    lo, hi = lo - pad, hi + pad
    x = lambda v: left + (v - lo) / (hi - lo) * (width - left - right)  # noqa: E731
    parts = [f'<text x="{width / 2}" y="16" class="t">{_e(title)}</text>']
    for t in _ticks(lo, hi):
        parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top - 4}" y2="{height - 30}" class="grid"/>')
        parts.append(f'<text x="{x(t):.1f}" y="{height - 16}" class="tick">{t:g}</text>')
    if zero and lo < 0 < hi:
        parts.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 6}" y2="{height - 30}" class="zero"/>')
    for i, r in enumerate(rows):
        y = top + step * i + step / 2
        colour = r.get("colour", "#333")
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" class="lab">{_e(r["label"])}</text>')
        if r["ci_low"] is not None and math.isfinite(r["ci_low"]):
            parts.append(
                f'<line x1="{x(r["ci_low"]):.1f}" x2="{x(r["ci_high"]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{colour}" stroke-width="3"/>'
            )
        tip = f"{r['label']}: {r['value']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]" if zero else (
            f"{r['label']}: {r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]")  # fmt: skip
        parts.append(
            f'<circle cx="{x(r["value"]):.1f}" cy="{y:.1f}" r="5" fill="{colour}"><title>{_e(tip)}</title></circle>'
        )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(title)}">{"".join(parts)}</svg>'
    )


def forest_plot(r: Retrieval, metrics: list[tuple[str, int]]) -> str:
    """Every arm's Δ against the baseline for each headline metric, with its interval, on one shared axis."""
    panels = []
    all_vals = []
    for m, k in metrics:
        for arm in r.arms[1:]:
            d = r.delta(arm, m, k)
            if d:
                all_vals += [d["ci_low"], d["ci_high"]]
    if not all_vals:
        return ""
    lo, hi = min([*all_vals, 0.0]), max([*all_vals, 0.0])
    for m, k in metrics:
        rows = []
        for i, arm in enumerate(r.arms[1:], start=1):
            d = r.delta(arm, m, k)
            if d:
                rows.append({"label": arm, "value": d["value"], "ci_low": d["ci_low"], "ci_high": d["ci_high"],
                             "colour": _colour(i)})  # fmt: skip
        panels.append(interval_plot(rows, f"Δ {metric_label(m, k)} vs {r.baseline}", True, 310, lo, hi))
    return f'<div id="forest">{side_by_side([p for p in panels if p])}</div>'


def side_by_side(svgs: list[str], gap: int = 16) -> str:
    """Charts as panels of one SVG, so a narrower window scales them together instead of wrapping one below."""
    sizes = [tuple(float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', s).groups()) for s in svgs]
    if not sizes:
        return ""
    x, inner = 0.0, []
    for svg, (w, _) in zip(svgs, sizes, strict=True):
        inner.append(svg.replace('<svg class="chart" ', f'<svg x="{x:.0f}" y="0" ', 1))
        x += w + gap
    width, height = x - gap, max(h for _, h in sizes)
    return (
        f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}">'
        + "".join(inner)
        + "</svg>"
    )


def line_plot(series: dict[str, list[tuple]], title: str, xlabel: str, ylabel: str, logx: bool,
              width: int = 520, height: int = 300, ylim=None, zero: bool = False,
              colours: dict[str, str] | None = None) -> str:  # fmt: skip
    """series: name -> [(x, y, low, high)], drawn as a line with its interval as a band."""
    pts = [p for s in series.values() for p in s]
    if not pts:
        return ""
    left, right, top, bottom = 52, 110, 26, 42
    fx = (lambda v: math.log10(v)) if logx else (lambda v: float(v))
    xs = sorted({p[0] for p in pts})
    x0, x1 = fx(xs[0]), fx(xs[-1])
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    ys = [v for p in pts for v in p[1:] if v is not None and math.isfinite(v)]
    y0, y1 = ylim or (min(ys + ([0.0] if zero else [])), max(ys + ([0.0] if zero else [])))
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    X = lambda v: left + (fx(v) - x0) / (x1 - x0) * (width - left - right)  # noqa: E731
    Y = lambda v: top + (1 - (v - y0) / (y1 - y0)) * (height - top - bottom)  # noqa: E731
    parts = [f'<text x="{(width - right + left) / 2}" y="16" class="t">{_e(title)}</text>']
    for t in _ticks(y0, y1):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{Y(t):.1f}" y2="{Y(t):.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{Y(t) + 4:.1f}" class="ytick">{t:g}</text>')
    if zero and y0 < 0 < y1:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{Y(0):.1f}" y2="{Y(0):.1f}" class="zero"/>')
    for v in xs:
        parts.append(f'<text x="{X(v):.1f}" y="{height - bottom + 16}" class="tick">{v:,}</text>')
    parts.append(f'<text x="{(width - right + left) / 2}" y="{height - 6}" class="tick">{_e(xlabel)}</text>')
    parts.append(
        f'<text transform="translate(13 {(height - bottom + top) / 2}) rotate(-90)" class="tick">{_e(ylabel)}</text>'
    )
    for i, (name, s) in enumerate(series.items()):
        s = sorted(s)
        c = (colours or {}).get(name, _colour(i))
        band = [(X(p[0]), Y(p[3])) for p in s] + [(X(p[0]), Y(p[2])) for p in reversed(s)]
        if all(math.isfinite(p[2]) and math.isfinite(p[3]) for p in s):
            parts.append(
                f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in band)}" fill="{c}" opacity="0.12"/>'
            )
        parts.append(
            f'<polyline points="{" ".join(f"{X(p[0]):.1f},{Y(p[1]):.1f}" for p in s)}" fill="none" '
            f'stroke="{c}" stroke-width="2"/>'
        )
        for p in s:
            parts.append(
                f'<circle cx="{X(p[0]):.1f}" cy="{Y(p[1]):.1f}" r="3.5" fill="{c}"><title>{_e(name)} '
                f"{p[0]:,}: {p[1]:.3f} [{p[2]:.3f}, {p[3]:.3f}]</title></circle>"
            )
        ly = top + 8 + 18 * i
        parts.append(f'<rect x="{width - right + 10}" y="{ly - 8}" width="12" height="12" fill="{c}"/>')
        parts.append(f'<text x="{width - right + 27}" y="{ly + 2}" class="leg">{_e(name)}</text>')
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(title)}">{"".join(parts)}</svg>'
    )


def hit_curve(r: Retrieval) -> str:
    m = r.metrics
    rows = m[(m["kind"] == "arm") & (m["metric"] == "hit") & (m["size"] == r.size)]
    series = {
        arm: [(int(x.k), x.value, x.ci_low, x.ci_high) for x in g.itertuples()]
        for arm, g in rows.groupby("arm", sort=False)
    }
    n = int(rows["n_queries"].iloc[0]) if len(rows) and "n_queries" in rows else 0
    return line_plot(series, f"Hit@k over {r.size:,} documents, {n:,} queries ({r.confidence:.0%} CI bands)",
                     "k (log scale)", "Hit@k", True, 640, 340, ylim=(0, 1),
                     colours={arm: arm_colour(arm, r.arms) for arm in series})  # fmt: skip


def size_lift(r: Retrieval, metric: tuple[str, int]) -> str:
    """The lead metric's Δ against the baseline at each pool size step 3 ran (only with several sizes)."""
    m = r.metrics
    if m["size"].nunique() < 2:
        return ""
    rows = m[
        (m["kind"] == "delta") & (m["baseline"] == r.baseline) & (m["metric"] == metric[0]) & (m["k"] == metric[1])
    ]
    series = {
        arm.removesuffix(f" - {r.baseline}"): [(int(x.size), x.value, x.ci_low, x.ci_high) for x in g.itertuples()]
        for arm, g in rows.groupby("arm", sort=False)
    }
    return line_plot(series, f"Δ {metric_label(*metric)} vs {r.baseline} by pool size", "documents in the pool",
                     f"Δ {metric_label(*metric)}", True, zero=True,
                     colours={arm: arm_colour(arm, r.arms) for arm in series})  # fmt: skip


# ---------------------------------------------------------------- answers


def _summary_rows(a: Answers, metric: str) -> dict[str, dict]:
    s = a.summary
    if s is None or "metric" not in s:
        return {}
    return {str(x["arm"]): x for x in s[s["metric"] == metric].to_dict("records")}


def answer_headline(a: Answers) -> str:
    diffs = _summary_rows(a, "correct_diff")
    means = _summary_rows(a, "correct")
    if not a.arms or not diffs:
        return ""
    base = a.arms[0]
    lines = []
    for arm in a.arms[1:]:
        d = diffs.get(f"{arm}-{base}")
        if not d:
            continue
        word = judgement(d["ci_low"], d["ci_high"])
        kind = " <small>(bracket)</small>" if arm in BRACKETS else ""
        lines.append(
            f'<li class="verdict-{word.split()[0]}"><b class="arm">{_e(arm)}</b>{kind}: answers correct '
            f"{_num(means.get(arm, {}).get('value'))} vs {_num(means.get(base, {}).get('value'))}, "
            f'<b class="delta">{_delta_text(d)}</b>, {fmt_p(d.get("p_value"))} — <b class="word">{word}</b></li>'
        )
    n = int(next(iter(means.values()))["n"]) if means else 0
    split = split_estimates(a)
    # a stratified sample over-represents the queries where retrieval differs: the split-wide estimate leads
    scope = "the answered queries themselves, not weighted to the split" if split else f"{n:,} queries"
    return split + (
        f'<p class="intro">Answers against <b>{_e(base)}</b> ({scope}; {n:,} queries, top-{a.top_k} passages, '
        f"LLM <code>{_e(a.card.get('llm', {}).get('model', '?'))}</code>):</p>"
        f'<ul class="headline" id="answer-headline">{"".join(lines)}</ul>'
    )


def split_estimates(a: Answers) -> str:
    """Step 4's answered queries are a stratified sample: its differences weighted back to the whole split, with
    the smallest difference the run could detect (80% power)."""
    split = _summary_rows(a, "correct_split_diff")
    if not a.arms or not split:
        return ""
    base = a.arms[0]
    items = []
    for arm in a.arms[1:]:
        d = split.get(f"{arm}-{base}")
        if d:
            word = judgement(d["ci_low"], d["ci_high"])
            items.append(
                f"<li><b>{_e(arm)}</b> − {_e(base)}: {_delta_text(d)} ({word}); smallest detectable difference "
                f"{_num(d.get('mde'))}</li>"
            )
    return (
        f'<p class="intro">Answers against <b>{_e(base)}</b> for the whole split (the answered queries are a '
        "stratified sample, more of them where retrieval differs, weighted back to every query):</p>"
        f'<ul id="split-estimates">{"".join(items)}</ul>'
    )


def correctness_chart(a: Answers, order: Sequence[str]) -> str:
    charts = []
    for metric, title in (("correct", "share of answers correct"), ("correctness", "judge: correctness"),
                          ("faithfulness", "judge: faithfulness")):  # fmt: skip
        rows = _summary_rows(a, metric)
        items = [
            {"label": arm + (" (bracket)" if arm in BRACKETS else ""), "value": rows[arm]["value"],
             "ci_low": rows[arm]["ci_low"], "ci_high": rows[arm]["ci_high"],
             "colour": "#888" if arm in BRACKETS else arm_colour(arm, order)}
            for i, arm in enumerate(a.arms) if arm in rows and math.isfinite(float(rows[arm]["value"]))
        ]  # fmt: skip
        if items:
            charts.append(interval_plot(items, f"{title} ({CONFIDENCE_TEXT})", False, 420, 0.0, 1.0))
    return f'<div class="charts" id="correctness">{"".join(charts)}</div>' if charts else ""


CONFIDENCE_TEXT = "95% CI"


def join_picture(a: Answers) -> str:
    """For each arm against the first: how the queries whose retrieval was fixed / regressed / unchanged moved in
    answer correctness (improved, unchanged, worsened), as stacked bars."""
    j = a.join
    if j is None or not len(j) or not a.arms:
        return ""
    metric = "correct" if "correct" in set(j["metric"]) else j["metric"].iloc[0]
    j = j[(j["metric"] == metric) & (j["earlier"] == a.arms[0])]
    if not len(j):
        return ""
    left, bar_w, step = 250, 330, 22
    width = left + bar_w + 110
    pairs = list(dict.fromkeys(j["later"]))
    height = 40 + len(pairs) * (3 * step + 14)
    parts = [
        f'<text x="{width / 2}" y="14" class="t">answers ({metric}) by retrieval outcome, vs {_e(a.arms[0])}</text>'
    ]
    y = 30
    for later in pairs:
        g = j[j["later"] == later].set_index("retrieval")
        parts.append(f'<text x="4" y="{y + 12}" class="pair">{_e(later)}</text>')
        total = max(int(g[["improved", "worsened", "unchanged"]].sum(axis=1).max()), 1) if len(g) else 1
        for outcome in ("fixed", "regressed", "unchanged"):
            if outcome not in g.index:
                continue
            row = g.loc[outcome]
            n = int(row["improved"] + row["worsened"] + row["unchanged"])
            parts.append(f'<text x="{left - 8}" y="{y + 12}" class="lab">retrieval {outcome} ({n})</text>')
            x = left
            for part, colour in (("improved", "#2ca02c"), ("unchanged", "#c7c7c7"), ("worsened", "#d62728")):
                w = bar_w * int(row[part]) / total
                if w > 0:
                    parts.append(
                        f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="16" fill="{colour}">'
                        f"<title>{_e(later)}, retrieval {outcome}: {int(row[part])} answers {part}</title></rect>"
                    )
                    if w > 18:
                        parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 12}" class="in">{int(row[part])}</text>')
                x += w
            y += step
        y += 14
    legend = "".join(
        f'<rect x="{left + i * 140}" y="{height - 14}" width="10" height="10" fill="{c}"/>'
        f'<text x="{left + 14 + i * 140}" y="{height - 5}" class="leg">answer {n}</text>'
        for i, (n, c) in enumerate((("improved", "#2ca02c"), ("unchanged", "#c7c7c7"), ("worsened", "#d62728")))
    )
    return (
        f'<svg class="chart" id="join" viewBox="0 0 {width} {height + 6}" width="{width}" height="{height + 6}" '
        f'role="img" aria-label="retrieval × answer join">{"".join(parts)}{legend}</svg>'
    )


def cost_table(a: Answers) -> str:
    cols = [(m, label) for m, label in COST_METRICS if _summary_rows(a, m)]
    if not cols:
        return ""
    rows = {m: _summary_rows(a, m) for m, _ in cols}
    head = "".join(f"<th>{label}</th>" for _, label in cols)
    body = "".join(
        f"<tr><th>{_e(arm)}</th>"
        + "".join(
            f"<td>{_num(rows[m].get(arm, {}).get('value'), '.3g' if m == 'latency_s' else ',.0f')}</td>"
            for m, _ in cols
        )
        + "</tr>"
        for arm in a.arms
    )
    return f'<table class="compact" id="cost"><tr><th>arm (mean per query)</th>{head}</tr>{body}</table>'


def retrieval_cost(r: Retrieval) -> str:
    s = r.speed
    if s is None or not len(s) or "latency_p50_ms" not in s:
        return ""
    s = s[s["size"] == r.size]
    body = "".join(
        f"<tr><th>{_e(x.arm)}</th><td>{_num(x.latency_p50_ms, '.1f')}</td><td>{_num(x.latency_p95_ms, '.1f')}</td>"
        f"<td>{_num(x.docs_per_second, ',.0f')}</td></tr>"
        for x in s.itertuples()
    )
    return (
        '<table class="compact"><tr><th>arm</th><th>latency p50 ms</th><th>p95 ms</th><th>documents/s</th></tr>'
        f"{body}</table>"
    )


# ---------------------------------------------------------------- run facts


def commands(r: Retrieval | None, a: Answers | None) -> list[str]:
    """Command lines rebuilt from the cards' settings (the settings themselves are below them)."""
    out = []
    if r and r.card.get("config"):
        c = r.card["config"]
        line = [
            "ragtune",
            "eval",
            "--data",
            r.card.get("data") or c.get("data") or "?",
            "--split",
            c.get("split", "test"),
            "--arms",
            *r.card.get("arms", []),
        ]
        line += ["--pool", r.card["pool_file"]] if r.card.get("pool_file") else []
        line += ["--sizes", *map(str, c["sizes"])] if c.get("sizes") else []
        line += ["--no-external"] if c.get("sizes") and c.get("no_external") else []
        line += ["--k", *map(str, c["k"])] if c.get("k") else []
        line += ["--fix-k", str(c["fix_k"])] if c.get("fix_k", 10) != 10 else []
        line += ["--bootstrap", str(c["bootstrap"])] if c.get("bootstrap", 10_000) != 10_000 else []
        line += ["--seed", str(c.get("seed", 13)), "--out", c.get("out", "reports")]
        out.append(shlex.join(map(str, line)))
    if a and a.card:
        c = a.card
        line = ["ragtune", "rag", "--data", c.get("data", "?"), "--split", c.get("split", "test")]
        arms = [x for x in c.get("arms", []) if x.split("=")[0] not in BRACKETS]
        line += ["--arms", *arms] if arms else []
        line += ["--closed-book"] if "closed_book" in c.get("arms", []) else []
        line += [] if "oracle" in c.get("arms", []) else ["--no-oracle"]
        line += ["--limit", str(c["limit"])] if c.get("limit") else []
        line += ["--top-k", str(c.get("top_k", 3)), "--llm-model", str(c.get("llm", {}).get("model", "?"))]
        line += ["--llm-base-url", str(c["llm"]["base_url"])] if c.get("llm", {}).get("base_url") else []
        line += ["--judge"] if c.get("judge") else []
        line += ["--out", c.get("out", "reports")]
        out.append(shlex.join(map(str, line)))
    return out


def run_facts(r: Retrieval | None, a: Answers | None) -> str:
    facts = []
    if r and r.card:
        c = r.card
        cfg = c.get("config", {})
        facts.append(f"<li>data <code>{_e(c.get('data') or cfg.get('data', '?'))}</code> (fingerprint {_e(c.get('dataset_fingerprint', '?'))}), "
                     f"split <code>{_e(cfg.get('split', '?'))}</code>, {int(c.get('queries', 0)):,} queries</li>")  # fmt: skip
        for p in c.get("pools", []):
            facts.append(
                f"<li>pool {int(p.get('size', 0)):,} documents (fingerprint {_e(p.get('fingerprint', '?'))}); "
                f"queries with no relevant document in it: {p.get('unreachable_queries', 0)}</li>"
            )
        for name, info in c.get("models", {}).items():
            facts.append(f"<li>arm <b>{_e(name)}</b>: <code>{_e(info.get('path', ''))}</code> "
                         f"(fingerprint {_e(info.get('fingerprint', '?'))})</li>")  # fmt: skip
        v = c.get("versions", {})
        if v:
            facts.append("<li>versions: " + ", ".join(f"{_e(k)} {_e(x)}" for k, x in v.items()) + "</li>")
    if a and a.card:
        c = a.card
        llm = c.get("llm", {})
        facts.append(
            f"<li>answers: LLM <code>{_e(llm.get('model', '?'))}</code> at <code>{_e(llm.get('base_url', ''))}</code>, "
            f"top-{c.get('top_k', '?')} passages, ≤ {c.get('max_tokens', '?')} tokens, temperature "
            f"{c.get('temperature', '?')}, prompt fingerprint {_e(c.get('prompt_fingerprint', '?'))}; pool "
            f"<code>{_e(c.get('pool', '?'))}</code> ({c.get('pool_documents', '?')} documents), "
            f"{c.get('queries', '?')} queries</li>"
        )
    cmds = commands(r, a)
    cards = "".join(
        f"<details><summary>{name}</summary><pre>{_e(json.dumps(card, indent=1, sort_keys=True))}</pre></details>"
        for name, card in ((RETRIEVAL_CARD, r.card if r else {}), (ANSWER_CARD, a.card if a else {}))
        if card
    )
    return (
        f'<ul class="facts">{"".join(facts)}</ul>'
        + (
            "<p>Commands that reproduce this page (from the cards' settings):</p><pre id='commands'>"
            + _e("\n".join(cmds))
            + "</pre>"
            if cmds
            else ""
        )  # fmt: skip
        + cards
    )


# ---------------------------------------------------------------- the explorer's data


def _query_texts(r: Retrieval | None, a: Answers | None) -> dict[str, str]:
    texts: dict[str, str] = {}
    data = (r.card.get("data") or r.card.get("config", {}).get("data") if r else None) or (
        a.card.get("data") if a else None
    )
    if data and (Path(data) / "queries.jsonl").is_file():
        try:
            texts = read_queries(Path(data) / "queries.jsonl")
        except (OSError, RagtuneError):  # the dataset changed or went since the run: ids still show
            texts = {}
    if a and a.report is not None and "query" in a.report:
        texts.update(zip(a.report["query_id"].astype(str), a.report["query"].astype(str), strict=True))
    return texts


def _ids(value) -> list[str]:
    return [d for d in str(value).split(";") if d and d != "nan"] if isinstance(value, str) else []


def explorer_data(r: Retrieval | None, a: Answers | None, docs: dict[str, Document] | None) -> dict:
    """Compact JSON for the explorer: documents by index, and per query each arm's ranks, top documents and
    answer."""
    docs = docs or {}
    doc_index: dict[str, int] = {}
    doc_rows: list[list[str]] = []

    def di(doc_id: str) -> int:
        if doc_id not in doc_index:
            doc_index[doc_id] = len(doc_rows)
            d = docs.get(doc_id)
            snippet = " ".join((d.text if d else "").split())
            if len(snippet) > SNIPPET_CHARS:
                snippet = snippet[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
            doc_rows.append([doc_id, (d.title if d else "") or doc_id, snippet])
        return doc_index[doc_id]

    texts = _query_texts(r, a)
    retrieval_arms = list(r.arms) if r else []
    answer_arms = list(a.arms) if a and a.report is not None else []
    arms = retrieval_arms + [x for x in answer_arms if x not in retrieval_arms]
    report = {}
    if answer_arms:
        report = {str(row["query_id"]): row for row in a.report.to_dict("records")}
    qids = list(r.query_ids) if r else []
    qids += [q for q in report if q not in set(qids)]
    queries = []
    for q in qids:
        row = report.get(q, {})
        relevant = (r.relevant.get(q) if r else None) or _ids(row.get("relevant_ids"))
        rec = {"id": q, "q": texts.get(q, ""), "rel": [di(d) for d in relevant], "r": {}, "t": {}}
        if r:
            for arm in retrieval_arms:
                if q in r.ranks.get(arm, {}):
                    rec["r"][arm] = int(r.ranks[arm][q])
                if q in r.top.get(arm, {}):
                    rec["t"][arm] = [di(d) for d in r.top[arm][q]]
        if row:
            rec["a"], rec["c"], rec["r4"] = {}, {}, {}
            for arm in answer_arms:
                ans = row.get(f"{arm}_answer")
                rec["a"][arm] = "" if ans is None or (isinstance(ans, float) and math.isnan(ans)) else str(ans)
                ok = row.get(f"{arm}_correct")
                rec["c"][arm] = None if ok is None or (isinstance(ok, float) and math.isnan(ok)) else bool(ok)
                rank = row.get(f"{arm}_rank")
                has_ctx = bool(_ids(row.get(f"{arm}_context_ids")))
                if has_ctx:
                    rec["r4"][arm] = 0 if rank is None or pd.isna(rank) else int(rank)
                if arm not in rec["t"] and has_ctx:
                    rec["t"][arm] = [di(d) for d in _ids(row.get(f"{arm}_context_ids"))]
        queries.append(rec)
    return {
        "arms": arms,
        "retrievalArms": retrieval_arms,
        "answerArms": answer_arms,
        "brackets": [x for x in BRACKETS if x in arms],
        "fixK": r.fix_k if r else None,
        "topK": a.top_k if a else None,
        "depth": r.depth if r else 100,
        "docs": doc_rows,
        "queries": queries,
    }


def _json_script(obj) -> str:
    # '<' escaped so no text inside the data can close the script element
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


# ---------------------------------------------------------------- the page


def _section(sid: str, title: str, body: str, missing: str = "") -> str:
    body = body or f'<p class="missing">{_e(missing)}</p>'
    return f'<section id="{sid}"><h2>{_e(title)}</h2>\n{body}\n</section>'


def build_page(folder: Path, docs: dict[str, Document] | None = None,
               headline: Sequence[str] = DEFAULT_HEADLINE) -> str:  # fmt: skip
    folder = Path(folder)
    r = load_retrieval(folder)
    a = load_answers(folder)
    top, pictures, details = [], [], []
    if r:
        metrics = headline_metrics(r, headline)
        top.append(retrieval_headline(r, metrics))
        top.append(forest_plot(r, metrics))  # the arms chart right under the sentences: above the fold
        top.append(metric_cards(r, metrics))
        pictures.append(f'<div class="charts" id="hit-curve">{hit_curve(r)}{size_lift(r, metrics[0])}</div>')
        summary = folder / RETRIEVAL_SUMMARY
        details.append(
            "<details id='full-grid'><summary>every metric at every cut-off "
            f"({metric_label(*metrics[0])} and the rest, {r.size:,} documents)</summary>{metric_grid(r)}"
            + (
                f"<h3>retrieval_summary.md</h3>{markdown_html(summary.read_text(encoding='utf-8'))}"
                if summary.is_file()
                else ""
            )
            + "</details>"
        )
    if a:
        top.append(answer_headline(a))
    missing_steps = []
    if not r:
        missing_steps.append("No retrieval results here yet: 3_eval_retrieval.py (ragtune eval) writes them.")
    if not a:
        missing_steps.append("No answer comparison here yet: 4_rag_compare.py (ragtune rag) writes it.")
    retrieval_body = ""
    if r:
        retrieval_body = "".join(pictures) + "".join(details) + (
            f"<h3>Retrieval cost</h3>{retrieval_cost(r)}" if retrieval_cost(r) else "")  # fmt: skip
    data = explorer_data(r, a, docs)
    answer_body = ""
    if a:
        answer_body = (
            correctness_chart(a, data["arms"])
            + (f"<h3>Did the retrieval change reach the answers?</h3>{join_picture(a)}" if join_picture(a) else "")
            + (f"<h3>Cost</h3>{cost_table(a)}" if cost_table(a) else "")
            + (
                f"<details><summary>step 4's summary ({ANSWER_SUMMARY})</summary>{markdown_html(a.markdown)}</details>"
                if a.markdown
                else ""
            )  # fmt: skip
            + (
                f"<details><summary>{ANSWER_JOIN}: every pair</summary>"
                + a.join.to_html(index=False, border=0, na_rep="")
                + "</details>"
                if a.join is not None
                else ""
            )  # fmt: skip
        )
    nav = "".join(
        f'<a href="#{sid}">{label}</a>'
        for sid, label in (
            ("retrieval", "Retrieval"),
            ("explorer", "Queries"),
            ("answers", "Answers"),
            ("facts", "Run facts"),
        )
    )
    body = (
        f"<header><h1>Does the fine-tuned retriever make it better?</h1><nav>{nav}</nav></header>"
        + f'<section id="summary">{"".join(top)}'
        + "".join(f'<p class="missing">{_e(m)}</p>' for m in missing_steps)
        + "</section>"
        + _section("retrieval", "Retrieval", retrieval_body, "Step 3 has not run here.")
        + _section("explorer", "Query by query", '<div id="explorer-root"></div>', "")
        + _section("answers", "Answers", answer_body, "Step 4 has not run here.")
        + _section("facts", "Run facts", run_facts(r, a) if (r or a) else "", "No run yet.")
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>ragtune report</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{STYLE}</style></head><body>{body}"
        f'<script type="application/json" id="explorer-data">{_json_script(data)}</script>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_page(out: Path, docs: dict[str, Document] | None = None, headline: Sequence[str] = DEFAULT_HEADLINE) -> Path:
    """Write `out`/index.html from the report sets published in `out` (atomically). Steps 3 and 4 both call it."""
    path = Path(out) / PAGE
    tmp = temp_sibling(path)
    tmp.write_text(build_page(out, docs, headline), encoding="utf-8")
    os.replace(tmp, path)
    return path
