"""Arms side by side: each arm's means with bootstrap CIs, and for every pair of arms the paired difference
with its CI, a randomization-test p-value, and the queries fixed / regressed / unchanged.

Pairs are (earlier arm, later arm) in the order arms were given, and a delta is later − earlier, so with the
default order the first pair is finetuned − base.

Fixed / regressed / unchanged at cut-off --fix-k: harness/outcomes.py (the definition step 4 uses too).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from harness.bootstrap import bootstrap_ci, randomization_test
from harness.metrics import METRICS
from harness.outcomes import outcomes


def pairs(names: list[str]) -> list[tuple[str, str]]:
    return list(combinations(names, 2))


def stacked(values: dict[str, np.ndarray]) -> np.ndarray:
    """(n_queries, n_metrics, n_ks) in METRICS order."""
    return np.stack([values[m] for m in METRICS], axis=1)


def compare_arms(
    values: dict[str, dict[str, np.ndarray]],
    first_rank: dict[str, np.ndarray],
    ks: list[int],
    fix_k: int,
    samples: int,
    confidence: float,
    seed: int,
) -> tuple[list[dict], list[dict]]:
    """Tidy rows: (metric rows for arms and deltas, outcome rows per pair)."""
    rows: list[dict] = []
    names = list(values)
    for name in names:
        ci = bootstrap_ci(stacked(values[name]), samples, confidence, seed)
        rows += _rows("arm", name, "", ci.value, ci.low, ci.high, None, ks)
    outcome_rows = []
    for a, b in pairs(names):
        diff = stacked(values[b]) - stacked(values[a])
        ci = bootstrap_ci(diff, samples, confidence, seed)
        p = randomization_test(diff, samples, seed)
        rows += _rows("delta", f"{b} - {a}", a, ci.value, ci.low, ci.high, p, ks)
        o = outcomes(first_rank[a], first_rank[b], fix_k)
        outcome_rows.append(
            {"baseline": a, "arm": b, "k": fix_k, "fixed": o.fixed, "regressed": o.regressed, "unchanged": o.unchanged}
        )
    return rows, outcome_rows


def _rows(kind, arm, baseline, value, low, high, p, ks) -> list[dict]:
    out = []
    for i, metric in enumerate(METRICS):
        for j, k in enumerate(ks):
            out.append(
                {
                    "kind": kind,
                    "arm": arm,
                    "baseline": baseline,
                    "metric": metric,
                    "k": int(k),
                    "value": float(value[i, j]),
                    "ci_low": float(low[i, j]),
                    "ci_high": float(high[i, j]),
                    "p_value": float(p[i, j]) if p is not None else np.nan,
                }
            )
    return out
