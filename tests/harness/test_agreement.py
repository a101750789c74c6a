"""Krippendorff's alpha against the worked examples of Krippendorff (2011), "Computing Krippendorff's
Alpha-Reliability", and its behaviour at chance and at perfect agreement."""

from __future__ import annotations

import numpy as np
import pytest

from harness.agreement import agreement, krippendorff_alpha

nan = np.nan
# Krippendorff 2011, section C: 4 observers × 12 units with missing values (rows are observers there)
RELIABILITY_DATA = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
).T


@pytest.mark.parametrize(
    "level, expected", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_worked_example_with_missing_values(level, expected):
    assert krippendorff_alpha(RELIABILITY_DATA, level) == pytest.approx(expected, abs=5e-4)


def test_two_coders_binary_by_hand():
    # Krippendorff 2011, section A: two observers, ten units, binary values; alpha = 0.095
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    ratings = np.array([a, b], dtype=float).T
    assert krippendorff_alpha(ratings, "nominal") == pytest.approx(0.095, abs=5e-4)
    # binary data: every level of measurement gives the same alpha
    assert krippendorff_alpha(ratings, "interval") == pytest.approx(0.095, abs=5e-4)


def test_perfect_chance_and_undefined():
    rng = np.random.default_rng(0)
    truth = rng.integers(1, 6, size=300).astype(float)
    consistent = np.stack([truth] * 3, axis=1)
    assert krippendorff_alpha(consistent, "interval") == pytest.approx(1.0)
    random = rng.integers(1, 6, size=(300, 3)).astype(float)
    assert abs(krippendorff_alpha(random, "interval")) < 0.08
    assert np.isnan(krippendorff_alpha(np.full((5, 3), 4.0)))  # no variation: nothing to agree about
    assert np.isnan(krippendorff_alpha(np.array([[1.0, nan], [2.0, nan]])))  # no pairable unit


def test_agreement_summary():
    r = np.array([[1, 1, 1], [2, 4, nan], [3, nan, nan]], dtype=float)
    a = agreement(r, "ordinal")
    assert (a.units, a.coders, a.missing, a.exact) == (2, 3, 3, 0.5)
    assert a.mean_sd == pytest.approx((0.0 + np.std([2, 4], ddof=1)) / 2)
