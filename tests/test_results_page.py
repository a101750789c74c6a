"""docs/results.md is generated from a report folder: on a real (small) report set of steps 3 and 4, every figure on
the page is the report's, and the machine facts are this machine's."""

from __future__ import annotations

import os
import subprocess

import pandas as pd
import pytest

from corpus.cli import run_cli
from ragtune.cli import entry
from ragtune.results_page import main
from tests.helpers import ROOT, stub_rag_flags


def row(page: str, first_cell: str) -> list[str]:
    """The cells of the first markdown table row whose first cell is `first_cell`."""
    line = next(x for x in page.splitlines() if x.startswith(f"| {first_cell} |"))
    return [c.strip() for c in line.strip("|").split("|")]


@pytest.fixture(scope="module")
def reports(tiny_dataset, tmp_path_factory):
    """Step 3 (base, BM25) and step 4 (two arms against a stub LLM) published into one folder."""
    import corpus.paths
    from tests.rag.conftest import StubLLM

    root = tmp_path_factory.mktemp("results_page")
    out = root / "reports"
    mp = pytest.MonkeyPatch()
    mp.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", root / "emb_cache")
    mp.setattr(corpus.paths, "CACHE_DIR", root / "cache")
    stub = StubLLM()
    try:
        step3 = ["--data", str(tiny_dataset), "--arms", "base=base", "bm25", "--bootstrap", "500"]
        assert run_cli(entry("eval"), [*step3, "--latency-queries", "2", "--out", str(out)]) == 0
        assert run_cli(entry("rag"), [*stub_rag_flags(stub.base_url, tiny_dataset, out), "--bootstrap", "500"]) == 0
    finally:
        stub.close()
        mp.undo()
    return out


@pytest.mark.slow
def test_every_figure_comes_from_the_reports(reports, tmp_path):
    page = main(["--reports", str(reports), "--out", str(tmp_path / "docs" / "results.md")]).read_text()
    m = pd.read_csv(reports / "retrieval_metrics.csv")
    arms = m[m["kind"] == "arm"]
    for arm in ("base", "bm25"):
        cells = row(page, f"`{arm}`")
        for i, (metric, k) in enumerate((("hit", 10), ("mrr", 10), ("ndcg", 10), ("recall", 100)), start=1):
            value = arms[(arms["arm"] == arm) & (arms["metric"] == metric) & (arms["k"] == k)]["value"].iloc[0]
            assert cells[i] == f"{value:.3f}", (arm, metric)
    d = m[(m["arm"] == "bm25 - base") & (m["metric"] == "mrr") & (m["k"] == 10)].iloc[0]
    bm25 = row(page, "`bm25`")
    assert bm25[5] == f"{d['value']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"
    o = pd.read_csv(reports / "retrieval_outcomes.csv").iloc[0]
    assert bm25[7] == f"{o['fixed']} / {o['regressed']}"

    answers = page[page.index("## Answers") :]
    s = pd.read_csv(reports / "rag_compare_summary.csv")
    for arm in ("base", "finetuned"):
        c = s[(s["arm"] == arm) & (s["metric"] == "correct")].iloc[0]
        assert row(answers, f"`{arm}`")[1] == f"{c['value']:.2f} [{c['ci_low']:.2f}, {c['ci_high']:.2f}]"

    # the machine: this one, and the commit checked out
    assert row(page, "cores")[1] == str(os.cpu_count())
    cpuinfo = open("/proc/cpuinfo", encoding="utf-8").read() if os.path.exists("/proc/cpuinfo") else ""
    if "model name" in cpuinfo:
        model = next(x for x in cpuinfo.splitlines() if x.startswith("model name")).split(":", 1)[1].strip()
        assert row(page, "CPU")[1] == model
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:
        assert row(page, "git commit")[1].startswith(head.stdout.strip())
    assert "## Between machines" in page and "0.738" in page


@pytest.mark.slow
def test_compare_with_another_run_lists_the_differences(reports, tmp_path):
    page = main(["--reports", str(reports), "--out", str(tmp_path / "r.md"), "--compare", str(reports)]).read_text()
    spread = page[page.index("## Between machines") :]
    diffs = [x.split("|")[-2].strip() for x in spread.splitlines() if x.startswith("| `")]
    assert len(diffs) == 2 * 4 and set(diffs) == {"+0.000"}  # the same run twice: no difference


def test_a_folder_without_reports_is_one_line(tmp_path, capsys):
    rc = run_cli(main, ["--reports", str(tmp_path), "--out", str(tmp_path / "results.md")])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run steps 3 and 4" in err[0]
    assert not (tmp_path / "results.md").exists()


@pytest.mark.slow
def test_the_readme_table_is_written_from_the_same_rows(reports, tmp_path):
    from tests.test_docs import readme_matches_page

    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n\n<!-- results-table: generated -->\n| arm | old |\n|---|---|\n| `base` | 0.1 |\n<!-- /results-table -->\n"
        "\nafter\n",
        encoding="utf-8",
    )
    page = main(["--reports", str(reports), "--out", str(tmp_path / "results.md"), "--readme", str(readme)])
    text = readme.read_text(encoding="utf-8")
    readme_matches_page(text, page.read_text(encoding="utf-8"))
    assert "| old |" not in text and text.endswith("<!-- /results-table -->\n\nafter\n")
    assert "Recall@100" in text and "| `bm25` |" in text
