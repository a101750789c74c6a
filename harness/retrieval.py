"""Dense retrieval over a document set: exact inner product on normalised embeddings (cosine) with FAISS.

Shared by evaluation (script 3), the RAG comparison (script 4) and the chatbot (script 5), so the three
never disagree on what a model retrieves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus.beir import Document, document_text
from harness.embedding_cache import EmbeddingCache
from harness.encoding import encode


@dataclass(frozen=True)
class Hit:
    doc_id: str
    score: float
    rank: int  # 1-based


class Retriever:
    """Encodes the documents once (through the cache) and answers top-k queries."""

    def __init__(
        self,
        model,
        docs: dict[str, Document],
        cache: EmbeddingCache | None = None,
        batch_size: int = 64,
        show_progress: bool = False,
        name: str = "",
    ):
        import faiss

        self.model = model
        self.name = name
        self.docs = docs
        self.doc_ids = list(docs)
        self.cache = cache
        self.batch_size = batch_size
        self.doc_emb = encode(
            model,
            [document_text(docs[d]) for d in self.doc_ids],
            "document",
            cache,
            batch_size,
            show_progress=show_progress,
            label=f"encoding documents {name}".strip(),
        )
        self.index = faiss.IndexFlatIP(self.doc_emb.shape[1])
        self.index.add(self.doc_emb)

    def encode_queries(self, queries: list[str], show_progress: bool = False) -> np.ndarray:
        return encode(self.model, queries, "query", self.cache, self.batch_size, show_progress=show_progress)

    def search_embeddings(self, q_emb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, indices) of shape (n_queries, k'), k' = min(k, number of documents)."""
        k = min(k, len(self.doc_ids))
        return self.index.search(np.ascontiguousarray(q_emb, dtype=np.float32), k)

    def search(self, queries: list[str], k: int) -> list[list[Hit]]:
        scores, idx = self.search_embeddings(self.encode_queries(queries), k)
        return [
            [Hit(self.doc_ids[j], float(s), r + 1) for r, (s, j) in enumerate(zip(srow, irow, strict=False)) if j >= 0]
            for srow, irow in zip(scores, idx, strict=False)
        ]
