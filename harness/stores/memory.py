"""The default store: a FAISS index in this process's memory, built from embeddings at every start."""

from __future__ import annotations

import numpy as np

from harness.ann import IndexConfig, build_index, search
from harness.stores.interface import Embed, StoreInfo, StoreKey


class FaissStore:
    def __init__(self, emb: np.ndarray, config: IndexConfig | None = None):
        self.config = config or IndexConfig()
        self.emb = np.ascontiguousarray(emb, dtype=np.float32)
        self.index = build_index(self.emb, self.config)

    def search(self, query_emb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return search(self.index, np.atleast_2d(query_emb), k)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def describe(self) -> StoreInfo:
        return StoreInfo("faiss", "memory", f"index={self.config.kind} rows={len(self)}")


class FaissBackend:
    def __init__(self, config: IndexConfig | None = None):
        self.config = config or IndexConfig()

    def store_for(self, key: StoreKey, doc_ids: list[str], texts: list[str], embed: Embed) -> FaissStore:
        # every start encodes (or loads from the embedding cache): nothing outlives the process
        return FaissStore(embed(texts), self.config)

    def describe(self) -> StoreInfo:
        return StoreInfo("faiss", "memory", f"index={self.config.kind}")
