"""Agreement among repeated or parallel ratings of the same units: Krippendorff's alpha, exact agreement and
the spread. Used for an LLM judge asked N times (repeats as coders) and for two judges (judges as coders).

Krippendorff's alpha = 1 − D_o / D_e, from the coincidence matrix o_ck (Krippendorff 2011, "Computing
Krippendorff's Alpha-Reliability"): every ordered pair of values given to the same unit by two different coders
adds 1/(m_u − 1), m_u being the number of values the unit received; units with fewer than two values are not
pairable and left out. With n_c = Σ_k o_ck and n = Σ_c n_c,

    alpha = 1 − (n − 1) · Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck

δ² by level of measurement: nominal [c ≠ k]; interval (c − k)²; ratio ((c − k)/(c + k))²; ordinal
(Σ_{g from c to k} n_g − (n_c + n_k)/2)². alpha is 1 for perfect agreement, 0 for agreement as by chance, and is
undefined (NaN) when every value is the same (no variation to agree about).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _squared_distances(values: np.ndarray, n_c: np.ndarray, level: str) -> np.ndarray:
    c, k = values[:, None], values[None, :]
    if level == "nominal":
        return (c != k).astype(float)
    if level == "interval":
        return (c - k) ** 2
    if level == "ratio":
        total = c + k
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total == 0, 0.0, ((c - k) / np.where(total == 0, 1, total)) ** 2)
    if level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(n_c)])
        i, j = np.meshgrid(np.arange(len(values)), np.arange(len(values)), indexing="ij")
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        return (cum[hi + 1] - cum[lo] - (n_c[i] + n_c[j]) / 2.0) ** 2
    raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


def krippendorff_alpha(ratings: np.ndarray, level: str = "interval") -> float:
    """ratings: (units, coders), NaN where a coder gave no value (a failed judge call is such a gap)."""
    r = np.asarray(ratings, dtype=np.float64)
    if r.ndim != 2:
        raise ValueError("ratings must be (units, coders)")
    r = r[(~np.isnan(r)).sum(axis=1) >= 2]
    if r.size == 0:
        return float("nan")
    values = np.unique(r[~np.isnan(r)])
    # counts[u, c]: how many coders gave unit u the value values[c]
    counts = (r[:, :, None] == values[None, None, :]).sum(axis=1).astype(np.float64)
    weight = 1.0 / (counts.sum(axis=1) - 1.0)
    coincidences = (counts * weight[:, None]).T @ counts - np.diag((counts * weight[:, None]).sum(axis=0))
    n_c = coincidences.sum(axis=1)
    n = n_c.sum()
    d2 = _squared_distances(values, n_c, level)
    expected = (np.outer(n_c, n_c) * d2).sum()
    if expected == 0:
        return float("nan")
    return float(1.0 - (n - 1.0) * (coincidences * d2).sum() / expected)


@dataclass(frozen=True)
class Agreement:
    alpha: float  # Krippendorff's alpha at `level`
    level: str
    units: int  # units with at least two values (the ones alpha is computed on)
    coders: int
    exact: float  # share of those units on which every value given is the same
    mean_sd: float  # mean over those units of the standard deviation of their values (ddof=1)
    missing: int  # values absent (failed calls)


def agreement(ratings: np.ndarray, level: str = "interval") -> Agreement:
    r = np.asarray(ratings, dtype=np.float64)
    pairable = r[(~np.isnan(r)).sum(axis=1) >= 2]
    if len(pairable):
        exact = float(np.mean([len(np.unique(row[~np.isnan(row)])) == 1 for row in pairable]))
        mean_sd = float(np.mean(np.nanstd(pairable, axis=1, ddof=1)))
    else:
        exact = mean_sd = float("nan")
    return Agreement(
        krippendorff_alpha(r, level), level, len(pairable), r.shape[1], exact, mean_sd, int(np.isnan(r).sum())
    )
