"""Where a dense arm's document embeddings live and who encodes them: one settings block for steps 0, 3, 4 and 5.

Kept free of heavy imports: the CLI reads these fields to build its flags before any model or database loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.options import check_options, option

ENCODERS = ("local", "ray")


@dataclass
class EncoderOptions:
    """Document encoding: this process or a Ray cluster."""

    encoder: str = option("local", help="who encodes the documents: this process or a Ray cluster", choices=ENCODERS)
    ray_address: str = option(
        "local", help="--encoder ray: 'local' starts Ray for this run, else an address such as ray://head:10001"
    )

    def __post_init__(self):
        check_options(self)

    def ray(self, batch_size: int = 64):
        """The Ray encoder's settings (harness.ray_encoding.RayConfig)."""
        from harness.ray_encoding import RayConfig

        return RayConfig(address=self.ray_address, batch_size=batch_size)


@dataclass
class RetrievalOptions:
    """Document store (FAISS or pgvector) and encoder."""

    store: str = option(
        "faiss",
        help="where document embeddings live: faiss (in memory), local (embedded PostgreSQL+pgvector under "
        "cache/postgres) or postgresql://user@host:port/db (password from RAGTUNE_PG_PASSWORD or PGPASSWORD)",
    )
    encoding: EncoderOptions = field(default_factory=EncoderOptions)
    hnsw_m: int = option(16, help="pgvector stores: HNSW links per node", min=2, max=100)
    ef_construction: int = option(64, help="pgvector stores: HNSW candidate list while building", min=4, max=1000)
    # one candidate-list setting for both HNSW engines; FAISS's earlier default kept so exact-vs-HNSW figures hold
    ef_search: int = option(
        128, help="HNSW candidate list per query (FAISS --index hnsw and pgvector stores)", min=1, max=1000
    )

    def __post_init__(self):
        check_options(self)
        if (
            self.store != "faiss"
            and self.store != "local"
            and not self.store.startswith(("postgresql://", "postgres://"))
        ):
            from corpus.errors import RagtuneError

            raise RagtuneError(
                f"--store must be faiss, local or a postgresql://user@host:port/db URL, not '{self.store}'"
            )

    @property
    def is_faiss(self) -> bool:
        return self.store == "faiss"

    def pgvector(self):
        """The database stores' settings (harness.stores.pgvector.PgvectorConfig)."""
        from harness.stores.pgvector import PgvectorConfig

        return PgvectorConfig(hnsw_m=self.hnsw_m, ef_construction=self.ef_construction, ef_search=self.ef_search)
