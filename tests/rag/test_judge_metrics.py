"""Judge metrics with known definitions (claim faithfulness, statement-F1 correctness) and judge noise: repeats
carry their seed into the request and cache, and agreement is near chance for a random judge, 1 for a steady one."""

from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest

from corpus.errors import DataError
from harness.agreement import agreement
from rag.answer_cache import AnswerCache
from rag.cached_llm import CachedLLM
from rag.judge import JUDGE_TEMPERATURE, answer_correctness, claim_faithfulness, judge_calls, load_judge_prompt
from rag.llm_client import Completion, EndpointConfig, LLMClient


def _llm(stub, tmp_path):
    return CachedLLM(
        LLMClient(EndpointConfig(stub.base_url, "stub", max_retries=0)), AnswerCache(tmp_path / "answers"), "stub"
    )


def test_claim_faithfulness_is_supported_over_claims(stub_llm, tmp_path):
    stub_llm.script = [
        "no json here",
        json.dumps(
            {
                "claims": [
                    {"claim": "a", "supported": True},
                    {"claim": "b", "supported": False},
                    {"claim": "c", "supported": True},
                ]
            }
        ),
    ]
    f = claim_faithfulness(_llm(stub_llm, tmp_path), load_judge_prompt("judge_claims"), "q", "[1] ctx", "answer")
    assert (f.status, f.attempts, f.score, len(f.claims)) == ("ok", 2, pytest.approx(2 / 3), 3)
    stub_llm.script = ['{"claims": []}']
    f = claim_faithfulness(_llm(stub_llm, tmp_path), load_judge_prompt("judge_claims"), "q2", "[1] ctx", "answer")
    assert (f.status, f.score) == ("no_claims", None)
    stub_llm.script = ['{"claims": [{"claim": "a", "supported": "yes"}]}', "{}"]
    f = claim_faithfulness(_llm(stub_llm, tmp_path), load_judge_prompt("judge_claims"), "q3", "[1] ctx", "answer")
    assert (f.status, f.score, f.raw) == ("missing", None, "{}")


def test_answer_correctness_is_statement_f1(stub_llm, tmp_path):
    stub_llm.script = [json.dumps({"TP": ["x", "y"], "FP": ["z"], "FN": ["w", "v", "u"]})]
    c = answer_correctness(_llm(stub_llm, tmp_path), load_judge_prompt("judge_correctness"), "q", "ref", "ans")
    assert c.score == pytest.approx(2 / (2 + 0.5 * 4)) and c.status == "ok"
    stub_llm.script = ['{"TP": [], "FP": [], "FN": []}']
    c = answer_correctness(_llm(stub_llm, tmp_path), load_judge_prompt("judge_correctness"), "q", "ref", "ans2")
    assert (c.status, c.score) == ("empty", None)


def test_prompt_files_are_replaceable_and_checked(tmp_path):
    mine = tmp_path / "claims.txt"
    mine.write_text('Context {context}\nQ {question}\nA {answer}\nJSON please: {{"claims": []}}\n')
    assert load_judge_prompt("judge_claims", mine).source == str(mine)
    mine.write_text("Context {context} and {answer} only")
    with pytest.raises(DataError, match="missing: question"):
        load_judge_prompt("judge_claims", mine)


def test_repeats_are_seeded_sampled_requests_cached_apart(stub_llm, tmp_path):
    assert judge_calls(1) == [(0.0, None)]
    assert judge_calls(3) == [(JUDGE_TEMPERATURE, 0), (JUDGE_TEMPERATURE, 1), (JUDGE_TEMPERATURE, 2)]
    stub_llm.reply = lambda messages: '{"claims": [{"claim": "a", "supported": true}]}'
    llm, prompt = _llm(stub_llm, tmp_path), load_judge_prompt("judge_claims")
    for temperature, seed in judge_calls(3):
        claim_faithfulness(llm, prompt, "q", "[1] ctx", "answer", temperature=temperature, seed=seed)
    assert [r["seed"] for r in stub_llm.chat_requests] == [0, 1, 2]
    assert {r["temperature"] for r in stub_llm.chat_requests} == {JUDGE_TEMPERATURE}
    for temperature, seed in judge_calls(3):  # a rerun asks nothing again
        claim_faithfulness(llm, prompt, "q", "[1] ctx", "answer", temperature=temperature, seed=seed)
    assert len(stub_llm.chat_requests) == 3 and llm.cache.hits == 3


class ScriptedJudge:
    """An in-process client (no HTTP: hundreds of calls stay fast) whose reply is a function of the messages."""

    def __init__(self, reply):
        self.reply = reply

    def complete(self, messages, max_tokens, temperature, seed=None):
        return Completion(self.reply(messages), 10, 10, 0.0, "stop")


def _judge_many(tmp_path, reply, answers: int = 100, repeats: int = 3) -> np.ndarray:
    llm = CachedLLM(ScriptedJudge(reply), AnswerCache(tmp_path / "answers"), "scripted")
    prompt = load_judge_prompt("judge_claims")
    scores = np.full((answers, repeats), np.nan)
    for i in range(answers):
        for r, (temperature, seed) in enumerate(judge_calls(repeats)):
            f = claim_faithfulness(
                llm, prompt, f"question {i}", "[1] ctx", f"answer #{i}", temperature=temperature, seed=seed
            )
            scores[i, r] = np.nan if f.score is None else f.score
    return scores


def _claims_reply(supported: list[bool]) -> str:
    return json.dumps({"claims": [{"claim": f"c{j}", "supported": s} for j, s in enumerate(supported)]})


def test_a_random_judge_agrees_at_chance_and_a_steady_one_perfectly(tmp_path):
    rng = random.Random(7)
    scores = _judge_many(tmp_path / "random", lambda m: _claims_reply([rng.random() < 0.5 for _ in range(4)]))
    assert abs(agreement(scores, "interval").alpha) < 0.15  # 100 units: chance alpha has sd ≈ 0.06

    def steady(messages):  # the verdicts depend on the answer only, never on the call
        n = int(re.search(r"answer #(\d+)", messages[-1]["content"]).group(1)) % 5
        return _claims_reply([j < n for j in range(4)])

    scores = _judge_many(tmp_path / "steady", steady)
    assert agreement(scores, "interval").alpha == pytest.approx(1.0)
