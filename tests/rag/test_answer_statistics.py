"""Answer metrics across arms: paired CIs and p-values per pair, and the retrieval × answer join."""

from __future__ import annotations

import numpy as np
import pytest

from harness.outcomes import outcomes
from rag.answer_statistics import answer_change, compare_answers, join, retrieval_change


def test_retrieval_labels_add_up_to_step_3s_counts():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 8, 200), rng.integers(0, 8, 200)
    labels = retrieval_change(a, b, 3)
    o = outcomes(a, b, 3)
    assert (labels.count("fixed"), labels.count("regressed"), labels.count("unchanged")) == (
        o.fixed,
        o.regressed,
        o.unchanged,
    )


def test_join_counts_and_sentence():
    first_base = np.array([0, 5, 1, 1, 2, 0])
    first_tuned = np.array([1, 2, 1, 4, 2, 0])  # fixed, fixed, same, regressed, same, same
    correct_base = np.array([0, 0, 1, 1, 1, np.nan])
    correct_tuned = np.array([1, 0, 1, 0, 1, 1])
    t = join("base", "finetuned", first_base, first_tuned, correct_base, correct_tuned, k=3)
    assert t.counts["fixed"] == {"improved": 1, "worsened": 0, "unchanged": 1, "missing": 0}
    assert t.counts["regressed"]["worsened"] == 1
    assert t.counts["unchanged"] == {"improved": 0, "worsened": 0, "unchanged": 2, "missing": 1}
    assert t.sentence() == (
        "finetuned vs base: retrieval fixed 2 queries (top 3); for 1 of them the answer became "
        "correct. Retrieval regressed 1; for 1 of them the answer became wrong."
    )


def test_answer_change_uses_the_mean_over_repeats():
    a = np.array([[3, 3, 3], [2, 4, np.nan]], dtype=float)
    b = np.array([[3, 4, 3], [3, 3, 3]], dtype=float)
    assert answer_change(a, b) == ["improved", "unchanged"]


def test_compare_answers_finds_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(1)
    n = 120
    skill = rng.random(n)
    base = (skill < 0.4).astype(float)
    tuned = (skill < 0.6).astype(float)  # right on every query base gets right, and 20% more
    same = base.copy()
    judge_base = np.clip(np.round(3 + rng.normal(0, 1, (n, 3))), 1, 5)
    judge_tuned = np.clip(np.round(3.5 + rng.normal(0, 1, (n, 3))), 1, 5)
    means, deltas = compare_answers(
        {
            "base": {"correct": base, "correctness": judge_base},
            "finetuned": {"correct": tuned, "correctness": judge_tuned},
            "copy": {"correct": same},
        },
        samples=2000,
        seed=0,
    )
    d = {(x.later, x.earlier, x.metric): x for x in deltas}
    real = d[("finetuned", "base", "correct")]
    assert real.value == pytest.approx(tuned.mean() - base.mean()) and real.low > 0 and real.p_value < 0.01
    null = d[("copy", "base", "correct")]
    assert (null.value, null.low, null.high, null.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert d[("finetuned", "base", "correctness")].low > 0
    assert ("copy", "base", "correctness") not in d  # the copy arm has no judge scores
    m = {(x.arm, x.metric): x for x in means}
    assert m[("base", "correct")].value == pytest.approx(base.mean()) and m[("base", "correct")].missing == 0
