"""Minimum detectable effect and the budget planner: hand-checkable numbers, scipy, and a simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from corpus.errors import RagtuneError
from rag.answer_design import QueryStratum, design
from rag.answer_power import (
    detectable,
    mde,
    mde_paired,
    plan,
    queries_for_effect,
    queries_for_effect_from_se,
    z_sum,
)


def test_z_sum_and_mde_by_hand():
    # 1.959964 + 0.841621
    assert z_sum(0.95, 0.8) == pytest.approx(2.801585, abs=1e-5)
    assert mde(0.05) == pytest.approx(0.140079, abs=1e-5)
    # n = 100 paired queries, 20 % discordant: δ = 2.8016 · √(0.2 / (100 + 2.8016²)) = 0.12066
    assert mde_paired(100, 0.2) == pytest.approx(0.12066, abs=1e-4)
    assert mde_paired(0, 0.2) == math.inf
    with pytest.raises(RagtuneError):
        z_sum(1.0, 0.8)


def test_mde_has_the_stated_power_by_scipy():
    """At δ = MDE the one-sample normal test of the paired difference (σ² = p_d − δ²) has power 0.8."""
    from scipy.stats import norm

    for n, pd_ in ((40, 0.3), (100, 0.2), (500, 0.1)):
        delta = mde_paired(n, pd_, confidence=0.9)
        se = math.sqrt((pd_ - delta**2) / n)
        z = norm.ppf(0.95)
        power = norm.sf(z - delta / se) + norm.cdf(-z - delta / se)
        assert power == pytest.approx(0.8, abs=0.01)


def test_mde_has_the_stated_power_by_simulation():
    """Paired 0/1 answers with 20 % discordance and a true difference of the MDE: a z test with the observed SE
    rejects in about 80 % of 4000 simulated runs."""
    rng = np.random.default_rng(0)
    n, pd_ = 200, 0.2
    delta = mde_paired(n, pd_)
    p_up, p_down = (pd_ + delta) / 2, (pd_ - delta) / 2
    u = rng.random((4000, n))
    d = np.where(u < p_up, 1.0, np.where(u < p_up + p_down, -1.0, 0.0))
    z = d.mean(1) / (d.std(1, ddof=1) / math.sqrt(n))
    assert np.mean(np.abs(z) > 1.959964) == pytest.approx(0.8, abs=0.03)


def test_queries_needed_round_trip():
    n = queries_for_effect(0.1, discordance=0.2)
    assert mde_paired(n, 0.2) <= 0.1 + 1e-3 and mde_paired(n - 5, 0.2) > 0.1 - 1e-3
    # with SE 0.1 on 10 queries (the demo's order of magnitude), a difference of 0.1 needs 10 · (2.8016)² ≈ 79
    assert queries_for_effect_from_se(0.1, 0.1, 10) == 79
    d = detectable(0.1, 10, effect=0.1)
    assert d.mde == pytest.approx(0.28016, abs=1e-4) and d.queries_needed == 79 and d.more_queries == 69
    with pytest.raises(RagtuneError):
        queries_for_effect(0.5, discordance=0.2)


def _split():
    labels = ["fixed"] * 20 + ["regressed"] * 10 + ["both_hit:same"] * 100 + ["both_miss:differ"] * 30
    prompts = {"both_hit:same": 2}
    return [QueryStratum(f"q{i:03d}", f"a~b={h}", prompts.get(h, 3)) for i, h in enumerate(labels)]


def test_plan_spends_the_budget_and_a_larger_one_detects_less():
    d = design(_split(), seed=1)
    small, large = plan(d, 5, 10, arms=3), plan(d, 20, 10, arms=3)
    for p in (small, large):
        assert p.minutes <= p.budget_minutes and p.prompts * 10 / 60 == pytest.approx(p.minutes)
        assert p.budget_minutes - p.minutes < 3 * 10 / 60  # no room left for another query
        assert 0 < p.shared < 1  # same-context queries answer two arms with one prompt
    assert large.sample.query_ids[: small.queries] == small.sample.query_ids
    assert large.expected_mde < small.expected_mde
    # fixed/regressed get a larger share of their stratum than identical-prompt queries
    frac = {h: large.per_stratum[h] / large.strata_sizes[h] for h in large.per_stratum}
    assert frac["a~b=fixed"] > frac["a~b=both_hit:same"]
    text = large.lines()
    assert f"{large.queries} queries" in text[0] and len(text) == 1 + len(large.strata_sizes)
    everything = plan(d, 1000, 10, arms=3)
    assert everything.queries == 160 and everything.expected_se == 0  # the whole split: nothing left to estimate
