"""Step 4's answer evidence in one call: scores, judge repeats, agreement, paired statistics and joins."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from corpus.beir import Document
from rag.answer_cache import AnswerCache
from rag.answer_evaluation import ArmAnswer, evaluate_answers, judge_answer, metric_values, score_arm
from rag.answer_metrics import TitleIndex
from rag.cached_llm import CachedLLM
from rag.judge import load_judge_prompt
from rag.llm_client import Completion

DOCS = [Document("d0", "Plumbers", "t"), Document("d1", "Electricians", "t"), Document("d2", "Chefs", "t")]


class RandomJudge:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def complete(self, messages, max_tokens, temperature, seed=None):
        if '"claims"' in messages[-1]["content"]:
            text = json.dumps({"claims": [{"claim": "c", "supported": self.rng.random() < 0.5} for _ in range(3)]})
        else:
            text = json.dumps({"TP": ["x"] * self.rng.randint(0, 2), "FP": ["y"] * self.rng.randint(0, 2), "FN": []})
        return Completion(text, 1, 1, 0.0, "stop")


def _answers(correct_every: int, rank_every: int) -> list[ArmAnswer]:
    out = []
    for i in range(30):
        right = i % correct_every == 0
        out.append(
            ArmAnswer(
                f"q{i}",
                f"question {i}",
                frozenset({"d0"}),
                ("d0", "d1"),
                "[1] Plumbers\n[2] Elec",
                1 if i % rank_every == 0 else 5,
                "A plumber [1]." if right else "An electrician [2].",
            )
        )
    return out


def test_evaluate_answers_end_to_end(tmp_path):
    arms = {"base": _answers(3, 3), "finetuned": _answers(1, 1)}
    titles = TitleIndex(DOCS)
    llm = CachedLLM(RandomJudge(0), AnswerCache(tmp_path / "a"), "judge")
    claims, correctness = load_judge_prompt("judge_claims"), load_judge_prompt("judge_correctness")
    values = {}
    for arm, answers in arms.items():
        judged = [judge_answer(llm, claims, correctness, a, "Plumbers: repair pipes.", repeats=3) for a in answers]
        values[arm] = metric_values(score_arm(answers, titles), judged)
    assert values["base"]["correct"].shape == (30,) and values["base"]["faithfulness"].shape == (30, 3)
    result = evaluate_answers(arms, values, k=3, samples=500)
    delta = next(d for d in result.deltas if d.metric == "correct")
    assert delta.value == pytest.approx(20 / 30) and delta.low > 0 and delta.p_value < 0.01
    assert result.headline() == [
        ("finetuned vs base: retrieval fixed 20 queries (top 3); for 20 of them the answer became correct.")
    ]
    assert abs(result.judge_agreement["faithfulness"].alpha) < 0.25  # a random judge agrees by chance
    assert result.judge_agreement["faithfulness"].coders == 3
    again = evaluate_answers(arms, values, k=3, samples=500, second_judge=values)  # a judge against itself
    assert np.isclose(again.inter_judge["correctness"].alpha, 1.0)


def test_evidence_written_as_markdown_csv_and_picture(tmp_path):
    import pandas as pd

    from rag.answer_report import evidence_markdown, plot_join, write_join_csv
    from rag.report_page import build_page

    arms = {"base": _answers(3, 3), "finetuned": _answers(1, 1), "oracle": _answers(1, 1)}
    values = {arm: metric_values(score_arm(a, TitleIndex(DOCS))) for arm, a in arms.items()}
    ev = evaluate_answers(arms, values, k=3, samples=300)
    md = evidence_markdown(ev, samples=300)
    assert md.splitlines()[2].startswith("- finetuned vs base: retrieval fixed 20 queries")
    assert "Only 30 queries answered: the per-sample intervals below are wide" in md
    assert "| oracle − finetuned | correct | 30 | 0.000 |" in md
    csv = pd.read_csv(write_join_csv(ev, tmp_path))
    assert len(csv) == 3 * 3 and set(csv["metric"]) == {"correct"}  # 3 pairs × 3 retrieval outcomes
    assert plot_join(ev, tmp_path).stat().st_size > 5_000
    (tmp_path / "rag_compare_summary.md").write_text(md, encoding="utf-8")
    page = build_page(tmp_path)
    assert "Did the retrieval gain reach the answers?" in page and "rag_answer_join" in page
