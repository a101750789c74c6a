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


def query_means(x: np.ndarray) -> np.ndarray:
    """(n_queries,) mean over each query's repeats (n_queries, n_repeats), NaN where a query has none."""
    x = np.asarray(x, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    valid = ~np.isnan(x)
    total = np.where(valid, x, 0.0).sum(axis=1)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _compacted(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's values moved to the front (NaN last) and how many each row has."""
    order = np.argsort(np.isnan(x), axis=1, kind="stable")
    return np.take_along_axis(x, order, axis=1), (~np.isnan(x)).sum(axis=1)


def _resampled_repeat_means(x: np.ndarray, drawn: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(b, n) means of each drawn query's repeats drawn again with replacement (as many as it has); every copy of
    a query drawn twice gets its own draw of repeats, as a two-stage bootstrap does."""
    values, m = _compacted(x)
    r = values.shape[1]
    m_drawn = m[drawn][:, :, None]
    picks = np.floor(rng.random(drawn.shape + (r,)) * m_drawn).astype(np.int64)
    picked = values[drawn[:, :, None], picks]
    used = np.arange(r)[None, None, :] < m_drawn
    return np.where(used, picked, 0.0).sum(axis=2) / m_drawn[:, :, 0]


def bootstrap_ci_repeats(
    x: np.ndarray, baseline: np.ndarray | None = None, samples: int = 10_000, confidence: float = 0.95, seed: int = 0
) -> Interval:
    """Two-stage percentile CI of the mean over queries when each query has several noisy repeats (a judge asked
    N times): resample queries, then each query's repeats within it. x is (n_queries, n_repeats), NaN for a
    missing repeat. With `baseline` (same shape) the statistic is the paired difference mean(x) − mean(baseline),
    the two arms' repeats resampled independently (they are separate calls) on the same resampled queries.

    Queries with no value (in either arm when paired) are left out. The query draws use the same random stream
    as `bootstrap_ci`, so with identical repeats (a noiseless judge) the interval is exactly that of
    `bootstrap_ci` on the query means; repeat noise can only add resampling variance on top. Note what this
    does *not* promise: averaging 3 repeats makes each query's mean less noisy, so the CI from 3 repeats is
    usually narrower than from 1 repeat of the same judge (whose noise is then inside the between-query spread).
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    keep = ~np.isnan(query_means(x))
    if baseline is not None:
        baseline = np.asarray(baseline, dtype=np.float64)
        baseline = baseline[:, None] if baseline.ndim == 1 else baseline
        keep &= ~np.isnan(query_means(baseline))
        baseline = baseline[keep]
    x = x[keep]
    n = x.shape[0]
    if n == 0:
        return Interval(np.float64(np.nan), np.float64(np.nan), np.float64(np.nan))
    observed = query_means(x) - (query_means(baseline) if baseline is not None else 0.0)
    rng_queries, rng_repeats = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    stats = np.empty(samples)
    for start in range(0, samples, CHUNK):
        b = min(CHUNK, samples - start)
        drawn = rng_queries.integers(0, n, size=(b, n))
        per_query = _resampled_repeat_means(x, drawn, rng_repeats)
        if baseline is not None:
            per_query = per_query - _resampled_repeat_means(baseline, drawn, rng_repeats)
        stats[start : start + b] = per_query.mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return Interval(np.float64(observed.mean()), np.float64(low), np.float64(high))
