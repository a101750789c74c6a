"""The lexical baseline arm: BM25 (bm25s, Lucene scoring) over the same document texts the models see.

Documents sharing no term with a query score 0; they are not retrieved (slot -1) rather than ranked in
an arbitrary tie order, so BM25's deep metrics are not inflated by luck.
"""

from __future__ import annotations

import numpy as np

from corpus.beir import Document, document_text


class BM25Arm:
    def __init__(self, docs: dict[str, Document]):
        import bm25s

        self._bm25s = bm25s
        self.doc_ids = list(docs)
        self.retriever = bm25s.BM25()
        if self.doc_ids:
            tokens = bm25s.tokenize([document_text(docs[d]) for d in self.doc_ids], stopwords="en", show_progress=False)
            self.retriever.index(tokens, show_progress=False)

    def search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row indices into doc_ids) of shape (n_queries, min(k, n_docs)), -1 where nothing matched."""
        k = min(k, len(self.doc_ids))
        if k == 0 or not queries:
            return np.zeros((len(queries), k), dtype=np.float32), np.full((len(queries), k), -1, dtype=np.int64)
        tokens = self._bm25s.tokenize(queries, stopwords="en", show_progress=False)
        idx, scores = self.retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        idx = np.asarray(idx, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float32)
        idx[scores <= 0] = -1
        return scores, idx
