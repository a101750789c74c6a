"""The chatbot's callbacks without a browser: questions checked, both arms retrieved, answers streamed from a
stub endpoint, a dead endpoint reported in the answer area, the report tab over missing and present reports."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.arm_engine import ArmEngine
from harness.arms import parse_arms
from harness.retrieval import Hit
from rag.answer_report import report_columns
from rag.chat_app import ask, map_figure, render_passages, report_row, report_view
from rag.chat_engine import MAX_QUESTION_CHARS, ChatEngine, QuestionError, check_question, only_in_one
from rag.llm_client import EndpointConfig, LLMClient
from rag.prompts import load_template
from tests.rag.conftest import LONG_ANSWER, closed_port_url


@pytest.fixture(scope="module")
def tiny_docs(tiny_dataset):
    from corpus.beir import load_dataset

    return load_dataset(tiny_dataset).corpus


@pytest.fixture(scope="module")
def retrievers(minilm, tiny_docs):
    # two arms over the same model: what matters here is the plumbing, not which model is better
    return ArmEngine(parse_arms(["base", "finetuned=base"]), tiny_docs, cache_queries=False)


def engine_with(retrievers, tiny_docs, base_url: str | None, problem: str | None = None) -> ChatEngine:
    llm = LLMClient(EndpointConfig(base_url, "stub", max_retries=0, timeout_s=10)) if base_url else None
    return ChatEngine(tiny_docs, retrievers, load_template(None), llm, problem)


def run(engine, question, chosen=("base", "finetuned"), k=3):
    return list(ask(engine, question, k, list(chosen), 0.0, 32, [[], []]))


def test_questions_are_checked():
    assert check_question("  who cooks?  ") == "who cooks?"
    for bad in ("", "   \n", None):
        with pytest.raises(QuestionError, match="type a question"):
            check_question(bad)
    with pytest.raises(QuestionError, match="limit is 1,000"):
        check_question("x" * (MAX_QUESTION_CHARS + 1))


def test_only_in_one_arm():
    hits = {"base": [Hit("a", 0.9, 1), Hit("b", 0.8, 2)], "finetuned": [Hit("b", 0.9, 1), Hit("c", 0.7, 2)]}
    assert only_in_one(hits) == {"base": {"a"}, "finetuned": {"c"}}
    assert only_in_one({"base": hits["base"]}) == {"base": set()}


def test_passages_show_rank_score_and_highlight(tiny_docs):
    a, b = list(tiny_docs)[:2]
    out = render_passages("base", [Hit(a, 0.8123, 1), Hit(b, 0.5, 2)], {b}, tiny_docs)
    assert "#1" in out and "0.812" in out and tiny_docs[a].title in out
    assert out.count("rt-hit-only") == 1 and "only base" in out


def test_ask_streams_both_answers(retrievers, tiny_docs, stub_llm):
    engine = engine_with(retrievers, tiny_docs, stub_llm.base_url)
    steps = run(engine, "Who plans budgets and directs staff?")
    status, passages, histories, box = steps[-1]
    assert status.startswith("**Done:**") and box == ""
    first_passages = steps[0][1]
    assert all(p.count("class='rt-rank'") == 3 for p in first_passages)
    for h in histories:
        assert h[0] == {"role": "user", "content": "Who plans budgets and directs staff?"}
        assert h[1]["content"] == LONG_ANSWER.strip()
    assert len(steps) > 3  # answers arrived piece by piece, not in one final update
    # both arms were asked with their own passages in the documented prompt
    assert len(stub_llm.chat_requests) == 2
    assert all("[1]" in r["messages"][0]["content"] for r in stub_llm.chat_requests)


def test_history_grows_and_unchosen_arm_is_left_alone(retrievers, tiny_docs, stub_llm):
    engine = engine_with(retrievers, tiny_docs, stub_llm.base_url)
    _, _, histories, _ = run(engine, "first question")[-1]
    steps = list(ask(engine, "second question", 2, ["finetuned"], 0.0, 16, histories))
    _, passages, after, _ = steps[-1]
    assert len(after[0]) == 2 and len(after[1]) == 4
    assert "not asked" in steps[0][1][0] and steps[0][1][1].count("class='rt-rank'") == 2


def test_bad_questions_give_a_message_not_an_exception(retrievers, tiny_docs, stub_llm):
    engine = engine_with(retrievers, tiny_docs, stub_llm.base_url)
    [(status, passages, histories, box)] = run(engine, "   ")
    assert "type a question" in status and histories == [[], []] and passages == [None, None]
    [(status, *_)] = run(engine, "y" * 5000)
    assert "5,000 characters" in status
    [(status, *_)] = run(engine, "fine", chosen=())
    assert "at least one model" in status
    assert not stub_llm.chat_requests


def test_llm_down_keeps_retrieval(retrievers, tiny_docs):
    engine = engine_with(retrievers, tiny_docs, closed_port_url())
    steps = run(engine, "Who repairs engines?")
    assert all("#3" in p for p in steps[0][1])
    status, _, histories, _ = steps[-1]
    assert status.startswith("**Problem:**") and "base, finetuned" in status
    for h in histories:
        assert "could not be written" in h[1]["content"] and "connection failed" in h[1]["content"]


def test_no_llm_says_why(retrievers, tiny_docs):
    engine = engine_with(retrievers, tiny_docs, None, problem="the default local LLM is not installed")
    _, _, histories, _ = run(engine, "Who repairs engines?")[-1]
    assert "not installed" in histories[0][1]["content"]


def test_embedding_map(retrievers, tiny_docs):
    engine = engine_with(retrievers, tiny_docs, None)
    fig, note = map_figure(engine, "Who repairs engines?", 3, 10)
    assert len(fig.axes) == 2 and "documents" in note
    assert map_figure(engine, "", 3, 10) == (None, "**Warning:** Please type a question first.")


def test_report_tab_missing_and_present(tmp_path, tiny_docs):
    tables, table, choices, verdict, shown, message = report_view(tmp_path / "none", None, None)
    assert tables == [] and shown.empty and "No reports" in message
    ids = list(tiny_docs)
    rows = []
    for i, v in enumerate(["fixed", "both_hit", "fixed"]):
        row = {c: None for c in report_columns(False)}
        row.update(
            query_id=f"q{i}",
            query=f"question {i}",
            relevant_ids=ids[i],
            verdict=v,
            base_rank=4,
            finetuned_rank=1,
            base_context_ids=f"{ids[5]};{ids[6]}",
            finetuned_context_ids=f"{ids[i]};{ids[5]}",
            base_answer="base says no",
            finetuned_answer=f"tuned answer {i}",
            base_correct=False,
            finetuned_correct=True,
        )
        rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / "rag_compare_report.csv", index=False)
    pd.DataFrame({"model": ["base"], "ndcg@10": [0.5]}).to_csv(tmp_path / "retrieval_metrics.csv", index=False)
    tables, table, choices, verdict, shown, message = report_view(tmp_path, None, "fixed")
    assert tables == ["rag_compare_report.csv", "retrieval_metrics.csv"] and table == tables[0]
    assert choices == ["all", "fixed", "both_hit"] and list(shown["query_id"]) == ["q0", "q2"]
    # the table leads with what a reader needs: the query, the verdict, each arm's rank and correctness
    assert list(shown.columns) == [
        "query", "verdict", "base_rank", "base_correct", "finetuned_rank", "finetuned_correct", "query_id"
    ]  # fmt: skip
    detail = report_row(tmp_path, table, "fixed", 1, tiny_docs)
    assert "tuned answer 2" in detail and "base says no" in detail and tiny_docs[ids[2]].title in detail
    assert "(relevant)" in detail and "answer correct: yes" in detail and "answer correct: no" in detail
    _, _, choices, _, shown, _ = report_view(tmp_path, "retrieval_metrics.csv", "fixed")
    assert choices == ["all"] and list(shown.columns) == ["model", "ndcg@10"]
    (tmp_path / "rag_compare_report.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert "could not be read" in report_view(tmp_path, None, None)[5]
