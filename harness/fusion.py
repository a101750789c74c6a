"""Fusing ranked runs of one query set: reciprocal-rank fusion and a convex combination of normalised scores.

A run is what harness.evaluate.ArmRun holds: per query (row), ranked document rows into one shared doc_ids list
and their scores, `ranked` -1 where a slot is empty. Fusion works on rows, so every run fused together must index
the same doc_ids. Plain functions over arrays, in the manner of ranx's fusion (ranx 0.3.21 was measured here and
left out: 5 s import, 30-40 s of numba compilation on its first calls; see benchmarks/bench_arms.py).

Ties in a fused score are broken by the smaller document row, so the output never depends on run order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from corpus.errors import RagtuneError
from corpus.options import option
from harness.metrics import per_query, relevance_matrix

DEFAULT_RRF_K = 60
DEFAULT_WEIGHT_GRID = tuple(round(w * 0.1, 1) for w in range(11))
FUSION_METHODS = ("rrf", "convex")
SELECTION_METRICS = ("ndcg", "mrr", "hit", "recall", "map")


class RankedRun(Protocol):
    scores: np.ndarray  # (n_queries, depth) float
    ranked: np.ndarray  # (n_queries, depth) int rows into doc_ids, -1 = empty slot


@dataclass
class Ranking:
    """A fused (or reranked) run: the same shape conventions as ArmRun's scores and ranked."""

    scores: np.ndarray
    ranked: np.ndarray


@dataclass
class FusionConfig:
    method: str = option(
        "rrf",
        help="rrf (reciprocal rank) or convex (weighted normalised scores, weight chosen on dev)",
        choices=FUSION_METHODS,
    )
    rrf_k: int = option(DEFAULT_RRF_K, help="RRF constant: a document at rank r adds 1/(k + r)", min=1, max=10_000)
    weight_grid: tuple[float, ...] = option(
        DEFAULT_WEIGHT_GRID, help="weights of the first run tried on dev for convex fusion (the second gets 1 - w)"
    )
    metric: str = option("ndcg", help="dev metric that picks the convex weight", choices=SELECTION_METRICS)
    k: int = option(10, help="cut-off of the dev metric", min=1, max=1000)

    def __post_init__(self):
        if self.method not in FUSION_METHODS:
            raise RagtuneError(f"fusion method must be one of {', '.join(FUSION_METHODS)}, got '{self.method}'")
        if self.metric not in SELECTION_METRICS:
            raise RagtuneError(f"fusion metric must be one of {', '.join(SELECTION_METRICS)}, got '{self.metric}'")
        if self.rrf_k < 1 or self.k < 1:
            raise RagtuneError("--rrf-k and the dev metric cut-off must be at least 1")
        if not self.weight_grid or any(not 0.0 <= w <= 1.0 for w in self.weight_grid):
            raise RagtuneError("convex fusion weights must lie in [0, 1]")


@dataclass
class GridPoint:
    weight: float
    score: float


@dataclass
class WeightChoice:
    weight: float  # of the first run; the second run gets 1 - weight
    score: float  # the dev metric at that weight
    metric: str  # e.g. 'ndcg@10'
    grid: list[GridPoint]


def _check(runs: Sequence[RankedRun]) -> int:
    if not runs:
        raise RagtuneError("fusion needs at least one run")
    n = runs[0].ranked.shape[0]
    for r in runs:
        if r.ranked.shape[0] != n or r.scores.shape != r.ranked.shape:
            raise RagtuneError("fused runs must rank the same queries (same number of rows, scores shaped as ranks)")
    return n


def _top(query_rows: np.ndarray, doc_rows: np.ndarray, fused: np.ndarray, n_queries: int, depth: int) -> Ranking:
    """Per query, the `depth` best (doc, score) pairs of a flat list; each (query, doc) occurs once."""
    order = np.lexsort((doc_rows, -fused, query_rows))
    q, d, s = query_rows[order], doc_rows[order], fused[order]
    starts = np.searchsorted(q, np.arange(n_queries))
    slot = np.arange(len(q)) - starts[q]
    keep = slot < depth
    scores = np.full((n_queries, depth), np.nan, dtype=np.float32)
    ranked = np.full((n_queries, depth), -1, dtype=np.int64)
    scores[q[keep], slot[keep]] = s[keep]
    ranked[q[keep], slot[keep]] = d[keep]
    return Ranking(scores, ranked)


def _combine(runs: Sequence[RankedRun], values: Sequence[np.ndarray], depth: int | None) -> Ranking:
    """Sum per (query, document) the per-slot values of every run; a document a run lacks adds nothing."""
    n = _check(runs)
    q_parts, d_parts, v_parts = [], [], []
    for run, val in zip(runs, values):
        ranked = np.asarray(run.ranked, dtype=np.int64)
        valid = ranked >= 0
        q_parts.append(np.nonzero(valid)[0])
        d_parts.append(ranked[valid])
        v_parts.append(np.asarray(val, dtype=np.float64)[valid])
    q_all, d_all, v_all = np.concatenate(q_parts), np.concatenate(d_parts), np.concatenate(v_parts)
    width = int(d_all.max()) + 1 if len(d_all) else 1
    keys, inverse = np.unique(q_all * width + d_all, return_inverse=True)
    fused = np.bincount(inverse, weights=v_all, minlength=len(keys))
    depth = depth or max(r.ranked.shape[1] for r in runs)
    return _top(keys // width, keys % width, fused, n, depth)


def reciprocal_rank_fusion(runs: Sequence[RankedRun], k: int = DEFAULT_RRF_K, depth: int | None = None) -> Ranking:
    """score(d) = sum over runs of 1 / (k + rank of d in that run), rank 1-based over the run's filled slots.

    Scores are ignored: only ranks count, so runs on different scales (BM25, cosine) fuse without normalising.
    `depth` (default: the deepest run) bounds the fused ranking."""
    values = []
    for run in runs:
        ranked = np.asarray(run.ranked)
        # rank among filled slots, so an empty slot (-1) in the middle does not push later documents down
        rank = np.cumsum(ranked >= 0, axis=1)
        values.append(1.0 / (k + rank))
    return _combine(runs, values, depth)


def min_max(run: RankedRun) -> np.ndarray:
    """Per query, (score - min) / (max - min) over the run's filled slots: the best document 1, the worst 0.

    A query whose filled slots all score the same gets 1 for each of them (they share the top); empty slots 0."""
    ranked = np.asarray(run.ranked)
    valid = ranked >= 0
    s = np.where(valid, np.asarray(run.scores, dtype=np.float64), np.nan)
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(np.where(valid.any(axis=1, keepdims=True), s, 0.0), axis=1, keepdims=True)
        hi = np.nanmax(np.where(valid.any(axis=1, keepdims=True), s, 0.0), axis=1, keepdims=True)
    span = hi - lo
    norm = np.divide(s - lo, span, out=np.ones_like(s), where=span > 0)
    return np.where(valid, norm, 0.0)


def convex_fusion(runs: Sequence[RankedRun], weights: Sequence[float], depth: int | None = None) -> Ranking:
    """score(d) = sum of weight_i * min_max_i(d). A document missing from run i (not retrieved to its depth)
    gets run i's minimum, which min-max maps to 0: it contributes nothing, exactly like its worst retrieved
    document. Weights are used as given (they need not sum to 1; the order they make is what matters)."""
    if len(weights) != len(runs):
        raise RagtuneError(f"convex fusion needs one weight per run ({len(runs)}), got {len(weights)}")
    return _combine(runs, [w * min_max(r) for r, w in zip(runs, weights)], depth)


def choose_weight(
    dev_runs: tuple[RankedRun, RankedRun],
    doc_ids: list[str],
    query_ids: list[str],
    qrels: dict[str, dict[str, int]],
    cfg: FusionConfig | None = None,
) -> WeightChoice:
    """The convex weight of dev_runs[0] (the other run gets 1 - w) that maximises cfg.metric@cfg.k on the dev
    queries, over cfg.weight_grid; the first best grid point wins a tie. Never call it with test runs: the
    weight would be fitted to the figures it is then judged by."""
    cfg = cfg or FusionConfig(method="convex")
    grid = []
    for w in cfg.weight_grid:
        fused = convex_fusion(dev_runs, (w, 1.0 - w), depth=max(cfg.k, dev_runs[0].ranked.shape[1]))
        values = per_query(relevance_matrix(fused.ranked, doc_ids, query_ids, qrels), [cfg.k])[cfg.metric]
        grid.append(GridPoint(float(w), float(values[:, 0].mean())))
    best = max(grid, key=lambda p: p.score)  # max keeps the first of equal scores
    return WeightChoice(best.weight, best.score, f"{cfg.metric}@{cfg.k}", grid)
