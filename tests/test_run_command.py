"""`ragtune run`: the plan sizes the work to a budget from measured speeds, and the whole pipeline runs from a
folder of PDF, HTML, Word, Markdown and text files to the report page with the tiny local model."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from corpus.errors import RagtuneError
from ragtune.steps.run import MIN_ANSWERS, MIN_PASSAGES, PipelineConfig, Speeds, compared_arms, make_plan
from tests.helpers import ROOT

# a slow machine: 2 passages/s to encode, 200 word pieces/s to train, 10 s a query-writing reply, 8 s an answer
SLOW = Speeds(5.0, 2.0, 20.0, 200.0, 120.0, llm_start_s=5.0, query_reply_s=10.0, answer_s=8.0, llm="m")


def test_one_source_is_required():
    with pytest.raises(RagtuneError, match="one of --docs"):
        PipelineConfig()
    with pytest.raises(RagtuneError, match="one of --docs"):
        PipelineConfig(docs="a", data="b")


def test_without_a_budget_everything_is_asked_and_answered():
    plan = make_plan(PipelineConfig(docs="d"), 40, 100, SLOW, cached=0, queries=None)
    assert plan.passages_asked == 100 and plan.queries_asked == 200 and plan.answers == 10 and not plan.cuts
    assert plan.stages["query writing"] > 100 * 10  # every reply at the measured speed
    assert plan.stages["answers"] >= 10 * 3 * 8


def test_a_budget_cuts_passages_and_answers_and_says_so():
    speeds = replace(SLOW, answer_s=60.0)  # answers alone would take 30 minutes
    full = make_plan(PipelineConfig(docs="d"), 40, 100, speeds, cached=0, queries=None)
    budget_min = full.total_s / 60 / 3
    plan = make_plan(PipelineConfig(docs="d", budget=budget_min), 40, 100, speeds, cached=0, queries=None)
    assert MIN_PASSAGES <= plan.passages_asked < 100 and MIN_ANSWERS <= plan.answers < 10
    assert plan.total_s <= budget_min * 60
    assert any("passages" in c for c in plan.cuts) and any("test queries" in c for c in plan.cuts)
    # a little more time buys more passages: the sample is as large as the budget allows
    roomier = make_plan(PipelineConfig(docs="d", budget=budget_min + 1), 40, 100, speeds, cached=0, queries=None)
    assert roomier.passages_asked > plan.passages_asked
    # replies already cached cost nothing: a resumed run asks more passages within the same budget
    resumed = make_plan(PipelineConfig(docs="d", budget=budget_min), 40, 100, speeds, cached=60, queries=None)
    assert resumed.passages_asked > plan.passages_asked


def test_a_budget_too_small_for_the_smallest_run_says_by_how_much():
    plan = make_plan(PipelineConfig(docs="d", budget=1), 40, 100, SLOW, cached=0, queries=None)
    assert plan.passages_asked == MIN_PASSAGES and plan.answers == MIN_ANSWERS
    assert any("over the budget" in c for c in plan.cuts)


def test_labelled_data_asks_nothing_and_only_answers_shrink():
    plan = make_plan(PipelineConfig(data="d", budget=2), 50, 50, SLOW, cached=0, queries=300)
    assert plan.passages_asked == 0 and plan.stages["query writing"] == 0 and plan.queries_asked == 300


@pytest.mark.slow
def test_the_plan_times_the_endpoint_it_is_given(tiny_dataset, tmp_path, monkeypatch, capsys):
    """--data with --llm-base-url: the plan's answer time is that endpoint's (a stub that takes 2 s to reply)."""
    import corpus.paths
    from rag.llm_session import EndpointOptions
    from ragtune.steps import run as pipeline
    from tests.rag.conftest import StubLLM

    monkeypatch.setattr(corpus.paths, "CACHE_DIR", tmp_path / "cache")
    stub = StubLLM()
    stub.script, stub.sleep_s = ["sleep"], 2.0
    try:
        endpoint = EndpointOptions(llm_base_url=stub.base_url, llm_model="stub")
        cfg = PipelineConfig(data=str(tiny_dataset), budget=60, plan_only=True, endpoint=endpoint)
        result = pipeline.run(cfg)
    finally:
        stub.close()
    plan = result.plan
    assert len(stub.chat_requests) == 1  # one answer timed; labelled data asks for no queries
    assert 2.0 <= plan.speeds.answer_s < 30 and plan.speeds.query_reply_s == 0
    assert plan.passages_asked == 0 and plan.stages["query writing"] == 0
    assert plan.stages["answers"] >= plan.answers * 3 * 2.0
    assert plan.speeds.passages_per_s > 0 and plan.speeds.train_tokens_per_s > 0
    pipeline.show(result)
    out = capsys.readouterr().out
    assert "plan:" in out and "an answer 2." in out and "nothing was run" in out
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.json"))


@pytest.mark.slow
@pytest.mark.llm
def test_a_folder_of_every_format_goes_to_the_report_page_within_its_plan(tmp_path):
    from tests import document_files as files

    folder = files.mixed_folder(tmp_path / "handbook")
    (folder / "nurse_night.txt").write_text(files.NURSE.replace("surgical", "night"), encoding="utf-8")
    files.write_encrypted_pdf(folder / "locked.pdf", files.NURSE)
    home = tmp_path / "home"
    env = {**os.environ, "COLUMNS": "200", "RAGTUNE_HOME": str(home)}
    # a few training steps: the step rule's 40 would be most of this test's time, and is tested with step 2
    argv = ["run", "--docs", str(folder), "--budget", "6", "--max-steps", "4", "--local-model", "smollm2"]
    argv += ["--threads", "1"]
    proc = subprocess.run(
        [sys.executable, "-c", "from ragtune.cli import main; main()", *argv],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=1500,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    # the plan comes first, before any step's output
    assert out.index("plan:") < out.index("query writing") < out.index("estimate vs actual")
    assert "6 documents (1 unreadable file(s) skipped)" in out
    assert out.count("warning: skipped") == 1 and "locked.pdf: encrypted" in out
    card = json.loads((home / "data" / "handbook" / "dataset_card.json").read_text())
    assert card["source"]["skipped_files"] == 1 and card["source"]["documents"] == 6
    plan = json.loads((home / "reports" / "handbook" / "run_plan.json").read_text())
    assert set(plan["actual"]) >= {"query writing", "triplets", "pool", "training", "retrieval eval", "answers"}
    assert plan["estimated_s"] > 0 and plan["actual_s"] > 0
    # the report page names each passage's source file: the test query's relevant passage among them
    dataset = home / "data" / "handbook"
    titles = {r["_id"]: r["title"] for r in map(json.loads, (dataset / "corpus.jsonl").read_text().splitlines())}
    relevant = (dataset / "qrels" / "test.tsv").read_text().splitlines()[1].split("\t")[1]
    assert titles[relevant].startswith(tuple(f.relative_to(folder).as_posix() for f in folder.rglob("*.*")))
    page = (home / "reports" / "handbook" / "index.html").read_text()
    assert html.escape(titles[relevant]) in page
    # the retrieval evaluation compares the alternatives too; the answers stay with base and fine-tuned
    import csv

    with open(home / "reports" / "handbook" / "retrieval_speed.csv", newline="") as f:
        evaluated = {row["arm"] for row in csv.DictReader(f)}
    compared = {arm.split("=")[0] for arm in compared_arms(str(dataset), home / "runs" / "handbook" / "final")}
    assert evaluated == compared >= {"base", "finetuned", "bm25"}
    assert (home / "runs" / "handbook" / "final").is_dir()
    # the same command again resumes: no LLM reply is asked twice, the model is reused
    again = subprocess.run(
        [sys.executable, "-c", "from ragtune.cli import main; main()", *argv],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=1500,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    card = json.loads((home / "data" / "handbook" / "dataset_card.json").read_text())
    assert card["llm_calls"]["asked"] == 0 and "already trained" in again.stdout


def test_the_convex_hybrid_is_compared_only_where_dev_queries_can_fit_its_weight(tiny_dataset, tmp_path):
    import shutil

    alternatives = ["base=base", "finetuned=runs/x/final", "bm25"]
    assert compared_arms(str(tiny_dataset), "runs/x/final") == [*alternatives, "hybrid=bm25+finetuned:convex"]
    no_dev = tmp_path / "no_dev"
    shutil.copytree(tiny_dataset, no_dev)
    (no_dev / "qrels" / "dev.tsv").unlink()
    assert compared_arms(str(no_dev), "runs/x/final") == alternatives
    # step 0 carves dev queries from the training split of such a dataset: then the weight has its dev
    triplets = no_dev / "triplets"
    triplets.mkdir()
    train_query = (no_dev / "qrels" / "train.tsv").read_text().splitlines()[1].split("\t")[0]
    (triplets / "card.json").write_text(json.dumps({"dev": {"source": "carved from train"}}))
    (triplets / "dev.jsonl").write_text(json.dumps({"query_id": train_query}) + "\n")
    assert compared_arms(str(no_dev), "runs/x/final")[-1] == "hybrid=bm25+finetuned:convex"


def test_the_warm_up_reply_says_how_many_written_queries_the_filters_keep():
    from rag.query_generation import GenerationConfig
    from ragtune.steps.run import KEPT_SHARE, _kept_share

    passage = "Registered nurses assess patients after operations and change wound dressings on the ward."
    good = "night shift nurse jobs\nwhat does a surgical ward nurse do"
    rambling = " ".join(["the nurse"] * 30) + "\n" + passage  # too long, then a copy of the passage
    gen = GenerationConfig()
    assert _kept_share(good, passage, 2, gen) > KEPT_SHARE > _kept_share(rambling, passage, 2, gen)
    assert _kept_share(rambling, passage, 2, gen) > 0  # one reply is a small sample: never all or nothing
    # fewer kept queries mean fewer training rows and test queries: the plan shrinks with them
    poor, fine = replace(SLOW, kept_share=0.1), replace(SLOW, kept_share=0.9)
    assert (
        make_plan(PipelineConfig(docs="d"), 40, 100, poor, 0, None).total_s
        < make_plan(PipelineConfig(docs="d"), 40, 100, fine, 0, None).total_s
    )
