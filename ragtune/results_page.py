"""docs/results.md: the measured figures of one run, regenerated from its report folder, with the machine and
software they came from and how much they move between machines. The README's table is copied from this page.

    python -m ragtune.results_page [--reports reports] [--out docs/results.md] [--readme README.md]
                                   [--compare OTHER_REPORTS]
    make results                   (reports/ → docs/results.md and README.md's table)

Reads what steps 3 and 4 published (retrieval_metrics.csv, retrieval_outcomes.csv, retrieval_speed.csv,
retrieval_card.json; rag_compare_summary.csv, rag_answer_join.csv, rag_compare_card.json); a step that did not
run is left out. Nothing is computed here that the steps did not report.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from corpus.errors import RagtuneError
from corpus.options import option
from harness.retrieval_report import FILES, LABELS, headline_cutoffs

ROOT = Path(__file__).resolve().parent.parent
ANSWER_SUMMARY = "rag_compare_summary.csv"
ANSWER_JOIN = "rag_answer_join.csv"
ANSWER_CARD = "rag_compare_card.json"
# what two fresh clones' `make demo` gave on two machines of the same kind (2 cores, same commit and pins): the
# noise a reader should allow before calling a difference between machines a change
KNOWN_SPREAD = (
    "Two fresh clones of the same commit, each running `make demo` on its own 2-core machine, wrote Hit@10 0.742 "
    "and 0.738 for the fine-tuned model and 62/22 and 62/24 fixed/regressed queries. Training is seeded, but "
    "the CPU's instruction set (bf16 where it has it), its thread count and the order of floating-point sums "
    "differ between machines, so the fine-tuned weights differ in their last bits and a few borderline queries "
    "change rank. Read headline metrics within about ±0.01 and fixed/regressed counts within a few queries as "
    "the same result; the intervals above are for query sampling, not for this."
)


@dataclass
class ResultsPageConfig:
    reports: str = option("reports", help="report folder that steps 3 and 4 published into")
    out: str = option("docs/results.md", help="markdown page to write")
    compare: str | None = option(
        None, help="a second report folder (another machine's run): its headline figures and the differences"
    )
    readme: str | None = option(
        None, help="also replace the results table between the markers of this README (make results: README.md)"
    )


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / name
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RagtuneError(f"{path}: unreadable CSV ({exc})") from None


def _card(folder: Path, name: str) -> dict:
    path = folder / name
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RagtuneError(f"{path}: invalid JSON ({exc})") from None


def _ci(value: float, low: float, high: float, signed: bool = False, digits: int = 3) -> str:
    f = f"+.{digits}f" if signed else f".{digits}f"
    if not math.isfinite(low) or not math.isfinite(high):
        return format(value, f)
    return f"{value:{f}} [{low:{f}}, {high:{f}}]"


def _p(p: float) -> str:
    if not math.isfinite(p):
        return ""
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}" if p < 0.01 else f"{p:.2f}"


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else "?"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]


# ------------------------------------------------------------------------------------------------ machine facts


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "unknown (not a git checkout)"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"


def _written_at(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC") if path.exists() else "-"


def machine_lines(reports: Path, card: dict) -> list[str]:
    versions = card.get("versions", {})
    rows = [
        ["CPU", _cpu_model()],
        ["cores", str(os.cpu_count())],
        ["memory", _memory_gib()],
        ["system", platform.platform()],
        ["git commit", _git_commit()],
        ["step 3 reports written", _written_at(reports / FILES["card"])],
        ["step 4 reports written", _written_at(reports / ANSWER_CARD)],
        ["page generated", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")],
        ["Python", versions.get("python", platform.python_version())],
        *([name, v] for name, v in versions.items() if name != "python"),
    ]
    return [
        "## Machine and software",
        "",
        "The machine this page was generated on: generate it on the machine that wrote the reports.",
        "",
        *_table(["", ""], rows),
    ]


# ---------------------------------------------------------------------------------------------------- step 3


def _value(m: pd.DataFrame, kind: str, arm: str, metric: str, k: int) -> pd.Series | None:
    sel = m[(m["kind"] == kind) & (m["arm"] == arm) & (m["metric"] == metric) & (m["k"] == k)]
    return sel.iloc[0] if len(sel) else None


def _short(path: str, reports: Path) -> str:
    """A path under the checkout that wrote the reports, relative to it (data/onet, not /home/…/data/onet)."""
    try:
        return str(Path(path).resolve().relative_to(reports.resolve().parent))
    except (ValueError, OSError):
        return path


def _pool(cfg: dict, pool_file: str, reports: Path) -> str:
    if cfg.get("sizes"):
        return "pools of " + ", ".join(f"{s:,}" for s in cfg["sizes"]) + " built on the fly"
    return f"`{_short(pool_file, reports)}`" if pool_file else "the whole corpus"


def _largest(metrics: pd.DataFrame) -> tuple[int, pd.DataFrame, list[str]]:
    size = int(metrics["size"].max())
    m = metrics[metrics["size"] == size]
    return size, m, list(dict.fromkeys(m[m["kind"] == "arm"]["arm"]))


def headline_rows(reports: Path, metrics: pd.DataFrame, card: dict) -> tuple[list[str], list[list[str]]]:
    """The results table: per arm on the largest pool its headline metrics, the MRR Δ against the first arm with
    CI and p, the fixed/regressed counts, latency and training minutes."""
    cfg = card.get("config", {})
    cuts = headline_cutoffs(sorted({int(k) for k in metrics["k"]}))
    size, m, arms = _largest(metrics)
    base = arms[0]
    outcomes = _read(reports, FILES["outcomes"])
    speed = _read(reports, FILES["speed"])
    header = [
        "arm",
        *(f"{LABELS[mt]}@{k}" for mt, k in cuts),
        f"Δ MRR@{cuts[1][1]} [{cfg.get('confidence', 0.95):.0%} CI]",
    ]
    header += ["p", f"fixed / regressed (Hit@{cfg.get('fix_k', 10)})", "ms/query (p50)", "training min"]
    rows = []
    for arm in arms:
        cells = [f"`{arm}`"]
        for mt, k in cuts:
            v = _value(m, "arm", arm, mt, k)
            cells.append(f"{v['value']:.3f}" if v is not None else "-")
        d = _value(m, "delta", f"{arm} - {base}", cuts[1][0], cuts[1][1])
        cells += (
            [_ci(d["value"], d["ci_low"], d["ci_high"], signed=True), _p(d["p_value"])] if d is not None else ["", ""]
        )
        o = None if outcomes is None else outcomes[(outcomes["size"] == size) & (outcomes["arm"] == arm)]
        o = o[o["baseline"] == base] if o is not None else None
        cells.append(f"{int(o['fixed'].iloc[0])} / {int(o['regressed'].iloc[0])}" if o is not None and len(o) else "")
        s = None if speed is None else speed[(speed["size"] == size) & (speed["arm"] == arm)]
        if s is not None and len(s):
            lat, train = s["latency_p50_ms"].iloc[0], s["training_minutes"].iloc[0]
            cells += [f"{lat:.1f}" if math.isfinite(lat) else "-", f"{train:.1f}" if math.isfinite(train) else "-"]
        else:
            cells += ["-", "-"]
        rows.append(cells)
    return header, rows


# the README's copy of the results table: the same cells, less the p-value, latency and training columns
README_START, README_END = "<!-- results-table", "<!-- /results-table -->"
README_DROPPED = ("p", "ms/query (p50)", "training min")


def readme_table(header: list[str], rows: list[list[str]]) -> list[str]:
    keep = [i for i, h in enumerate(header) if h not in README_DROPPED]
    return _table([header[i] for i in keep], [[r[i] for i in keep] for r in rows])


def write_readme_table(readme: Path, table: list[str]) -> None:
    """Replace the table between the README's results-table markers (the markers stay)."""
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise RagtuneError(f"{readme}: no '{README_START} ... {README_END}' markers around a results table")
    head, _, rest = text.partition(README_START)
    marker_line, _, _ = rest.partition("\n")
    _, _, tail = rest.partition(README_END)
    readme.write_text(
        head + README_START + marker_line + "\n" + "\n".join(table[:-1]) + "\n" + README_END + tail, encoding="utf-8"
    )


def retrieval_lines(reports: Path, metrics: pd.DataFrame, card: dict) -> list[str]:
    cfg = card.get("config", {})
    cuts = headline_cutoffs(sorted({int(k) for k in metrics["k"]}))
    size, m, arms = _largest(metrics)
    base = arms[0]
    n_queries = int(m["n_queries"].iloc[0])
    conf = cfg.get("confidence", 0.95)
    lines = [
        "## Retrieval (step 3)",
        "",
        f"`{_short(card.get('data') or cfg.get('data') or '?', reports)}`, split `{cfg.get('split', '?')}`: {n_queries:,} queries, "
        f"{size:,} documents in the pool ({_pool(cfg, card.get('pool_file', ''), reports)}), {cfg.get('index', 'exact')} "
        f"search. Δ: paired difference against `{base}` with its {conf:.0%} bootstrap CI "
        f"({_count(cfg.get('bootstrap'))} resamples); p: paired randomization test, two-sided. "
        "Source: `retrieval_metrics.csv`, `retrieval_outcomes.csv`, `retrieval_speed.csv`.",
        "",
    ]
    lines += _table(*headline_rows(reports, metrics, card))
    lines += _delta_lines(m, arms, base, cuts)
    if metrics["size"].nunique() > 1:
        lines += _size_lines(metrics, arms, base, cuts[1])
    return lines


def _delta_lines(m: pd.DataFrame, arms: list[str], base: str, cuts) -> list[str]:
    rows = []
    for arm in arms[1:]:
        cells = [f"`{arm}`"]
        for mt, k in cuts:
            d = _value(m, "delta", f"{arm} - {base}", mt, k)
            cells.append(
                f"{_ci(d['value'], d['ci_low'], d['ci_high'], signed=True)}, p {_p(d['p_value'])}"
                if d is not None
                else ""
            )
        rows.append(cells)
    if not rows:
        return []
    return [
        f"Every headline metric against `{base}`:",
        "",
        *_table(["arm", *(f"Δ {LABELS[mt]}@{k}" for mt, k in cuts)], rows),
    ]


def _size_lines(metrics: pd.DataFrame, arms: list[str], base: str, cut: tuple[str, int]) -> list[str]:
    mt, k = cut
    rows = []
    for size in sorted(metrics["size"].unique()):
        m = metrics[metrics["size"] == size]
        cells = [f"{int(size):,}"]
        for arm in arms:
            v = _value(m, "arm", arm, mt, k)
            d = _value(m, "delta", f"{arm} - {base}", mt, k)
            text = f"{v['value']:.3f}" if v is not None else "-"
            if d is not None:
                text += f" ({_ci(d['value'], d['ci_low'], d['ci_high'], signed=True)})"
            cells.append(text)
        rows.append(cells)
    return [f"{LABELS[mt]}@{k} by pool size (Δ against `{base}`):", "", *_table(["documents", *arms], rows)]


# ---------------------------------------------------------------------------------------------------- step 4


def answer_lines(reports: Path, summary: pd.DataFrame, card: dict) -> list[str]:
    means = summary[~summary["metric"].str.endswith("_diff") & (summary["arm"] != "paired")]
    arms = list(dict.fromkeys(means[means["metric"] == "correct"]["arm"]))
    if not arms:
        return []
    named = [a.split("=")[0] for a in card.get("arms", [])]
    base = next((a for a in named if a in arms), arms[0])
    llm = card.get("llm", {})

    def get(arm: str, metric: str) -> pd.Series | None:
        sel = summary[(summary["arm"] == arm) & (summary["metric"] == metric)]
        return sel.iloc[0] if len(sel) else None

    header = ["arm", "correct [CI]", "names a wrong one", "relevant in context", f"Δ correct vs {base} [CI]", "p"]
    header += ["prompt tokens", "s/answer"]
    rows = []
    for arm in arms:
        c, w, hit = get(arm, "correct"), get(arm, "names_wrong"), get(arm, "context_hit_rate")
        d = get(f"{arm}-{base}", "correct_diff")
        tok, lat = get(arm, "prompt_tokens"), get(arm, "latency_s")
        rows.append(
            [
                f"`{arm}`",
                _ci(c["value"], c["ci_low"], c["ci_high"], digits=2),
                f"{w['value']:.2f}" if w is not None else "",
                f"{hit['value']:.2f}" if hit is not None else "",
                _ci(d["value"], d["ci_low"], d["ci_high"], signed=True, digits=2) if d is not None else "",
                _p(d["p_value"]) if d is not None else "",
                f"{tok['value']:.0f}" if tok is not None and math.isfinite(tok["value"]) else "-",
                f"{lat['value']:.1f}" if lat is not None and math.isfinite(lat["value"]) else "-",
            ]
        )
    lines = [
        "## Answers (step 4)",
        "",
        f"{card.get('queries', '?')} `{card.get('split', 'test')}` queries, top {card.get('top_k', '?')} passages, "
        f"at most {card.get('max_tokens', '?')} answer tokens, model `{llm.get('model', '?')}`. Correct: the answer "
        "names the relevant item (rule in [steps/4-rag.md](steps/4-rag.md)); CIs by bootstrap, p by paired "
        "randomization. Source: `rag_compare_summary.csv`, `rag_answer_join.csv`.",
        "",
        *_table(header, rows),
    ]
    split = summary[summary["metric"] == "correct_split_diff"]
    if len(split):
        effect = float(card.get("effect", 0.1))
        n = int(split["n"].iloc[0])
        parts = [
            f"`{r.arm.replace('-', '` − `', 1)}` {r.value:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}], smallest "
            f"detectable difference {r.mde:.3f} (a difference of {effect:.2f}: about "
            f"{math.ceil(n * (r.mde / effect) ** 2):,} answered queries)"
            for r in split.itertuples()
        ]
        lines += [
            f"For the whole split: the {n} answered queries are a stratified sample (more of them where the arms' "
            "retrieval differs), weighted back to every query of the split; 80% power at the stated confidence: "
            + "; ".join(parts)
            + ".",
            "",
        ]
    verdicts = summary[(summary["arm"] == "paired") & summary["metric"].str.startswith("verdict_")]
    if len(verdicts):
        lines += [
            "Retrieval verdicts per query (first arm against the second): "
            + ", ".join(
                f"{r.metric.removeprefix('verdict_').replace('_', ' ')} {int(r.value)}" for r in verdicts.itertuples()
            )
            + ".",
            "",
        ]
    join = _read(reports, ANSWER_JOIN)
    if join is not None and len(join):
        j = join[(join["earlier"] == base) & (join["metric"] == "correct")]
        if len(j):
            jrows = [
                [f"`{r.later}`", r.retrieval.replace("_", " "), str(r.improved), str(r.worsened), str(r.unchanged)]
                for r in j.itertuples()
            ]
            lines += [
                f"The join: queries whose retrieval (top {int(j['k'].iloc[0])}) each arm fixed or regressed against "
                f"`{base}`, and what happened to the answer:",
                "",
                *_table(["arm", "retrieval", "answer became correct", "became wrong", "unchanged"], jrows),
            ]
    return lines


# ---------------------------------------------------------------------------------------------------- spread


def spread_lines(reports: Path, compare: Path | None) -> list[str]:
    lines = ["## Between machines", "", KNOWN_SPREAD, ""]
    if compare is None:
        return lines
    a, b = _read(reports, FILES["metrics"]), _read(compare, FILES["metrics"])
    if b is None:
        raise RagtuneError(f"{compare}: no {FILES['metrics']} (--compare takes another step 3 report folder)")
    size = int(a["size"].max())
    cuts = headline_cutoffs(sorted({int(k) for k in a["k"]}))
    rows = []
    for arm in dict.fromkeys(a[(a["kind"] == "arm") & (a["size"] == size)]["arm"]):
        for mt, k in cuts:
            x = _value(a[a["size"] == size], "arm", arm, mt, k)
            y = _value(b[b["size"] == size], "arm", arm, mt, k)
            if x is not None and y is not None:
                rows.append([f"`{arm}`", f"{LABELS[mt]}@{k}", f"{x['value']:.3f}", f"{y['value']:.3f}",
                             f"{y['value'] - x['value']:+.3f}"])  # fmt: skip
    return lines + [
        f"Measured here against `{compare}`:",
        "",
        *_table(["arm", "metric", "this page", "the other run", "difference"], rows),
    ]


# ---------------------------------------------------------------------------------------------------- the page


def build_page(reports: Path, compare: Path | None = None) -> str:
    reports = Path(reports)
    metrics = _read(reports, FILES["metrics"])
    summary = _read(reports, ANSWER_SUMMARY)
    if metrics is None and summary is None:
        raise RagtuneError(
            f"{reports}: neither {FILES['metrics']} nor {ANSWER_SUMMARY}: run steps 3 and 4 (`make demo`) first"
        )
    card = _card(reports, FILES["card"])
    lines = [
        "# Measured results",
        "",
        f"Generated by `make results` (`python -m ragtune.results_page --reports {reports.name}`) from the reports of "
        "one run; regenerate it rather than edit it. Every figure below is read from a report file named beside "
        "its table; the cards (`retrieval_card.json`, `rag_compare_card.json`) hold the full settings and model "
        "fingerprints.",
        "",
    ]
    lines += machine_lines(reports, card)
    if metrics is not None:
        lines += retrieval_lines(reports, metrics, card)
    if summary is not None:
        lines += answer_lines(reports, summary, _card(reports, ANSWER_CARD))
    lines += spread_lines(reports, Path(compare) if compare else None)
    return "\n".join(lines).rstrip() + "\n"


def write_page(cfg: ResultsPageConfig) -> Path:
    from corpus.jsonl import temp_sibling
    from corpus.output_location import check_output_file

    out = check_output_file(cfg.out)
    text = build_page(Path(cfg.reports), Path(cfg.compare) if cfg.compare else None)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(out)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    if cfg.readme:
        reports = Path(cfg.reports)
        metrics = _read(reports, FILES["metrics"])
        if metrics is None:
            raise RagtuneError(f"{reports}: no {FILES['metrics']}, so no results table for {cfg.readme}")
        write_readme_table(
            Path(cfg.readme), readme_table(*headline_rows(reports, metrics, _card(reports, FILES["card"])))
        )
    return out


def main(argv: list[str] | None = None) -> Path:
    from corpus.cli import ArgumentParser
    from ragtune.cli import add_config_arguments, config_from_namespace

    parser = ArgumentParser(prog="python -m ragtune.results_page", description=__doc__.split("\n\n")[0])
    add_config_arguments(parser, ResultsPageConfig)
    cfg = config_from_namespace(ResultsPageConfig, parser.parse_args(argv))
    out = write_page(cfg)
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    from corpus.cli import exit_with

    exit_with(lambda argv=None: main(sys.argv[1:] if argv is None else argv))
