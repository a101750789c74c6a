"""The one place that turns ``--encoder local|ray`` into the ``embed(texts)`` callable a store ingests with.

A store asks for embeddings batch by batch (pgvector) or all at once (FAISS). When the embedding cache already
holds the whole corpus under this model, every batch is sliced from that entry, so a corpus encoded once — locally
or on Ray — is never encoded again for a database store. An embedding depends only on its text (and the model,
prompt and max_seq_length, fixed here), which is why a batch can be looked up by text.
"""

from __future__ import annotations

from harness.embedding_cache import EmbeddingCache
from harness.encoding import cache_key, encode
from harness.ray_encoding import RayConfig, encode_with_ray
from harness.stores import Embed

ENCODERS = ("local", "ray")


def document_embedder(
    model,
    corpus_texts: list[str],
    cache: EmbeddingCache | None = None,
    encoder: str = "local",
    batch_size: int = 64,
    ray: RayConfig | None = None,
    show_progress: bool = False,
) -> Embed:
    """``embed(texts) -> unit-length float32 rows`` for any slice of ``corpus_texts``.

    For Ray and a batch-wise store, wrap the ingest in ``with RaySession(address):`` so one Ray serves every batch.
    """
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}")
    key = cache_key(model, corpus_texts, "document")
    full = cache.get(key, len(corpus_texts), count_miss=False) if cache is not None else None
    if full is not None:
        row = {t: i for i, t in enumerate(corpus_texts)}
        return lambda texts: full[[row[t] for t in texts]]
    if encoder == "ray":
        config = ray or RayConfig(batch_size=batch_size)
        return lambda texts: encode_with_ray(model, texts, "document", cache, config)
    return lambda texts: encode(model, texts, "document", cache, batch_size, show_progress=show_progress)
