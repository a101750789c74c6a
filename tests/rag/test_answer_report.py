"""Verdicts and the summary: counts stated, missing values left out rather than turned into NaN averages."""

from __future__ import annotations

import math

import pandas as pd

from harness.outcomes import verdict
from rag.answer_report import evidence_rows, summarise


def test_verdict_truth_table():
    # first relevant rank (None: not retrieved) of the baseline and the other arm, at k = 3
    assert verdict(None, 2, 3) == "fixed" and verdict(5, 3, 3) == "fixed"
    assert verdict(1, 4, 3) == "regressed" and verdict(3, None, 3) == "regressed"
    assert verdict(1, 3, 3) == "both_hit"
    assert verdict(4, None, 3) == "both_miss" and verdict(0, 0, 3) == "both_miss"


def frame():
    return pd.DataFrame(
        {
            "base_context_hit": [True, False, False, True],
            "finetuned_context_hit": [True, True, False, False],
            "base_rank": pd.array([1, 7, None, 2], dtype="Int64"),
            "finetuned_rank": pd.array([2, 1, 50, 9], dtype="Int64"),
            "verdict": ["both_hit", "fixed", "both_miss", "regressed"],
            **{f"{a}_answer": ["x"] * 4 for a in ("base", "finetuned", "closed_book")},
            **{f"{a}_context_ids": ["d1;d2"] * 4 for a in ("base", "finetuned")},
            "closed_book_context_ids": [None] * 4,
            "closed_book_context_hit": [False] * 4,
            "closed_book_rank": pd.array([None] * 4, dtype="Int64"),
            **{
                f"{a}_{m}": [10, 20, 30, 40]
                for a in ("base", "finetuned", "closed_book")
                for m in ("prompt_tokens", "context_tokens", "answer_tokens", "latency_s")
            },
            "base_faithfulness": [5, None, 3, None],
            "finetuned_faithfulness": [4, 4, None, None],
            "base_correctness": [None] * 4,
            "finetuned_correctness": [2, 3, 4, 5],
        }
    )


def test_summary_counts_and_cis():
    s = summarise(frame(), judged=True).set_index(["arm", "metric"])
    hit = s.loc[("base", "context_hit_rate")]
    assert hit.value == 0.5 and hit.n == 4 and 0 < hit.ci_low < 0.5 < hit.ci_high < 1
    rank = s.loc[("base", "first_relevant_rank")]
    assert (rank.n, rank.missing) == (3, 1) and math.isclose(rank.value, 10 / 3)
    assert math.isclose(s.loc[("base", "mrr")].value, (1 + 1 / 7 + 0 + 1 / 2) / 4)
    assert ("closed_book", "context_hit_rate") not in s.index  # no context to rate
    assert s.loc[("closed_book", "latency_s")].n == 4
    for v, count in (("fixed", 1), ("regressed", 1), ("both_hit", 1), ("both_miss", 1)):
        assert s.loc[("paired", f"verdict_{v}")].value == count


def test_evidence_rows_hold_every_mean_and_every_pair_with_its_p_value():
    import numpy as np

    from rag.answer_evaluation import ArmAnswer, evaluate_answers

    def answers(ranks):
        return [ArmAnswer(str(i), "q", frozenset({"d"}), (), "", r, "a") for i, r in enumerate(ranks)]

    correct = {"base": [0, 0, 1, 1], "finetuned": [1, 1, 1, 1], "oracle": [1, 1, 1, np.nan]}
    ranks = {"base": [5, 9, 1, 2], "finetuned": [1, 1, 1, 2], "oracle": [1, 1, 1, 1]}
    ev = evaluate_answers(
        {a: answers(r) for a, r in ranks.items()}, {a: {"correct": np.array(v)} for a, v in correct.items()}, k=3
    )
    rows = evidence_rows(ev).set_index(["arm", "metric"])
    assert rows.loc[("finetuned", "correct")].value == 1.0 and rows.loc[("oracle", "correct")].missing == 1
    diff = rows.loc[("finetuned-base", "correct_diff")]
    assert (diff.n, diff.value) == (4, 0.5) and 0 < diff.p_value <= 1
    assert rows.loc[("oracle-finetuned", "correct_diff")].n == 3  # only queries scored in both arms are paired
    assert len(rows.xs("correct_diff", level="metric")) == 3
