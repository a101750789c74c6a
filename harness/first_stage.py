"""The arms that rank documents on their own: a dense model (inner product over normalised embeddings, FAISS or a
database store) and BM25. Each is prepared once over the engine's documents and then ranks any queries on any pool
(a subset of those documents' rows) with its costs; hybrids and reranked arms are built on their rankings
(harness.arm_engine).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from corpus.beir import Document
from harness.ann import IndexConfig, build_index, recall_vs_exact, search
from harness.arm_ranking import ArmRanking, time_queries, training_minutes
from harness.arms import BM25, DENSE, ArmSpec
from harness.retrieval_options import RetrievalOptions


def _is_whole(rows: np.ndarray, n_docs: int) -> bool:
    return len(rows) == n_docs and bool((rows == np.arange(len(rows))).all())


def _rows_ranked(idx: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A pool's local search indices as rows of the engine's documents (-1 stays -1)."""
    return np.where(idx >= 0, rows[np.clip(idx, 0, None)], -1)


class DenseRanker:
    """One dense arm: its model loaded and every document embedded (from the cache or the store when present) once."""

    def __init__(
        self,
        spec: ArmSpec,
        docs: dict[str, Document],
        cache,
        retrieval: RetrievalOptions,
        backend=None,
        batch_size: int = 64,
        show_progress: bool = True,
        cache_queries: bool = True,
    ):
        from corpus.models import load_embedder
        from harness.retrieval import dense_retriever

        self.spec = spec
        self.retrieval = retrieval
        self.backend = backend
        self.show_progress = show_progress
        self.model = load_embedder(spec.model)
        hits_before = cache.hits if cache is not None else 0
        t0 = time.perf_counter()
        self.retriever = dense_retriever(
            self.model,
            docs,
            cache,
            retrieval,
            backend,
            batch_size=batch_size,
            show_progress=show_progress,
            name=spec.name,
        )
        self.encode_seconds = time.perf_counter() - t0
        self.cached = cache is not None and cache.hits > hits_before
        if not cache_queries:
            # live questions (the chatbot) would grow the cache without end and race on its temporary files
            self.retriever.cache = None
        self.training_minutes = training_minutes(self.model.path)

    def identity(self) -> dict:
        """What a card records of the arm's model."""
        return {"path": str(self.model.path), "fingerprint": self.model.fingerprint, "store": self.retriever.describe()}

    def _searcher(self, rows: np.ndarray, index: IndexConfig) -> tuple[Callable, Callable | None]:
        """(search(q_emb, k), a function making exact(q_emb, k), or None when the search is already exact) over one
        pool's rows; the exact search needs every embedding, which a complete database store never loads."""
        retriever = self.retriever
        whole = _is_whole(rows, len(retriever.doc_ids))
        if not self.retrieval.is_faiss:
            store = retriever.store if whole else self._pool_store(rows)
            return store.search, lambda: self._exact(rows)
        if whole and index.kind == "exact":
            found = retriever.index  # the retriever's own exact index: no copy of the embeddings
        else:
            found = build_index(retriever.doc_emb if whole else retriever.doc_emb[rows], index)
        exact = (lambda: self._exact(rows)) if index.kind != "exact" else None
        return (lambda q, k, found=found: search(found, q, k)), exact

    def _exact(self, rows: np.ndarray) -> Callable:
        exact = build_index(self.retriever.doc_emb[rows], IndexConfig("exact"))
        return lambda q, k: search(exact, q, k)

    def _pool_store(self, rows: np.ndarray):
        """A database store of one smaller pool, filled from the whole set's embeddings (never encoded again)."""
        from harness.stores import StoreKey

        retriever = self.retriever
        ids = [retriever.doc_ids[r] for r in rows]
        texts = [retriever.texts[r] for r in rows]
        row_of = {t: r for t, r in zip(texts, rows, strict=True)}
        key = StoreKey.for_model(retriever.model, ids, texts)
        return self.backend.store_for(key, ids, texts, lambda part: retriever.doc_emb[[row_of[t] for t in part]])

    def rank(
        self,
        texts: list[str],
        depth: int,
        pools_rows: list[np.ndarray],
        index: IndexConfig,
        timed: np.ndarray,
        progress: bool = True,
        ann_recall: bool = False,
    ) -> list[ArmRanking]:
        """`ann_recall`: also measure an approximate search's recall@10 against exact search (step 3 reports it)."""
        q_emb = self.retriever.encode_queries(texts, show_progress=progress and self.show_progress)
        n_docs = len(self.retriever.doc_ids)
        out = []
        for rows in pools_rows:
            searcher, exact = self._searcher(rows, index)
            scores, idx = searcher(q_emb, depth)
            measured = ann_recall and exact is not None
            ann = recall_vs_exact(idx, exact()(q_emb, 10)[1], 10) if measured else float("nan")

            def one_query(text, searcher=searcher):
                # what a RAG system pays per question: encode one query, no cache, then search
                searcher(self.model.encode([text], "query", batch_size=1), depth)

            out.append(
                ArmRanking(
                    self.spec.name,
                    DENSE,
                    scores,
                    _rows_ranked(idx, rows),
                    encode_seconds=self.encode_seconds,
                    docs_per_second=n_docs / self.encode_seconds
                    if not self.cached and self.encode_seconds > 0
                    else float("nan"),
                    cached=self.cached,
                    latency_ms=time_queries(one_query, texts, timed),
                    ann_recall=ann,
                    training_minutes=self.training_minutes,
                )
            )
        return out


class BM25Ranker:
    """The lexical arm: one BM25 index per pool, kept for later queries on the same pool."""

    def __init__(self, spec: ArmSpec, docs: dict[str, Document]):
        self.spec = spec
        self.docs = docs
        self.doc_ids = list(docs)
        self._indexes: dict[bytes, tuple[object, float]] = {}

    def _index(self, rows: np.ndarray):
        from harness.bm25 import BM25Arm

        key = np.asarray(rows, dtype=np.int64).tobytes()
        if key not in self._indexes:
            t0 = time.perf_counter()
            arm = BM25Arm({self.doc_ids[r]: self.docs[self.doc_ids[r]] for r in rows})
            self._indexes[key] = (arm, time.perf_counter() - t0)
        return self._indexes[key]

    def rank(
        self,
        texts: list[str],
        depth: int,
        pools_rows: list[np.ndarray],
        index: IndexConfig,
        timed: np.ndarray,
        progress: bool = True,
        ann_recall: bool = False,
    ) -> list[ArmRanking]:
        out = []
        for rows in pools_rows:
            arm, index_s = self._index(rows)
            scores, idx = arm.search(texts, depth)
            out.append(
                ArmRanking(
                    self.spec.name,
                    BM25,
                    scores,
                    _rows_ranked(idx, rows),
                    encode_seconds=index_s,
                    docs_per_second=len(rows) / index_s if index_s > 0 else float("nan"),
                    latency_ms=time_queries(lambda t, arm=arm: arm.search([t], depth), texts, timed),
                )
            )
        return out


def first_stage_ranker(
    spec: ArmSpec,
    docs: dict[str, Document],
    cache,
    retrieval: RetrievalOptions,
    backend=None,
    batch_size: int = 64,
    show_progress: bool = True,
    cache_queries: bool = True,
):
    """The prepared ranker of a dense or BM25 arm."""
    if spec.kind == BM25:
        return BM25Ranker(spec, docs)
    return DenseRanker(spec, docs, cache, retrieval, backend, batch_size, show_progress, cache_queries)
