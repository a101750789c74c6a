"""What the arm engine returns for one arm on one pool: the ranking (rows into one shared document list, scores) and
what the arm cost and fitted. Steps 3, 4 and 5 all read this one shape; ids appear only where a step shows them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus.jsonl import read_json_or_none


@dataclass
class ArmRanking:
    name: str
    kind: str  # harness.arms.KINDS: 'dense', 'bm25', 'hybrid' or 'rerank'
    scores: np.ndarray  # (n_queries, depth') float32
    ranked: np.ndarray  # (n_queries, depth') rows into the engine's doc_ids, -1 = empty slot
    encode_seconds: float = float("nan")  # documents encoded (dense) or indexed (bm25)
    docs_per_second: float = float("nan")
    cached: bool = False  # the documents' embeddings came from the cache
    latency_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))  # single-query timings, seeded sample
    ann_recall: float = float("nan")  # recall@10 of an approximate index against exact search
    training_minutes: float = 0.0  # wall time of the training behind the arm (its cards), 0 for base and BM25
    fitted: dict = field(default_factory=dict)  # what was fitted for the arm (a convex weight and where)
    note: str = ""  # the fitted or configured detail in words, e.g. the convex weight and its dev split

    def ids(self, doc_ids: list[str], k: int | None = None) -> list[list[str]]:
        """Per query, the ranked document ids (best first, at most k)."""
        width = self.ranked.shape[1] if k is None else min(k, self.ranked.shape[1])
        return [[doc_ids[j] for j in row[:width] if j >= 0] for row in self.ranked]


def latency_sample(n_queries: int, count: int, seed: int) -> np.ndarray:
    """The query rows timed one by one: a seeded sample, the same for every arm of a run."""
    return np.random.default_rng(seed).permutation(n_queries)[: max(count, 0)]


def time_queries(one_query: Callable[[str], object], texts: list[str], sample: np.ndarray) -> np.ndarray:
    """Milliseconds per single-query call over the sampled texts (a warm-up call is not counted)."""
    if len(sample) == 0 or not texts:
        return np.zeros(0)
    one_query(texts[sample[0]])
    out = np.empty(len(sample))
    for i, j in enumerate(sample):
        t0 = time.perf_counter()
        one_query(texts[j])
        out[i] = (time.perf_counter() - t0) * 1000.0
    return out


def drop_identical_ids(
    scores: np.ndarray, ranked: np.ndarray, doc_ids: list[str], query_ids: list[str], depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """Remove each query's own id from its ranking, keep the order of the rest, cut to `depth` (-1 pads)."""
    out_scores = np.full((len(query_ids), depth), np.nan, dtype=np.float32)
    out_ranked = np.full((len(query_ids), depth), -1, dtype=ranked.dtype)
    for i, qid in enumerate(query_ids):
        keep = [j for j, r in enumerate(ranked[i]) if r >= 0 and doc_ids[r] != qid][:depth]
        out_scores[i, : len(keep)] = scores[i, keep]
        out_ranked[i, : len(keep)] = ranked[i, keep]
    return out_scores, out_ranked


def training_minutes(model_path) -> float:
    """Wall minutes recorded in a trained model's training_card.json (0 for the shipped model or no card)."""
    card = read_json_or_none(Path(model_path) / "training_card.json")
    try:
        return float(card.get("wall_time_s", 0.0)) / 60.0 if card else 0.0
    except (TypeError, ValueError, AttributeError):
        return float("nan")
