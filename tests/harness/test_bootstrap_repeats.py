"""Two-stage bootstrap over queries and repeats (a judge asked N times), on synthetic data whose noise is known."""

from __future__ import annotations

import numpy as np
import pytest

from harness.bootstrap import bootstrap_ci, bootstrap_ci_repeats, query_means


def judged(rng, n, repeats, noise, shift=0.0):
    """True per-query quality (sd 1) plus independent judge noise per repeat."""
    truth = rng.normal(3.0 + shift, 1.0, size=(n, 1))
    return truth + rng.normal(0.0, noise, size=(n, repeats))


def width(ci) -> float:
    return float(ci.high - ci.low)


def test_noiseless_repeats_give_exactly_the_query_bootstrap():
    x = np.repeat(judged(np.random.default_rng(0), 40, 1, 0.0), 3, axis=1)
    two_stage = bootstrap_ci_repeats(x, samples=2000, seed=5)
    plain = bootstrap_ci(query_means(x), samples=2000, seed=5)
    assert [float(v) for v in (two_stage.value, two_stage.low, two_stage.high)] == pytest.approx(
        [float(v) for v in (plain.value, plain.low, plain.high)]
    )


def test_repeat_noise_widens_or_keeps_the_ci_of_the_same_data():
    """On the same 3-repeat data, resampling repeats too is at least as wide as treating each query's repeat mean
    as exact, on average over datasets (and by about the predicted amount)."""
    rng = np.random.default_rng(1)
    ratios = []
    for r in range(30):
        x = judged(rng, 60, 3, noise=1.0)
        ratios.append(
            width(bootstrap_ci_repeats(x, samples=2000, seed=r))
            / width(bootstrap_ci(query_means(x), samples=2000, seed=r))
        )
    # variance per query: between (1 + 1/3) plus resampled within (σ²(r−1)/r² = 2/9): ratio ≈ sqrt(14/12) ≈ 1.08
    assert 1.03 < np.mean(ratios) < 1.13
    assert min(ratios) > 0.97  # never materially narrower on any one dataset


def test_three_repeats_versus_one_repeat_of_the_same_judge():
    """The honest comparison with a single repeat: averaging 3 judgements removes noise, so the 3-repeat CI is
    narrower than the 1-repeat CI (whose judge noise sits inside the between-query spread), not wider."""
    rng = np.random.default_rng(2)
    one, three = [], []
    for r in range(30):
        x = judged(rng, 60, 3, noise=1.0)
        one.append(width(bootstrap_ci(x[:, 0], samples=2000, seed=r)))
        three.append(width(bootstrap_ci_repeats(x, samples=2000, seed=r)))
    # predicted widths ∝ sqrt(1 + 1) for one repeat and sqrt(1 + 1/3 + 2/9) for three
    assert np.mean(three) / np.mean(one) == pytest.approx(np.sqrt((1 + 1 / 3 + 2 / 9) / 2), abs=0.05)


def test_paired_difference_and_missing_repeats():
    rng = np.random.default_rng(3)
    a = judged(rng, 200, 3, noise=0.5)
    b = a[:, :1] + 0.3 + rng.normal(0, 0.5, size=(200, 3))  # same queries, shifted, fresh judge noise
    b[0, :] = np.nan  # every call for query 0 failed: left out
    b[1, 1:] = np.nan  # one repeat left: used alone
    ci = bootstrap_ci_repeats(b, a, samples=2000, seed=0)
    assert ci.low < 0.3 < ci.high and ci.high - ci.low < 0.3
    expected = np.mean(query_means(b)[1:] - query_means(a)[1:])
    assert float(ci.value) == pytest.approx(expected)
    assert np.isnan(bootstrap_ci_repeats(np.full((3, 2), np.nan)).value)
