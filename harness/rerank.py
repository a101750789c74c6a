"""Reranking a first-stage run with a cross-encoder: the top `depth` documents of each query are scored as
(query, document) pairs and reordered; what lay below `depth` follows, in first-stage order.

Queries are reranked one at a time, as a RAG system does per question, so the recorded milliseconds per query are
the latency a user pays on top of the first stage (batching across queries would hide it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from corpus.errors import RagtuneError
from corpus.options import option
from harness.fusion import RankedRun, Ranking

DEFAULT_RERANK_DEPTH = 50


@dataclass
class RerankConfig:
    depth: int = option(DEFAULT_RERANK_DEPTH, help="first-stage documents reranked per query", min=1, max=1000)
    batch_size: int = option(64, help="pairs per forward pass", min=1, max=4096)

    def __post_init__(self):
        if self.depth < 1 or self.batch_size < 1:
            raise RagtuneError("rerank depth and batch size must be at least 1")


@dataclass
class RerankResult:
    ranking: Ranking
    latency_ms: np.ndarray  # (n_queries,) milliseconds spent scoring each query's pairs
    pairs: int  # (query, document) pairs scored in all

    @property
    def ms_per_query(self) -> float:
        return float(self.latency_ms.mean()) if len(self.latency_ms) else float("nan")


def rerank(
    first_stage: RankedRun, query_texts: list[str], doc_texts: list[str], model, cfg: RerankConfig | None = None
) -> RerankResult:
    """Rerank first_stage (rows index doc_texts, one row per query_texts entry) with a CrossEncoder-like model
    (anything with predict(list of (query, document)) -> scores).

    The reranked head keeps the cross-encoder's scores; the tail below `depth` gets scores strictly below the
    head's lowest, decreasing in first-stage order, so the output is a valid run of the same width."""
    cfg = cfg or RerankConfig()
    ranked_in = np.asarray(first_stage.ranked, dtype=np.int64)
    if ranked_in.shape[0] != len(query_texts):
        raise RagtuneError(f"the first-stage run has {ranked_in.shape[0]} queries, {len(query_texts)} texts given")
    n, width = ranked_in.shape
    scores = np.full((n, width), np.nan, dtype=np.float32)
    ranked = np.full((n, width), -1, dtype=np.int64)
    latency = np.zeros(n)
    pairs = 0
    for i, query in enumerate(query_texts):
        row = ranked_in[i][ranked_in[i] >= 0]
        head, tail = row[: cfg.depth], row[cfg.depth :]
        if len(head) == 0:
            continue
        t0 = time.perf_counter()
        head_scores = np.asarray(
            model.predict(
                [(query, doc_texts[d]) for d in head],
                batch_size=cfg.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
            ),
            dtype=np.float32,
        )
        latency[i] = (time.perf_counter() - t0) * 1000.0
        pairs += len(head)
        order = np.lexsort((np.arange(len(head)), -head_scores))  # equal scores keep first-stage order
        out = np.concatenate([head[order], tail])
        ranked[i, : len(out)] = out
        scores[i, : len(head)] = head_scores[order]
        scores[i, len(head) : len(out)] = head_scores.min() - 1.0 - np.arange(len(tail), dtype=np.float32)
    return RerankResult(Ranking(scores, ranked), latency, pairs)
