"""reports/index.html: self-contained, works with either step's files alone, and filters in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corpus.beir import Document
from rag.answer_statistics import join, join_rows
from rag.report_page import ANSWER_JOIN, build_page, markdown_html, write_page
from tests.helpers import launch_chromium, require_chromium


def _png(path: Path, width: float, height: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    ax.plot([1, 2, 3], [0.2, 0.5, 0.4])
    fig.savefig(path, dpi=50)
    plt.close(fig)


def step3(folder: Path) -> None:
    (folder / "retrieval_summary.md").write_text(
        "# Retrieval evaluation\n\n- dataset: `onet`\n\n## 800 documents\n\n| metric | base | finetuned |\n"
        "|---|---|---|\n| Hit@10 | 0.61 | 0.78 |\n",
        encoding="utf-8",
    )
    pd.DataFrame({"arm": ["base"], "metric": ["hit"], "k": [10], "value": [0.61]}).to_csv(
        folder / "retrieval_metrics.csv", index=False
    )
    _png(folder / "hit_at_k.png", 10, 4)  # wide: must be shown whole, not cropped to a square


def step4(folder: Path) -> None:
    (folder / "rag_compare_summary.md").write_text(
        "# RAG comparison\n\nfinetuned vs base: retrieval fixed 1 query.\n", encoding="utf-8"
    )
    rows = [
        ("q1", "Repair leaking pipes.", "fixed", 4, 1, "An electrician [1].", "A plumber [1].", False, True),
        ("q2", "Plan staff budgets.", "both_hit", 1, 1, "HR managers [1].", "HR managers do it [1].", True, True),
        ("q3", "Cook meals for guests.", "both_miss", 0, 0, "No passage matches.", "Chefs [2].", False, True),
    ]
    pd.DataFrame(
        rows,
        columns=[
            "query_id",
            "query",
            "verdict",
            "base_rank",
            "finetuned_rank",
            "base_answer",
            "finetuned_answer",
            "base_correct",
            "finetuned_correct",
        ],
    ).assign(base_context_ids="d1;d2", finetuned_context_ids="d2;d1").to_csv(
        folder / "rag_compare_report.csv", index=False
    )
    t = join(
        "base", "finetuned", np.array([4, 1, 0]), np.array([1, 1, 0]), np.array([0, 1, 0]), np.array([1, 1, 1]), k=3
    )
    pd.DataFrame(join_rows([t])).to_csv(folder / ANSWER_JOIN, index=False)


def _no_external_references(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)


def test_markdown_subset():
    out = markdown_html("# T\n\ntext with `code` and **bold**\n\n| a | b |\n|---|---|\n| 1 | <2> |\n- x\n- y\n")
    assert "<h3>T</h3>" in out and "<code>code</code>" in out and "<b>bold</b>" in out
    assert "<td>&lt;2&gt;</td>" in out and "<li>x</li><li>y</li>" in out


@pytest.mark.parametrize("steps", [("3",), ("4",), ("3", "4"), ()])
def test_page_with_whatever_is_present(tmp_path, steps):
    if "3" in steps:
        step3(tmp_path)
    if "4" in steps:
        step4(tmp_path)
    page = build_page(tmp_path, {"d1": Document("d1", "Plumbers", "t")})
    _no_external_references(page)
    assert ("Hit@10" in page) == ("3" in steps) and ("data:image/png;base64," in page) == ("3" in steps)
    assert ("Repair leaking pipes." in page) == ("4" in steps)
    assert ("3_eval_retrieval.py writes them" in page) == ("3" not in steps)
    assert ("4_rag_compare.py writes it" in page) == ("4" not in steps)
    if "4" in steps:
        assert "d1 Plumbers" in page and 'data-verdict="fixed"' in page


@pytest.mark.browser
@pytest.mark.slow
def test_page_offline_in_chromium(tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    step3(tmp_path)
    step4(tmp_path)
    path = write_page(tmp_path)
    requests = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            pg = browser.new_page(viewport={"width": 1200, "height": 900})
            pg.on("request", lambda r: requests.append(r.url))
            pg.goto(path.as_uri(), wait_until="load")
            assert pg.locator("h2", has_text="Step 3: retrieval").is_visible()
            assert pg.locator("h2", has_text="Step 4: answers").is_visible()
            img = pg.locator(".pictures img").first
            natural, shown = img.evaluate("i => [i.naturalWidth / i.naturalHeight, i.width / i.height]")
            assert natural > 2 and shown == pytest.approx(natural, rel=0.02)  # whole, not cropped
            assert pg.locator(".query:visible").count() == 3
            pg.locator("#filter-text").fill("plumber")
            assert pg.locator(".query:visible").count() == 1
            assert "Repair leaking pipes." in pg.locator(".query:visible").inner_text()
            pg.locator("#filter-text").fill("")
            pg.locator("#filter-verdict").select_option("both_miss")
            assert pg.locator(".query:visible").count() == 1 and pg.locator("#shown").inner_text() == "1"
        finally:
            browser.close()
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
