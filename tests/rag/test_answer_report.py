"""Verdicts and the summary: counts stated, missing values left out rather than turned into NaN averages."""

from __future__ import annotations

import math

import pandas as pd

from harness.outcomes import verdict
from rag.answer_report import summarise


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
            **{
                f"{a}_{m}": [10, 20, 30, 40]
                for a in ("base", "finetuned")
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
    faith = s.loc[("base", "faithfulness")]
    assert (faith.n, faith.missing, faith.value) == (2, 2, 4.0)
    assert s.loc[("base", "correctness")].n == 0  # nothing scored: stated as n = 0, never averaged
    diff = s.loc[("finetuned-base", "faithfulness_diff")]
    assert (diff.n, diff.value) == (1, -1.0)  # only queries scored in both arms are paired
    for v, count in (("fixed", 1), ("regressed", 1), ("both_hit", 1), ("both_miss", 1)):
        assert s.loc[("paired", f"verdict_{v}")].value == count
