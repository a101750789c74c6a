"""Step 4 (`ragtune rag`, 4_rag_compare.py) end to end against a stub endpoint: report schema, resume after a dead server, judge
replies that are junk, and one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from corpus.cli import run_cli
from rag.answer_report import CARD_JSON, PLOT_PNG, REPORT_CSV, SUMMARY_CSV, SUMMARY_MD, report_columns
from ragtune.cli import entry
from tests.helpers import assert_one_line_error, run_script, stub_rag_flags
from tests.rag.conftest import LONG_ANSWER, closed_port_url

pytestmark = [pytest.mark.slow]

SCRIPT = "4_rag_compare.py"


@pytest.fixture(scope="module")
def script():
    class Step:
        main = staticmethod(entry("rag"))

    return Step


def args(stub, tiny_dataset, out, *extra, brackets=("--no-oracle",)):
    """Two arms with the same embedder, no bracket (unless `brackets`), three queries."""
    return [*stub_rag_flags(stub.base_url, tiny_dataset, out), *brackets, *extra]


def card(out):
    return json.loads((out / CARD_JSON).read_text())


def test_report_schema_and_outputs(script, stub_llm, tiny_dataset, rag_caches, tmp_path, capsys):
    out = tmp_path / "reports"
    assert run_cli(script.main, args(stub_llm, tiny_dataset, out, "--workers", "2")) == 0
    # both arms send identical prompts (same embedder) from two workers at once: asked once each
    assert len(stub_llm.chat_requests) == 3
    df = pd.read_csv(out / REPORT_CSV)
    assert list(df.columns) == report_columns(judged=False)
    assert len(df) == 3 and df["query_id"].is_unique
    assert (df["base_answer"] == LONG_ANSWER).all()  # full text, not a cut
    assert df["base_context_ids"].str.count(";").eq(2).all()  # top-3
    assert set(df["verdict"]) <= {"both_hit", "both_miss"}  # the same embedder in both arms
    assert (df["base_context_hit"] == df["base_rank"].le(3)).all()
    # context tokens come from the endpoint's /tokenize (the stub: one token per word) for the exact block sent
    from corpus.beir import load_dataset
    from rag.prompts import format_context

    corpus = load_dataset(tiny_dataset).corpus
    for _, row in df.iterrows():
        context = format_context([corpus[d] for d in row["base_context_ids"].split(";")])
        assert row["base_context_tokens"] == len(context.split())
        assert row["base_context_chars"] == len(context)
    summary = pd.read_csv(out / SUMMARY_CSV)
    assert {"arm", "metric", "n", "value", "ci_low", "ci_high"} <= set(summary.columns)
    assert summary.loc[summary.metric.str.startswith("verdict_"), "value"].sum() == 3
    assert (out / SUMMARY_MD).read_text().startswith("# RAG comparison: base, finetuned")
    assert (out / PLOT_PNG).stat().st_size > 1000
    c = card(out)
    assert c["top_k"] == 3 and c["llm"]["model"] == "stub" and c["prompt"] == "built-in"


def test_dead_server_mid_run_then_resume_recomputes_nothing(
    script, stub_llm, tiny_dataset, rag_caches, tmp_path, capsys
):
    out = tmp_path / "reports"
    stub_llm.fail_after = 2  # the third distinct prompt finds the server gone
    assert run_cli(script.main, args(stub_llm, tiny_dataset, out)) == 2
    err = capsys.readouterr().err
    assert stub_llm.base_url in err and "rerun the same command to resume" in err
    assert not (out / REPORT_CSV).exists()
    asked_before = len(stub_llm.chat_requests)

    stub_llm.fail_after = None
    assert run_cli(script.main, args(stub_llm, tiny_dataset, out)) == 0
    # both arms share prompts here (same embedder): 3 distinct prompts, 2 finished before the failure
    assert len(stub_llm.chat_requests) - asked_before == 1
    # one lookup per distinct prompt: the second arm of each query shares the first arm's generation
    assert card(out)["answer_cache"] == {**card(out)["answer_cache"], "hits": 2, "misses": 1}

    counted = len(stub_llm.tokenize_requests)
    assert run_cli(script.main, args(stub_llm, tiny_dataset, out)) == 0  # a finished run asks nothing again
    assert len(stub_llm.chat_requests) - asked_before == 1
    assert len(stub_llm.tokenize_requests) == counted  # token counts are cached too
    assert pd.read_csv(out / REPORT_CSV)["base_cached"].all()


def test_judge_junk_is_missing_not_nan(script, stub_llm, tiny_dataset, rag_caches, tmp_path, capsys):
    from tests.rag.conftest import default_reply

    first_query = {}

    def reply(messages):
        content = messages[0]["content"]
        if '{"claims"' in content:
            first_query.setdefault("q", content.split('searched for: "')[1].split('"')[0])
            if first_query["q"] in content:
                return "Faithful, I'd say 4 out of 5."  # junk twice (the retry too): missing
        return default_reply(messages)

    stub_llm.reply = reply
    out = tmp_path / "reports"
    assert run_cli(script.main, args(stub_llm, tiny_dataset, out, "--judge")) == 0
    df = pd.read_csv(out / REPORT_CSV)
    assert list(df.columns) == report_columns(judged=True)
    assert df["base_faithfulness"].isna().sum() == 1
    assert df["base_faithfulness"].dropna().eq(2 / 3).all() and df["base_correctness"].eq(1.0).all()
    s = pd.read_csv(out / SUMMARY_CSV).set_index(["arm", "metric"])
    assert s.loc[("base", "faithfulness"), "n"] == 2 and s.loc[("base", "faithfulness"), "missing"] == 1
    assert s.loc[("base", "faithfulness"), "value"] == pytest.approx(2 / 3)


def test_bad_prompt_file_is_one_line(tmp_path):
    bad = tmp_path / "prompt.txt"
    bad.write_text("Answer {question} please")
    proc = run_script(SCRIPT, "--prompt", bad, "--llm-base-url", "http://127.0.0.1:9/v1", "--llm-model", "m")
    assert_one_line_error(proc, str(bad), "{context}")


@pytest.mark.parametrize(
    "url, fragment", [("ftp://example.org/v1", "must start with http"), (None, "connection failed")]
)
def test_bad_or_unreachable_url_is_one_line(url, fragment):
    url = url or closed_port_url()
    proc = run_script(SCRIPT, "--llm-base-url", url, "--llm-model", "m", "--arms", "base", "finetuned=base")
    assert_one_line_error(proc, url, fragment)


def test_missing_finetuned_model_says_run_step_2(script, stub_llm, tmp_path, monkeypatch, capsys):
    import corpus.paths

    # the default location is pointed at an empty folder, so the test runs whether or not step 2 ran here
    monkeypatch.setattr(corpus.paths, "DEFAULT_FINETUNED", tmp_path / "runs" / "finetuned" / "final")
    code = run_cli(script.main, ["--llm-base-url", stub_llm.base_url, "--llm-model", "stub"])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no fine-tuned model at" in captured.out  # the same note as steps 3 and 5
    assert "step 2" in err and "--arms base=base finetuned=base" in err


def test_endpoint_without_tokenize_leaves_context_tokens_empty(script, stub_llm, tiny_dataset, rag_caches, tmp_path):
    stub_llm.tokenize = False  # as OpenAI's API: no /tokenize route
    out = tmp_path / "reports"
    assert run_cli(script.main, args(stub_llm, tiny_dataset, out)) == 0
    df = pd.read_csv(out / REPORT_CSV)
    assert df["base_context_tokens"].isna().all() and df["base_prompt_tokens"].notna().all()
    summary = pd.read_csv(out / SUMMARY_CSV)
    row = summary[(summary.arm == "base") & (summary.metric == "context_tokens")].iloc[0]
    assert row["n"] == 0 and row["missing"] == 3  # stated, not a NaN inside an average


def test_every_arm_and_both_brackets_with_paired_statistics_and_the_join(
    script, stub_llm, tiny_dataset, rag_caches, tmp_path, capsys
):
    from itertools import combinations

    from rag.answer_comparison import CLOSED_BOOK, ORACLE
    from rag.answer_report import JOIN_CSV, JOIN_PNG
    from rag.report_page import PAGE
    from tests.rag.conftest import first_title_reply

    stub_llm.reply = first_title_reply  # names the first passage's occupation; nothing without passages
    out = tmp_path / "reports"
    # the equivalent of `--arms base=base finetuned=<model> bm25 --closed-book --oracle` (the oracle is on by default)
    extra = ("--arms", "base=base", "finetuned=base", "bm25", "hybrid=bm25+base", "--limit", "4", "--closed-book")
    assert run_cli(script.main, args(stub_llm, tiny_dataset, out, *extra, brackets=())) == 0
    arms = ["base", "finetuned", "bm25", "hybrid", CLOSED_BOOK, ORACLE]
    df = pd.read_csv(out / REPORT_CSV)
    assert list(df.columns) == report_columns(judged=False, arms=arms)
    assert len(df) == 4 and df["query_id"].is_unique
    assert df[f"{CLOSED_BOOK}_context_ids"].isna().all()  # the question alone
    assert df[f"{ORACLE}_context_hit"].all() and df[f"{ORACLE}_context_ids"].str.count(";").eq(2).all()
    # the oracle's first passage is relevant, so an answer naming it is correct; the closed book names nothing
    assert df[f"{ORACLE}_correct"].all() and not df[f"{CLOSED_BOOK}_correct"].any()
    assert (df["base_correct"] == (df["base_rank"] == 1)).all()  # the title-match metric, derived per query
    md = (out / SUMMARY_MD).read_text()
    for earlier, later in combinations(arms, 2):
        assert f"| {later} − {earlier} | correct |" in md  # a paired CI and p-value for every pair
        assert f"**{later} vs {earlier}, correct**" in md  # and its retrieval × answer join
    assert md.index("Did the retrieval gain reach the answers?") < md.index("Contexts and cost per arm")
    assert "intervals below are wide" in md
    s = pd.read_csv(out / SUMMARY_CSV)
    diff = s[(s.arm == f"{ORACLE}-{CLOSED_BOOK}") & (s.metric == "correct_diff")].iloc[0]
    assert diff["value"] == 1.0 and 0 < diff["p_value"] <= 1
    join = pd.read_csv(out / JOIN_CSV)
    assert len(join[join.metric == "correct"]) == 3 * len(list(combinations(arms, 2)))  # fixed/regressed/unchanged
    assert (out / JOIN_PNG).stat().st_size > 1000
    page = (out / PAGE).read_text()
    assert 'id="answer-headline"' in page and df["query"].iloc[0].split()[0] in page
    assert card(out)["arms"] == ["base=base", "finetuned=base", "bm25", "hybrid=bm25+base", CLOSED_BOOK, ORACLE]
    # a reciprocal-rank hybrid of two arms that agree on a query's first passage keeps it first
    agree = df["base_context_ids"].str.split(";").str[0] == df["bm25_context_ids"].str.split(";").str[0]
    assert (
        df[agree]["hybrid_context_ids"].str.split(";").str[0] == df[agree]["base_context_ids"].str.split(";").str[0]
    ).all()


def test_judge_repeats_of_a_random_judge_agree_near_chance(script, stub_llm, tiny_dataset, rag_caches, tmp_path):
    import hashlib
    import random
    import threading
    from collections import Counter

    from tests.rag.conftest import default_reply

    # each prompt's n-th reply is drawn from its own seed: with two workers the arrival order varies, and one shared
    # generator would hand out different draws from run to run
    seen, lock = Counter(), threading.Lock()

    def reply(messages):
        content = messages[0]["content"]
        with lock:
            seen[content] += 1
            nth = seen[content]
        rng = random.Random(hashlib.sha256(f"3:{nth}:{content}".encode()).hexdigest())
        if '{"claims"' in content:
            return json.dumps({"claims": [{"claim": str(i), "supported": rng.random() < 0.5} for i in range(4)]})
        if '{"TP"' in content:
            return json.dumps({"TP": ["x"] * rng.randint(0, 3), "FP": ["y"] * rng.randint(0, 3), "FN": ["z"]})
        return default_reply(messages)

    stub_llm.reply = reply
    out = tmp_path / "reports"
    flags = args(stub_llm, tiny_dataset, out, "--judge", "--judge-repeats", "3", "--limit", "8", "--workers", "2")
    assert run_cli(script.main, flags) == 0
    md = (out / SUMMARY_MD).read_text()
    line = next(x for x in md.splitlines() if x.startswith("- faithfulness across 3 repeats"))
    alpha = float(line.split("alpha ")[1].split()[0])
    assert abs(alpha) < 0.35  # 16 answers × 3 random repeats: chance alpha has sd ≈ 0.15
    c = card(out)
    assert c["judge_repeats"] == 3


def test_second_judge_reports_inter_judge_agreement(script, stub_llm, tiny_dataset, rag_caches, tmp_path):
    out = tmp_path / "reports"
    flags = ["--judge", "--judge2-base-url", stub_llm.base_url, "--judge2-model", "stub2"]
    assert run_cli(script.main, args(stub_llm, tiny_dataset, out, *flags)) == 0
    models = {r["model"] for r in stub_llm.chat_requests}
    assert models == {"stub", "stub2"}  # the second judge was asked
    md = (out / SUMMARY_MD).read_text()
    assert "- faithfulness, judge 1 vs judge 2: alpha" in md and "- correctness, judge 1 vs judge 2: alpha" in md
    assert card(out)["judge2_llm"]["model"] == "stub2"


def test_second_judge_needs_the_first(script, stub_llm, tiny_dataset, rag_caches, tmp_path, capsys):
    flags = ["--judge2-base-url", stub_llm.base_url, "--judge2-model", "stub2"]
    assert run_cli(script.main, args(stub_llm, tiny_dataset, tmp_path / "reports", *flags)) == 2
    assert "--judge2-base-url needs --judge" in capsys.readouterr().err


def test_every_arm_kind_answers_and_the_convex_weight_is_fitted_once(
    script, stub_llm, tiny_dataset, rag_caches, tmp_path, monkeypatch
):
    """Step 3 fits the convex weight on dev; step 4 answers from the same hybrid with the same weight, read from the
    fusion cache (no dev run again), and records it in its card; the reranked arm answers too."""
    import harness.convex_weights
    from ragtune.steps import eval as eval_step

    arms = ["base", "bm25", "hy=bm25+base:convex", "rr=hy>base"]
    ev = eval_step.run(
        eval_step.EvalConfig(
            data=str(tiny_dataset), arms=arms, bootstrap=100, latency_queries=0, out=str(tmp_path / "r3")
        )
    )
    weight = ev.evaluation.fitted["hy"]["weight"]
    assert json.loads((tmp_path / "r3" / "retrieval_card.json").read_text())["fitted"]["hy"]["weight"] == weight

    def no_second_fit(*a, **k):
        raise AssertionError("the convex weight was fitted again instead of read from the fusion cache")

    monkeypatch.setattr(harness.convex_weights, "first_stage_ranker", no_second_fit)
    out = tmp_path / "reports"
    flags = stub_rag_flags(stub_llm.base_url, tiny_dataset, out)
    at = flags.index("--arms")
    flags[at + 1 : at + 3] = arms
    assert run_cli(script.main, [*flags, "--no-oracle"]) == 0
    c = card(out)
    assert c["fitted"]["hy"]["weight"] == weight and c["fitted"]["hy"]["dev"] == "dev"
    assert c["arms"] == ["base=base", "bm25", "hy=bm25+base:convex", "rr=hy>base"]
    df = pd.read_csv(out / REPORT_CSV)
    assert list(df.columns) == report_columns(judged=False, arms=["base", "bm25", "hy", "rr"])
    # the hybrid's contexts are the top 3 of the fused ranking step 3 scored for the same queries
    ranked = {r.name: r for r in ev.evaluation.pools[0].arms}["hy"]
    top3 = dict(zip(ev.evaluation.query_ids, ranked.ids(ev.evaluation.doc_ids, 3), strict=True))
    assert set(df["query_id"]) <= set(top3)  # both steps searched the whole tiny corpus
    for row in df.itertuples():
        assert row.hy_context_ids.split(";") == top3[row.query_id]


def _with_arms(flags: list[str], arms: list[str]) -> list[str]:
    at = flags.index("--arms")
    return [*flags[: at + 1], *arms, *flags[at + 3 :]]


def test_limit_draws_the_design_order_and_the_summary_estimates_the_split(
    script, stub_llm, tiny_dataset, rag_caches, tmp_path
):
    """--limit takes a prefix of the stratified draw order (a larger limit extends a smaller one); the weighted
    split-wide estimate equals the plain mean when every query is answered (every weight is 1)."""
    answered = {}
    for limit in ("4", "6", "0"):
        out = tmp_path / f"limit{limit}"
        flags = _with_arms(stub_rag_flags(stub_llm.base_url, tiny_dataset, out), ["base", "bm25"])
        assert run_cli(script.main, [*flags, "--no-oracle", "--limit", limit]) == 0
        df = pd.read_csv(out / REPORT_CSV, dtype={"query_id": str})
        answered[limit] = set(df["query_id"])
        design = card(out)["design"]
        assert design["queries"] == len(df) and sum(design["answered"].values()) == len(df)
        summary = pd.read_csv(out / SUMMARY_CSV)
        split = summary[summary["metric"] == "correct_split"].set_index("arm")
        diff = summary[summary["metric"] == "correct_split_diff"].set_index("arm")
        assert set(split.index) == {"base", "bm25"}
        # the split is the population: a sample has a detectable difference above 0, the whole split none left
        assert (diff.loc["bm25-base", "mde"] > 0) == (limit != "0")
    assert len(answered["4"]) == 4 and answered["4"] < answered["6"] < answered["0"]
    assert sum(card(tmp_path / "limit0")["design"]["strata"].values()) == len(answered["0"])
    df = pd.read_csv(tmp_path / "limit0" / REPORT_CSV)
    split = pd.read_csv(tmp_path / "limit0" / SUMMARY_CSV).query("metric == 'correct_split'").set_index("arm")
    for arm in ("base", "bm25"):
        assert split.loc[arm, "value"] == pytest.approx(df[f"{arm}_correct"].astype(float).mean())
    assert "for the whole split" in (tmp_path / "limit0" / SUMMARY_MD).read_text()


def test_budget_plans_from_a_measured_answer_before_the_work(
    script, stub_llm, tiny_dataset, rag_caches, tmp_path, capsys
):
    stub_llm.script = ["sleep"] * 200  # every answer takes sleep_s: the speed the plan must measure
    stub_llm.sleep_s = 1.0
    out = tmp_path / "reports"
    flags = _with_arms(stub_rag_flags(stub_llm.base_url, tiny_dataset, out), ["base", "bm25"])
    assert run_cli(script.main, [*flags, "--no-oracle", "--budget", "1", "--timeout", "30"]) == 0
    printed = capsys.readouterr().out
    assert "expected minimum detectable difference" in printed
    assert printed.index("expected minimum detectable difference") < printed.index("answering ")
    plan = card(out)["design"]["plan"]
    assert plan["budget_minutes"] == 1 and 0.9 <= plan["seconds_per_answer"] < 5
    # what was answered fits the plan: its generations at the measured speed stay within the budget
    assert card(out)["design"]["generations"] * plan["seconds_per_answer"] <= 60
