"""LLM-as-judge: strict JSON, one retry, missing (raw reply kept) instead of a crash."""

from __future__ import annotations

from rag.answer_cache import AnswerCache
from rag.cached_llm import CachedLLM
from rag.judge import judge, parse_judgement
from rag.llm_client import EndpointConfig, LLMClient
from tests.rag.conftest import GOOD_JUDGEMENT


def test_parse_judgement_strict():
    assert parse_judgement(GOOD_JUDGEMENT)["correctness"] == 3
    assert parse_judgement("```json\n" + GOOD_JUDGEMENT + "\n```")["faithfulness"] == 4
    for bad in (
        "Score: 4/5",
        '{"faithfulness": 9, "correctness": 3}',
        '{"faithfulness": "4", "correctness": 3}',
        '{"faithfulness": 4}',
        "[4, 3]",
        '{"faithfulness": 3.5, "correctness": 3}',
        "",
    ):
        assert parse_judgement(bad) is None, bad


def _llm(stub, tmp_path):
    return CachedLLM(
        LLMClient(EndpointConfig(stub.base_url, "stub", max_retries=0)), AnswerCache(tmp_path / "answers"), "stub"
    )


def test_junk_then_json_is_retried_once(stub_llm, tmp_path):
    stub_llm.script = ["I think it is fine."]
    j = judge(_llm(stub_llm, tmp_path), "q", "[1] ctx", "ref", "answer")
    assert (j.status, j.attempts, j.faithfulness, j.correctness) == ("ok", 2, 4, 3)
    assert len(stub_llm.chat_requests) == 2
    assert stub_llm.chat_requests[1]["messages"][1]["content"] == "I think it is fine."  # the retry shows the junk


def test_junk_twice_is_missing_with_raw_reply(stub_llm, tmp_path):
    stub_llm.script = ["not json", "still {not json"]
    j = judge(_llm(stub_llm, tmp_path), "q", "[1] ctx", "ref", "answer")
    assert j.status == "missing" and j.faithfulness is None and j.correctness is None
    assert j.raw == "still {not json"
