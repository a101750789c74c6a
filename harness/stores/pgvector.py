"""Document embeddings in a PostgreSQL table with a pgvector HNSW index (cosine), ingested once and reused.

One table per (model fingerprint, prompt, max_seq_length, corpus fingerprint, dimension), named from their digest,
so a changed corpus or model is a new table and never a stale one. Rows carry the caller's row index, document id,
text and embedding. Ingest copies batches with ``COPY … FORMAT BINARY``, each batch its own transaction, so an
interrupted ingest leaves a prefix of rows and the next run continues after it. A finished table — every row and
the HNSW index with the configured m / ef_construction — is marked by a row in ``ragtune_catalog``; a caller asks
``is_complete()`` before encoding anything. Only standard SQL and pgvector are used, so the same code runs on the
local server and on any managed PostgreSQL with the ``vector`` extension. Tables are created unqualified, so they land
in the first schema of the connection's search_path (on a shared server: a schema named after the user).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from corpus.errors import RagtuneError
from corpus.options import option
from harness.stores.connection import PgTarget
from harness.stores.interface import Embed, StoreInfo, StoreKey

CATALOG = "ragtune_catalog"
TABLE_PREFIX = "ragtune_emb_"


@dataclass(frozen=True)
class PgvectorConfig:
    hnsw_m: int = option(16, help="HNSW links per node (pgvector's m)", min=2, max=100)
    ef_construction: int = option(
        64, help="HNSW candidate list while building (pgvector's ef_construction)", min=4, max=1000
    )
    ef_search: int = option(
        100, help="HNSW candidate list per query (hnsw.ef_search); raised to k when k is larger", min=1, max=1000
    )
    batch_rows: int = option(
        2000,
        help="documents encoded and copied per transaction (an interrupted ingest resumes after the last one)",
        min=1,
        max=1_000_000,
    )
    maintenance_work_mem: str = option(
        "512MB", help="PostgreSQL maintenance_work_mem while building the index (an index larger than it builds slowly)"
    )


@dataclass(frozen=True)
class IngestReport:
    rows_before: int  # rows an earlier (interrupted) ingest had committed
    rows_added: int
    index_built: bool
    encode_seconds: float
    copy_seconds: float
    index_seconds: float


class PgvectorBackend:
    """One connection to one database; ``store_for`` finds or fills the table of a (model, corpus) pair."""

    def __init__(self, target: PgTarget, config: PgvectorConfig = PgvectorConfig()):
        self.target = target
        self.config = config
        self.conn = None

    def __enter__(self) -> PgvectorBackend:
        self.conn = self.target.connect(autocommit=True)
        _ensure_vector(self.conn, self.target)
        from pgvector.psycopg import register_vector

        register_vector(self.conn)
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {CATALOG} (table_name text PRIMARY KEY, model_fingerprint "
            "text, corpus_fingerprint text, dim int, n_rows bigint, hnsw_m int, ef_construction int, "
            "completed_at timestamptz)"
        )
        return self

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def store(self, key: StoreKey) -> PgvectorStore:
        if self.conn is None:
            raise RuntimeError("use the backend inside its with-block")
        return PgvectorStore(self.conn, key, self.config, self.target.redacted())

    def store_for(self, key: StoreKey, doc_ids: list[str], texts: list[str], embed: Embed) -> PgvectorStore:
        store = self.store(key)
        if not store.is_complete(len(doc_ids)):
            store.ingest(doc_ids, texts, embed)
        return store

    def describe(self) -> StoreInfo:
        return StoreInfo("pgvector", self.target.redacted(), _settings(self.config))


class PgvectorStore:
    def __init__(self, conn, key: StoreKey, config: PgvectorConfig, location: str = ""):
        self.conn = conn
        self.key = key
        self.config = config
        self.location = location
        self.table = TABLE_PREFIX + key.digest()
        self.index_name = f"{self.table}_hnsw_m{config.hnsw_m}_ef{config.ef_construction}"
        self._n: int | None = None

    # -- state ----------------------------------------------------------------------------------------------
    def rows_present(self) -> int:
        """Rows already stored: always a prefix 0..n-1 of the caller's documents (batches commit in order)."""
        self._create_table()
        row = self.conn.execute(f"SELECT coalesce(max(row_idx) + 1, 0) FROM {self.table}").fetchone()
        return int(row[0])

    def is_complete(self, n_docs: int) -> bool:
        row = self.conn.execute(
            f"SELECT n_rows, hnsw_m, ef_construction FROM {CATALOG} WHERE table_name = %s", (self.table,)
        ).fetchone()
        return row is not None and tuple(row) == (n_docs, self.config.hnsw_m, self.config.ef_construction)

    def __len__(self) -> int:
        if self._n is None:
            self._n = self.rows_present()
        return self._n

    def describe(self) -> StoreInfo:
        return StoreInfo("pgvector", self.location, f"table={self.table} rows={len(self)} {_settings(self.config)}")

    # -- ingest ---------------------------------------------------------------------------------------------
    def ingest(self, doc_ids: list[str], texts: list[str], embed: Embed) -> IngestReport:
        """Encode and copy the rows not yet stored, build the HNSW index, mark the table complete."""
        if len(doc_ids) != len(texts):
            raise ValueError("doc_ids and texts differ in length")
        self.conn.execute(f"DELETE FROM {CATALOG} WHERE table_name = %s", (self.table,))
        before = self.rows_present()
        if before > len(doc_ids):
            raise RagtuneError(f"table {self.table} holds {before} rows for a corpus of {len(doc_ids)}: drop it")
        t_encode = t_copy = 0.0
        for start in range(before, len(doc_ids), self.config.batch_rows):
            stop = min(start + self.config.batch_rows, len(doc_ids))
            t0 = time.perf_counter()
            emb = np.asarray(embed(texts[start:stop]), dtype=np.float32)
            if emb.shape != (stop - start, self.key.dim):
                raise ValueError(f"embed returned {emb.shape}, expected {(stop - start, self.key.dim)}")
            t1 = time.perf_counter()
            self._copy(start, doc_ids[start:stop], texts[start:stop], emb)
            t_encode, t_copy = t_encode + t1 - t0, t_copy + time.perf_counter() - t1
        t0 = time.perf_counter()
        built = self._build_index()
        t_index = time.perf_counter() - t0
        self.conn.execute(
            f"INSERT INTO {CATALOG} VALUES (%s, %s, %s, %s, %s, %s, %s, now())",
            (
                self.table,
                self.key.model_fingerprint,
                self.key.corpus_fingerprint,
                self.key.dim,
                len(doc_ids),
                self.config.hnsw_m,
                self.config.ef_construction,
            ),
        )
        self._n = len(doc_ids)
        return IngestReport(before, len(doc_ids) - before, built, t_encode, t_copy, t_index)

    def _create_table(self) -> None:
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (row_idx int PRIMARY KEY, doc_id text NOT NULL, "
            f"text text NOT NULL, embedding vector({self.key.dim}) NOT NULL)"
        )

    def _copy(self, start: int, doc_ids: list[str], texts: list[str], emb: np.ndarray) -> None:
        sql = f"COPY {self.table} (row_idx, doc_id, text, embedding) FROM STDIN WITH (FORMAT BINARY)"
        with self.conn.transaction(), self.conn.cursor() as cur, cur.copy(sql) as cp:
            cp.set_types(["int4", "text", "text", "vector"])
            for i, (doc_id, text) in enumerate(zip(doc_ids, texts)):
                # NUL cannot be stored in a PostgreSQL text; the embedding was made from the original text
                cp.write_row((start + i, doc_id, text.replace("\x00", ""), emb[i]))

    def _build_index(self) -> bool:
        """Build the configured HNSW index unless it exists; drop one built with other settings."""
        existing = [
            r[0]
            for r in self.conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
                "AND indexname LIKE %s",
                (self.table, f"{self.table}_hnsw_%"),
            )
        ]
        for name in existing:
            if name != self.index_name:
                self.conn.execute(f"DROP INDEX IF EXISTS {name}")
        if self.index_name in existing:
            return False
        with self.conn.transaction():
            self.conn.execute(f"SET LOCAL maintenance_work_mem = '{self.config.maintenance_work_mem}'")
            self.conn.execute(
                f"CREATE INDEX {self.index_name} ON {self.table} "
                f"USING hnsw (embedding vector_cosine_ops) "
                f"WITH (m = {self.config.hnsw_m}, ef_construction = {self.config.ef_construction})"
            )
        return True

    # -- search ---------------------------------------------------------------------------------------------
    def search(self, query_emb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(cosine scores, row indices) like harness.ann.search; -1 and -inf fill slots the index left empty."""
        q = np.ascontiguousarray(np.atleast_2d(query_emb), dtype=np.float32)
        k = min(k, len(self))
        scores = np.full((len(q), k), -np.inf, dtype=np.float32)
        rows = np.full((len(q), k), -1, dtype=np.int64)
        if k == 0:
            return scores, rows
        sql = f"SELECT row_idx, 1 - (embedding <=> %(q)s) FROM {self.table} ORDER BY embedding <=> %(q)s LIMIT {int(k)}"
        with self.conn.transaction(), self.conn.cursor() as cur:
            # ef_search below k would cap the result list at ef_search rows (pgvector allows at most 1000)
            cur.execute(f"SET LOCAL hnsw.ef_search = {min(max(self.config.ef_search, k), 1000)}")
            for i, vec in enumerate(q):
                found = cur.execute(sql, {"q": vec}).fetchall()
                if found:
                    rows[i, : len(found)] = [r[0] for r in found]
                    scores[i, : len(found)] = [r[1] for r in found]
        return scores, rows


def _ensure_vector(conn, target: PgTarget) -> None:
    import psycopg

    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as exc:
        raise RagtuneError(
            f"{target.redacted()} has no pgvector extension and it could not be created "
            f"({str(exc).strip().splitlines()[0]}): ask its administrator for CREATE EXTENSION vector"
        ) from None


def _settings(cfg: PgvectorConfig) -> str:
    return f"hnsw m={cfg.hnsw_m} ef_construction={cfg.ef_construction} ef_search={cfg.ef_search}"
