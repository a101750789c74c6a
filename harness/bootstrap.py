"""Uncertainty over queries: percentile bootstrap CIs of means and of paired differences, and a paired
randomization (sign-flip) test. Seeded, and vectorised as one matrix product per statistic.

Queries are the unit that is resampled: the question is how much a mean over *these kinds* of queries could
move had we drawn other queries, with both arms always scored on the same resampled queries (paired).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# rows of the resampling matrix built at once: bounds memory to CHUNK × n_queries floats
CHUNK = 2000


@dataclass(frozen=True)
class Interval:
    value: np.ndarray  # observed mean (or mean difference), shaped like one row of the input
    low: np.ndarray
    high: np.ndarray


def _as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[:, None] if x.ndim == 1 else x.reshape(x.shape[0], -1)


def _resampled_means(x: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """(samples, m) means of x (n, m) over bootstrap resamples of its rows."""
    n = x.shape[0]
    out = np.empty((samples, x.shape[1]))
    for start in range(0, samples, CHUNK):
        b = min(CHUNK, samples - start)
        # how often each query appears in each resample (rows drawn with replacement), counted in one pass
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        counts = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)
        out[start : start + b] = counts @ x / n
    return out


def bootstrap_ci(x: np.ndarray, samples: int = 10_000, confidence: float = 0.95, seed: int = 0) -> Interval:
    """Percentile CI of the means over queries of x (n_queries, ...). For a paired difference pass b - a."""
    shape = np.asarray(x).shape[1:]
    x = _as_2d(x)
    if x.shape[0] == 0:
        nan = np.full(shape, np.nan)
        return Interval(nan, nan, nan)
    means = _resampled_means(x, samples, np.random.default_rng(seed))
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha], axis=0)
    return Interval(x.mean(axis=0).reshape(shape), low.reshape(shape), high.reshape(shape))


def randomization_test(diff: np.ndarray, samples: int = 10_000, seed: int = 0) -> np.ndarray:
    """Two-sided p-value of a paired randomization test that the mean of diff (n, ...) is zero, per column.

    Under the null hypothesis the two arms are exchangeable per query, so each difference's sign is a coin
    flip; p = (1 + #{|flipped mean| >= |observed mean|}) / (1 + samples), never exactly 0.
    """
    shape = np.asarray(diff).shape[1:]
    diff = _as_2d(diff)
    n, m = diff.shape
    if n == 0:
        return np.full(shape, np.nan)
    rng = np.random.default_rng(seed)
    observed = np.abs(diff.mean(axis=0))
    # a tolerance so that differences equal to the observed one up to rounding count as "at least as extreme"
    tol = 1e-12 * np.maximum(1.0, observed)
    extreme = np.zeros(m)
    for start in range(0, samples, CHUNK):
        b = min(CHUNK, samples - start)
        signs = rng.integers(0, 2, size=(b, n), dtype=np.int8).astype(np.float64) * 2.0 - 1.0
        extreme += (np.abs(signs @ diff / n) >= observed - tol).sum(axis=0)
    return ((extreme + 1.0) / (samples + 1.0)).reshape(shape)
