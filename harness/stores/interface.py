"""The store interface: what a store and a backend answer, and the key that names one corpus under one model
(split from the factory in ``harness.stores`` so the engines import it without importing the factory)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from corpus.models import Embedder

# texts -> unit-length float32 rows, in input order (harness.encoding.encode or harness.ray_encoding.encode_with_ray)
Embed = Callable[[list[str]], np.ndarray]
STORE_KINDS = ("faiss", "local", "postgresql://…")


@dataclass(frozen=True)
class StoreInfo:
    """What a report card says about a store; never holds a password."""

    kind: str
    location: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.location} {self.detail}".strip()


@dataclass(frozen=True)
class StoreKey:
    """Everything that decides a document's embedding, plus the corpus (ids and texts in order)."""

    model_fingerprint: str
    corpus_fingerprint: str
    dim: int
    prompt: str = ""
    max_seq_length: int | None = None

    @classmethod
    def for_model(cls, model: Embedder, doc_ids: list[str], texts: list[str]) -> StoreKey:
        return cls(
            model.fingerprint,
            corpus_fingerprint(doc_ids, texts),
            int(model.dim),
            model.document_prompt,
            model.max_seq_length,
        )

    def digest(self) -> str:
        raw = f"{self.model_fingerprint}|{self.corpus_fingerprint}|{self.dim}|{self.prompt}|{self.max_seq_length}"
        return hashlib.sha256(raw.encode()).hexdigest()[:24]


def corpus_fingerprint(doc_ids: list[str], texts: list[str]) -> str:
    """Content hash of ids and texts in order: a changed, added, removed or reordered document is a new corpus."""
    if len(doc_ids) != len(texts):
        raise ValueError("doc_ids and texts differ in length")
    h = hashlib.sha256()
    for doc_id, text in zip(doc_ids, texts):
        h.update(doc_id.encode("utf-8"))
        h.update(b"\x00")
        h.update(text.encode("utf-8"))
        h.update(b"\x01")
    return h.hexdigest()[:16]


class Store(Protocol):
    def search(self, query_emb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row indices into the caller's doc_ids) of shape (n_queries, min(k, len)); -1 marks an empty slot."""

    def __len__(self) -> int: ...

    def describe(self) -> StoreInfo: ...


class StoreBackend(Protocol):
    def store_for(self, key: StoreKey, doc_ids: list[str], texts: list[str], embed: Embed) -> Store:
        """The store holding this corpus under this model; ``embed`` is called only for rows it lacks."""

    def describe(self) -> StoreInfo: ...
