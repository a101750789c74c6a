"""reports/index.html built from a real small run's published files (step 3 over two pool sizes, step 4 against the
stub LLM): self-contained, works with either step's files alone, leads with figures that match the CSVs, and its
explorer filters to exactly the queries the fixed/regressed rule marks, in a real browser with the network blocked."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from corpus.cli import run_cli
from harness.outcomes import verdict
from rag.report_page import PAGE, build_page, markdown_html, write_page
from ragtune.cli import entry
from tests.helpers import launch_chromium, require_chromium, stub_rag_flags

pytestmark = [pytest.mark.slow]

STEP3_FILES = ("retrieval_metrics.csv", "retrieval_per_query.csv", "retrieval_outcomes.csv", "retrieval_speed.csv",
               "retrieval_card.json", "retrieval_summary.md")  # fmt: skip
STEP4_FILES = ("rag_compare_report.csv", "rag_compare_summary.csv", "rag_compare_summary.md", "rag_answer_join.csv",
               "rag_compare_card.json")  # fmt: skip
FIX_K = 3  # small enough that the 20-document fixture has queries fixed and regressed


@pytest.fixture(scope="module")
def run_reports(tiny_dataset, tmp_path_factory):
    """Step 3 (base, bm25, their hybrid; pools of 12 and 20 documents) and step 4 (base, bm25, both brackets) into one folder."""
    import corpus.paths
    from tests.rag.conftest import StubLLM, first_title_reply

    root = tmp_path_factory.mktemp("page")
    out = root / "reports"
    mp = pytest.MonkeyPatch()
    mp.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", root / "emb")
    mp.setattr(corpus.paths, "CACHE_DIR", root / "cache")
    stub = StubLLM()
    stub.reply = first_title_reply  # names the first passage's occupation: right when retrieval put it first
    try:
        eval_args = ["--data", str(tiny_dataset), "--arms", "base=base", "bm25", "hybrid=bm25+base", "--sizes", "12,20", "--no-external",
                     "--k", "1,3,10", "--fix-k", str(FIX_K), "--bootstrap", "500", "--latency-queries", "2",
                     "--out", str(out)]  # fmt: skip
        assert run_cli(entry("eval"), eval_args) == 0
        flags = stub_rag_flags(stub.base_url, tiny_dataset, out)
        at = flags.index("--arms")
        flags[at + 1 : at + 3] = ["base=base", "bm25"]
        flags[flags.index("--limit") + 1] = "8"
        assert run_cli(entry("rag"), [*flags, "--closed-book", "--bootstrap", "500"]) == 0
    finally:
        stub.close()
        mp.undo()
    return out


@pytest.fixture(scope="module")
def docs(tiny_dataset):
    from corpus.beir import load_dataset

    return load_dataset(tiny_dataset).corpus


def _copy(src: Path, dst: Path, names, runs: bool) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(src / name, dst / name)  # follows the report set's links: plain files, as a user might mail
    if runs:
        shutil.copytree(src / "runs", dst / "runs")
    return dst


def _data(page: str) -> dict:
    text = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(text)


def _no_external_references(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and "url(http" not in page


def outcome_ids(folder: Path, baseline: str, arm: str, k: int, outcome: str) -> list[str]:
    """The queries the fixed/regressed rule (harness.outcomes) gives `outcome`, from step 3's per-query file."""
    pq = pd.read_csv(folder / "retrieval_per_query.csv")
    pq = pq[pq["size"] == pq["size"].max()]
    rank = {a: dict(zip(g["query_id"], g["first_relevant_rank"].fillna(0).astype(int), strict=True))
            for a, g in pq.groupby("arm")}  # fmt: skip
    return [q for q in rank[baseline] if verdict(rank[baseline][q], rank[arm][q], k) == outcome]


def test_markdown_subset():
    out = markdown_html("# T\n\ntext with `code` and **bold**\n\n| a | b |\n|---|---|\n| 1 | <2> |\n- x\n- y\n")
    assert "<h3>T</h3>" in out and "<code>code</code>" in out and "<b>bold</b>" in out
    assert "<td>&lt;2&gt;</td>" in out and "<li>x</li><li>y</li>" in out


@pytest.mark.parametrize("steps", [("3",), ("4",), ("3", "4"), ()])
def test_page_with_whatever_is_present(run_reports, docs, tmp_path, steps):
    folder = _copy(run_reports, tmp_path / "r", (STEP3_FILES if "3" in steps else ()) + (STEP4_FILES if "4" in steps else ()),
                   runs="3" in steps)  # fmt: skip
    path = write_page(folder, docs)
    page = path.read_text(encoding="utf-8")
    _no_external_references(page)
    assert ('id="headline"' in page) == ("3" in steps) and ('id="forest"' in page) == ("3" in steps)
    assert ('id="answer-headline"' in page) == ("4" in steps) and ('id="join"' in page) == ("4" in steps)
    # step 4's split-wide estimates (the stratified sample weighted back) with the smallest detectable difference
    assert ('id="split-estimates"' in page) == ("4" in steps)
    if "4" in steps:
        split = pd.read_csv(run_reports / "rag_compare_summary.csv").query("metric == 'correct_split_diff'")
        assert f"smallest detectable difference {split['mde'].iloc[0]:.3f}" in page
    assert ("3_eval_retrieval.py (ragtune eval) writes them" in page) == ("3" not in steps)
    assert ("4_rag_compare.py (ragtune rag) writes it" in page) == ("4" not in steps)
    assert "data:image/png" not in page  # every chart is SVG drawn from the data, never a cropped picture
    data = _data(page)
    n3 = len(pd.read_csv(run_reports / "retrieval_per_query.csv")["query_id"].unique())
    n4 = len(pd.read_csv(run_reports / "rag_compare_report.csv"))
    assert len(data["queries"]) == (n3 if "3" in steps else n4 if "4" in steps else 0)
    if "4" in steps:
        report = pd.read_csv(run_reports / "rag_compare_report.csv")
        by_id = {q["id"]: q for q in data["queries"]}
        for row in report.to_dict("records"):
            q = by_id[row["query_id"]]
            assert q["q"] == row["query"] and q["a"]["closed_book"] == row["closed_book_answer"]
            assert q["c"]["base"] == bool(row["base_correct"])


def test_headline_and_figures_come_from_the_csvs(run_reports, docs):
    page = build_page(run_reports, docs)
    m = pd.read_csv(run_reports / "retrieval_metrics.csv")
    d = m[(m["kind"] == "delta") & (m["arm"] == "bm25 - base") & (m["metric"] == "mrr") & (m["k"] == 10)
          & (m["size"] == 20)].iloc[0]  # fmt: skip
    o = pd.read_csv(run_reports / "retrieval_outcomes.csv")
    o = o[(o["arm"] == "bm25") & (o["size"] == 20)].iloc[0]
    headline = re.search(r'<ul class="headline" id="headline">(.*?)</ul>', page, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", headline)
    assert f"bm25: MRR@10 {d['value']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]" in text
    assert f"{o['fixed']} queries fixed, {o['regressed']} regressed (Hit@{FIX_K})" in text
    assert ("better" in text) == (d["ci_low"] > 0) and ("worse" in text) == (d["ci_high"] < 0)
    # the headline metrics lead; MRR@1 (equal to Hit@1) and its kin are one click away, in the full grid
    cards = re.search(r'<table class="cards" id="headline-metrics">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r"<th>(\w+@\d+)</th>", cards) == ["MRR@10", "Hit@10", "nDCG@10"]  # no @100 at k = 1,3,10
    assert "MRR@1<" not in cards and "<details id='full-grid'>" in page and "MRR@1</th>" in page
    assert 'aria-label="Δ MRR@10 vs base by pool size"' in page  # two pool sizes ran
    other = build_page(run_reports, docs, headline=("ndcg@3", "hit@1"))
    cards = re.search(r'<table class="cards" id="headline-metrics">(.*?)</table>', other, re.S).group(1)
    assert re.findall(r"<th>(\w+@\d+)</th>", cards) == ["nDCG@3", "Hit@1"]
    # the commands rebuilt from the cards parse, and give the settings the run had
    from ragtune.cli import STEPS, config_from_namespace, step_module, step_parser

    def config(step: str, line: str):
        ns = step_parser(step, f"ragtune {step}").parse_args(shlex.split(line)[2:])
        return config_from_namespace(getattr(step_module(step), STEPS[step][1]), ns)

    commands = html.unescape(re.search(r"<pre id='commands'>(.*?)</pre>", page, re.S).group(1)).splitlines()
    card = json.loads((run_reports / "retrieval_card.json").read_text())["config"]
    c = config("eval", commands[0])
    assert c.fix_k == card["fix_k"] == FIX_K and c.no_external and c.bootstrap == 500
    assert c.k == card["k"] == [1, 3, 10] and c.sizes == card["sizes"] == [12, 20]
    assert c.arms == ["base=base", "bm25", "hybrid=bm25+base"]
    c = config("rag", commands[1])
    assert c.closed_book and c.oracle and c.limit == 8 and c.arms == ["base=base", "bm25"]
    assert c.endpoint.llm_model == "stub" and c.endpoint.llm_base_url.startswith("http://127.0.0.1:")


def test_explorer_data_marks_what_the_rule_marks(run_reports, docs):
    data = _data(build_page(run_reports, docs))
    assert data["fixK"] == FIX_K and data["arms"] == ["base", "bm25", "hybrid", "closed_book", "oracle"]
    pq = pd.read_csv(run_reports / "retrieval_per_query.csv")
    pq = pq[(pq["size"] == 20) & (pq["arm"] == "bm25")].set_index("query_id")
    for q in data["queries"]:
        assert q["r"]["bm25"] == (
            0 if pd.isna(pq.loc[q["id"], "first_relevant_rank"]) else pq.loc[q["id"], "first_relevant_rank"]
        )
        top = [data["docs"][i][0] for i in q["t"]["bm25"]]
        assert top[:3] == list(pq.loc[q["id"], ["top1_id", "top2_id", "top3_id"]])  # the TREC run of the 20-doc pool
        assert data["docs"][q["t"]["bm25"][0]][1] == docs[top[0]].title


@pytest.mark.browser
def test_page_offline_in_chromium(run_reports, docs, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    folder = _copy(run_reports, tmp_path / "r", STEP3_FILES + STEP4_FILES, runs=True)
    path = write_page(folder, docs)
    regressed = outcome_ids(folder, "base", "bm25", FIX_K, "regressed")
    outcomes = pd.read_csv(folder / "retrieval_outcomes.csv")
    assert len(regressed) == outcomes[(outcomes["arm"] == "bm25") & (outcomes["size"] == 20)]["regressed"].iloc[0]
    assert regressed, "the fixture must regress some queries for this test to mean anything"
    report = pd.read_csv(folder / "rag_compare_report.csv").set_index("query_id")
    relevant = {}
    for line in (folder / "runs" / "qrels.test.txt").read_text().splitlines():
        q, _, d, grade = line.split()
        if float(grade) > 0:
            relevant.setdefault(q, set()).add(d)
    blocked, seen = [], []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})

            def route(r):
                seen.append(r.request.url)
                if r.request.url.startswith(("file:", "data:", "about:")):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            pg = context.new_page()
            errors = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.goto(path.as_uri(), wait_until="load")
            headline = pg.locator("#headline li").first.inner_text()
            assert headline.startswith("bm25: MRR@10 ") and "queries fixed" in headline
            shown = int(pg.locator("#shown").inner_text())
            assert shown == len(pd.read_csv(folder / "retrieval_per_query.csv")["query_id"].unique())
            pg.locator("#chips button[data-outcome=regressed]").click()
            ids = pg.locator("#qtable tr.q").evaluate_all("rows => rows.map(r => r.dataset.id)")
            assert sorted(ids) == sorted(regressed) and pg.locator("#shown").inner_text() == str(len(regressed))
            for outcome in ("fixed", "both_hit", "both_miss"):
                pg.locator(f"#chips button[data-outcome={outcome}]").click()
                shown = pg.locator("#qtable tr.q").evaluate_all("rows => rows.map(r => r.dataset.id)")
                assert sorted(shown) == sorted(outcome_ids(folder, "base", "bm25", FIX_K, outcome))
            # another pair of arms: the same rule between them
            pg.locator("#arm-a").select_option("bm25")
            pg.locator("#arm-b").select_option("hybrid")
            shown = pg.locator("#qtable tr.q").evaluate_all("rows => rows.map(r => r.dataset.id)")
            assert sorted(shown) == sorted(outcome_ids(folder, "bm25", "hybrid", FIX_K, "both_miss"))
            pg.locator("#arm-a").select_option("base")
            pg.locator("#arm-b").select_option("bm25")
            pg.locator("#chips button[data-outcome=regressed]").click()
            # open a regressed query that step 4 answered, else the first one
            target = next((q for q in ids if q in report.index), ids[0])
            pg.locator(f'#qtable tr.q[data-id="{target}"]').click()
            detail = pg.locator(f'tr.detail[data-for="{target}"]')
            for arm in ("base", "bm25"):
                col = detail.locator(f'.armcol[data-arm="{arm}"]')
                trec = (folder / "runs" / f"{arm}.size20.trec").read_text().splitlines()
                top = [ln.split()[2] for ln in trec if ln.split()[0] == target][:10]
                titles = col.locator(".docs li b").all_inner_texts()
                assert titles == [docs[d].title for d in top]  # its top documents at the 20-document pool
                assert col.locator(".docs li.rel").count() == sum(d in relevant[target] for d in top)
            if target in report.index:
                for arm in ("base", "bm25", "closed_book", "oracle"):
                    col = detail.locator(f'.armcol[data-arm="{arm}"]')
                    assert report.loc[target, f"{arm}_answer"] in col.locator(".answer").inner_text()
                assert detail.locator(".diff").count() == 1
            pg.locator("#search").fill("zzzz-nothing-matches")
            pg.wait_for_function("document.querySelector('#shown').textContent === '0'")
            pg.locator("#search").fill("")
            pg.locator("#chips button[data-outcome='']").click()
            pg.locator("#answered").check()
            ids = pg.locator("#qtable tr.q").evaluate_all("rows => rows.map(r => r.dataset.id)")
            assert sorted(ids) == sorted(report.index)  # the queries step 4 answered
            assert errors == []
        finally:
            browser.close()
    assert blocked == [] and seen and all(u.startswith(("file:", "data:", "about:")) for u in seen)


@pytest.mark.browser
def test_500_queries_open_and_filter_quickly(run_reports, docs, tmp_path):
    """Scale: the real run's per-query rows repeated to 500 queries (ids made unique), three arms."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    folder = _copy(run_reports, tmp_path / "big", STEP3_FILES + STEP4_FILES, runs=True)
    pq = pd.read_csv(folder / "retrieval_per_query.csv")
    per = pq["query_id"].nunique()
    copies = -(-500 // per)
    pq = pd.concat([pq.assign(query_id=pq["query_id"] + f"~{i}", arm=pq["arm"]) for i in range(copies)])
    third = pq[pq["arm"] == "bm25"].assign(arm="again")
    pd.concat([pq, third]).to_csv(folder / "retrieval_per_query.csv", index=False)
    m = pd.read_csv(folder / "retrieval_metrics.csv")
    again = m[m["arm"] == "bm25"].assign(arm="again")
    pd.concat([m, again]).to_csv(folder / "retrieval_metrics.csv", index=False)
    for run in (folder / "runs").glob("*.trec"):
        lines = run.read_text().splitlines()
        run.write_text("\n".join(ln.replace(" ", f"~{i} ", 1) for i in range(copies) for ln in lines) + "\n")
    shutil.copy(folder / "runs" / "bm25.size20.trec", folder / "runs" / "again.size20.trec")
    path = write_page(folder, docs)
    assert len(_data(path.read_text())["queries"]) >= 500
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 900})
            start = time.perf_counter()
            pg.goto(path.as_uri(), wait_until="load")
            pg.locator("#qtable tr.q").nth(499).wait_for(state="attached")
            opened = time.perf_counter() - start
            start = time.perf_counter()
            pg.locator("#chips button[data-outcome=regressed]").click()
            pg.wait_for_function("document.querySelector('#chips button.on').dataset.outcome === 'regressed'")
            filtered = time.perf_counter() - start
            render_ms = pg.evaluate("window.__explorerRenderMs")
        finally:
            browser.close()
    print(f"500+ queries: opened in {opened:.2f} s, filtered in {filtered * 1000:.0f} ms (render {render_ms:.0f} ms)")
    assert opened < 5 and render_ms < 200  # generous for a loaded 2-core machine; measured far below
    assert PAGE == path.name


@pytest.mark.browser
def test_reports_tab_shows_the_page(run_reports, docs, minilm, tmp_path):
    """The chatbot's Reports tab: the review page in a frame tall enough to read, its Hit@k chart whole."""
    import os

    require_chromium()
    from playwright.sync_api import sync_playwright

    from harness.arm_engine import ArmEngine
    from harness.arms import parse_arms
    from rag.chat_app import build_app, serve
    from rag.chat_engine import ChatConfig, ChatEngine
    from rag.prompts import load_template
    from tests.helpers import free_port

    engine = ChatEngine(docs, ArmEngine(parse_arms(["base"]), docs), load_template(None), None)
    cfg = ChatConfig(pool="tiny", pool_documents=len(docs), arms={"base": "base"}, reports_dir=str(run_reports),
                     port=free_port())  # fmt: skip
    app = build_app(engine, cfg)
    serve(app, cfg, block=False)
    shot = tmp_path / "reports_tab.png"
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                pg = browser.new_page(viewport={"width": 1400, "height": 900})
                pg.goto(f"http://127.0.0.1:{cfg.port}/", wait_until="load")
                pg.get_by_role("tab", name="Reports").click()
                frame = pg.frame_locator("#report-page")
                headline = frame.locator("#headline li").first
                headline.wait_for(timeout=60_000)
                assert headline.inner_text().startswith("bm25: MRR@10 ")
                outer = pg.locator("#report-page").bounding_box()
                assert outer["height"] >= 600 and outer["width"] >= 1100
                chart = frame.locator("#hit-curve svg").first
                chart.scroll_into_view_if_needed()
                box = chart.bounding_box()
                # the whole picture inside the frame, drawn at its own aspect ratio (nothing cropped)
                assert outer["x"] <= box["x"] and box["x"] + box["width"] <= outer["x"] + outer["width"]
                assert outer["y"] <= box["y"] and box["y"] + box["height"] <= outer["y"] + outer["height"] + 1
                view = chart.evaluate("s => s.viewBox.baseVal.width / s.viewBox.baseVal.height")
                assert box["width"] / box["height"] == pytest.approx(view, rel=0.02)
                # the query table spans the frame, at a readable size
                table = frame.locator("#qtable")
                assert table.bounding_box()["width"] >= 0.9 * (outer["width"] - 60)
                size = table.evaluate("t => parseFloat(getComputedStyle(t).fontSize)")
                assert size >= 13
                frame.locator("#summary").scroll_into_view_if_needed()
                pg.screenshot(path=str(shot))
            finally:
                browser.close()
    finally:
        app.close()
    assert shot.stat().st_size > 20_000
    if os.environ.get("RAGTUNE_SCREENSHOT_DIR"):
        target = Path(os.environ["RAGTUNE_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / "reports_tab.png")
