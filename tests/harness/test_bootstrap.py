"""Bootstrap CIs and the randomization test on synthetic paired data whose true difference is known."""

from __future__ import annotations

import numpy as np

from harness.bootstrap import bootstrap_ci, randomization_test
from harness.outcomes import outcomes
from harness.paired_comparison import compare_arms


def paired_sample(rng, n, p_a=0.5, p_b=0.6):
    """Per-query hits of two arms sharing query difficulty; true mean difference p_b - p_a."""
    u = rng.random(n)
    return (u < p_a).astype(float), (u < p_b).astype(float)


def test_ci_covers_the_true_delta_at_about_the_nominal_rate():
    rng = np.random.default_rng(1)
    covered, widths = 0, []
    reps = 200
    for r in range(reps):
        a, b = paired_sample(rng, 300)
        ci = bootstrap_ci(b - a, samples=1000, seed=r)
        covered += bool(ci.low <= 0.1 <= ci.high)
        widths.append(float(ci.high - ci.low))
    # 95% nominal; 200 replicates put a correct interval's coverage in [0.90, 0.99] with ~99% probability
    assert 0.90 <= covered / reps <= 0.99
    # paired analysis: the width follows the variance of the difference (sd 0.3/sqrt(300) → ~0.067 wide)
    assert 0.05 < np.mean(widths) < 0.085


def test_shapes_and_seeded_reproducibility():
    rng = np.random.default_rng(2)
    x = rng.random((50, 6, 5))
    a, b = bootstrap_ci(x, 500, seed=3), bootstrap_ci(x, 500, seed=3)
    assert a.value.shape == a.low.shape == (6, 5)
    np.testing.assert_array_equal(a.low, b.low)
    np.testing.assert_allclose(a.value, x.mean(axis=0))
    assert (a.low <= a.value).all() and (a.value <= a.high).all()


def test_randomization_test_separates_a_real_effect_from_none():
    rng = np.random.default_rng(4)
    a, b = paired_sample(rng, 400, 0.5, 0.62)
    same = rng.random(400)
    p = randomization_test(np.stack([b - a, np.zeros(400), same - same[::-1]], axis=1), samples=5000, seed=0)
    assert p[0] < 0.001  # a 12-point gain over 400 queries is not chance
    assert p[1] == 1.0  # identical arms: every flip is as extreme
    assert p[2] > 0.01  # an antisymmetric difference has mean 0


def test_outcomes_and_pair_rows():
    first_a = np.array([1, 0, 12, 3, 0])
    first_b = np.array([0, 2, 4, 3, 0])
    o = outcomes(first_a, first_b, k=10)
    assert (o.fixed, o.regressed, o.unchanged) == (2, 1, 2)
    vals = {
        "base": {m: np.zeros((5, 1)) for m in ("hit", "precision", "recall", "mrr", "ndcg", "map")},
        "tuned": {m: np.ones((5, 1)) for m in ("hit", "precision", "recall", "mrr", "ndcg", "map")},
    }
    rows, outs = compare_arms(vals, {"base": first_a, "tuned": first_b}, [10], 10, 200, 0.95, 0)
    deltas = [r for r in rows if r["kind"] == "delta"]
    assert len(rows) == 18 and len(deltas) == 6
    assert all(r["arm"] == "tuned - base" and r["value"] == 1.0 for r in deltas)
    assert outs == [{"baseline": "base", "arm": "tuned", "k": 10, "fixed": 2, "regressed": 1, "unchanged": 2}]
