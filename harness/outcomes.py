"""Fixed / regressed: the one definition steps 3 and 4 share.

A query is a hit for an arm at cut-off k when the first relevant document's rank is ≤ k. Between a baseline arm and
another arm:
  fixed      the baseline misses, the other arm hits;
  regressed  the baseline hits, the other arm misses;
  both_hit / both_miss (counted together as 'unchanged' in step 3's table).
Rank moves inside the top k are not counted here; the MRR delta shows them. Step 3 uses k = --fix-k (Hit@10 by
default); step 4's verdict is the same rule with k = --top-k, the passages that went into the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIXED, REGRESSED, BOTH_HIT, BOTH_MISS = "fixed", "regressed", "both_hit", "both_miss"
VERDICTS = (FIXED, REGRESSED, BOTH_HIT, BOTH_MISS)


def hit_at(first_rank, k: int):
    """first_rank: 1-based rank of the first relevant document, 0 or None when none was retrieved (a number or an
    array of them)."""
    if first_rank is None:
        return False
    rank = np.asarray(first_rank)
    hit = (rank > 0) & (rank <= k)
    return bool(hit) if hit.ndim == 0 else hit


def verdict(baseline_rank: int | None, rank: int | None, k: int) -> str:
    """One query's outcome for `rank` against the baseline's, at cut-off k."""
    base_hit, hit = hit_at(baseline_rank, k), hit_at(rank, k)
    if hit and not base_hit:
        return FIXED
    if base_hit and not hit:
        return REGRESSED
    return BOTH_HIT if hit else BOTH_MISS


@dataclass(frozen=True)
class Outcomes:
    fixed: int
    regressed: int
    unchanged: int


def outcomes(first_a: np.ndarray, first_b: np.ndarray, k: int) -> Outcomes:
    """Counts over queries, b against baseline a (ranks as in hit_at, 0 = none)."""
    hit_a, hit_b = hit_at(first_a, k), hit_at(first_b, k)
    fixed = int((~hit_a & hit_b).sum())
    regressed = int((hit_a & ~hit_b).sum())
    return Outcomes(fixed, regressed, len(hit_a) - fixed - regressed)
