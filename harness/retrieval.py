"""Dense retrieval over a document set: inner product on normalised embeddings (cosine), in a FAISS index in memory
or in a database store (harness.stores) chosen by RetrievalOptions.

A dense arm of harness.arm_engine (harness.first_stage) searches through it, for every step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from corpus.beir import Document, document_text
from harness.embedding_cache import EmbeddingCache
from harness.encoding import encode
from harness.retrieval_options import RetrievalOptions


@dataclass(frozen=True)
class Hit:
    doc_id: str
    score: float
    rank: int  # 1-based


@contextlib.contextmanager
def retrieval_backend(options: RetrievalOptions | None = None) -> Iterator[object | None]:
    """The open store backend for ``options.store`` (None for FAISS: each Retriever keeps its own exact index).

    Keep the block open while any Retriever built on it is used (a local server stops when it ends)."""
    options = options or RetrievalOptions()
    if options.is_faiss:
        yield None
        return
    from harness.stores import open_store

    with open_store(options.store, pgvector=options.pgvector()) as backend:
        yield backend


class Retriever:
    """Finds or fills the documents' store once (through the embedding cache) and answers top-k queries.

    Without a backend the store is an exact FAISS index over embeddings from the cache or the encoder; with a
    database backend a complete table is reused and the encoder is called only for rows it lacks."""

    def __init__(
        self,
        model,
        docs: dict[str, Document],
        cache: EmbeddingCache | None = None,
        batch_size: int = 64,
        show_progress: bool = False,
        name: str = "",
        options: RetrievalOptions | None = None,
        backend=None,
    ):
        from harness.document_embedder import document_embedder

        self.model = model
        self.name = name
        self.docs = docs
        self.doc_ids = list(docs)
        self.cache = cache
        self.batch_size = batch_size
        self.options = options or RetrievalOptions()
        self.texts = [document_text(docs[d]) for d in self.doc_ids]
        self._embed = document_embedder(
            model,
            self.texts,
            cache,
            self.options.encoding.encoder,
            batch_size,
            ray=self.options.encoding.ray(batch_size),
            show_progress=show_progress,
        )
        self._doc_emb: np.ndarray | None = None
        self.store = self._open(backend)

    def _open(self, backend):
        from harness.ann import IndexConfig
        from harness.stores import StoreKey
        from harness.stores.memory import FaissStore

        if backend is None:
            return FaissStore(self.doc_emb, IndexConfig("exact"))
        key = StoreKey.for_model(self.model, self.doc_ids, self.texts)
        with self._ray_session():
            return backend.store_for(key, self.doc_ids, self.texts, self._embed)

    def _ray_session(self):
        if self.options.encoding.encoder != "ray":
            return contextlib.nullcontext()
        from harness.ray_encoding import RaySession

        # one Ray session serves every batch of a batch-wise ingest
        return RaySession(self.options.encoding.ray_address)

    @property
    def doc_emb(self) -> np.ndarray:
        """Every document's embedding (from the cache when present); a database store does not need them."""
        if self._doc_emb is None:
            self._doc_emb = self._embed(self.texts)
        return self._doc_emb

    @property
    def index(self):
        """The FAISS index of a FAISS store (None for a database store)."""
        return getattr(self.store, "index", None)

    def describe(self) -> str:
        return str(self.store.describe())

    def encode_queries(self, queries: list[str], show_progress: bool = False) -> np.ndarray:
        return encode(self.model, queries, "query", self.cache, self.batch_size, show_progress=show_progress)

    def search_embeddings(self, q_emb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, indices) of shape (n_queries, k'), k' = min(k, number of documents); -1 marks an empty slot."""
        k = min(k, len(self.doc_ids))
        return self.store.search(np.ascontiguousarray(q_emb, dtype=np.float32), k)

    def search(self, queries: list[str], k: int) -> list[list[Hit]]:
        scores, idx = self.search_embeddings(self.encode_queries(queries), k)
        return [
            [Hit(self.doc_ids[j], float(s), r + 1) for r, (s, j) in enumerate(zip(srow, irow, strict=False)) if j >= 0]
            for srow, irow in zip(scores, idx, strict=False)
        ]


def dense_retriever(
    model, docs: dict[str, Document], cache: EmbeddingCache | None, options: RetrievalOptions, backend=None, **kwargs
) -> Retriever:
    """A dense arm's retriever under RetrievalOptions; ``backend`` from ``retrieval_backend(options)`` (None: FAISS).

    Every step builds its dense arms through this inside one ``with retrieval_backend(options) as backend:`` block."""
    return Retriever(model, docs, cache, options=options, backend=backend, **kwargs)
