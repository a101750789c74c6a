"""Encoding queries and documents with the model's stored prompts, normalised, through the embedding cache."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from corpus.models import Embedder
from corpus.progress import track
from harness.embedding_cache import EmbeddingCache, text_digests, texts_fingerprint

KINDS = ("query", "document")
# texts per encode() call: large enough to keep the model busy, small enough for a live progress bar
CHUNK = 512


def cache_key(model: Embedder, texts: list[str], kind: str) -> str:
    """The embedding-cache entry of these texts under this model: every encoder (local, Ray) reads and writes it.
    The same key as before the Embedder wrapper, so caches written then still hit."""
    return EmbeddingCache.key(model.fingerprint, texts_fingerprint(texts), model.prompt(kind), model.max_seq_length)


def row_group(model: Embedder, kind: str) -> str:
    """The cache entries whose rows this model's encode of `kind` texts can take (harness.embedding_cache)."""
    return EmbeddingCache.group(model.fingerprint, model.prompt(kind), model.max_seq_length)


def encode(
    model: Embedder,
    texts: list[str],
    kind: str,
    cache: EmbeddingCache | None = None,
    batch_size: int = 64,
    show_progress: bool = False,
    label: str | None = None,
) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text, in input order."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    dim = model.dim
    out = np.zeros((len(texts), dim), dtype=np.float32)
    todo = np.ones(len(texts), dtype=bool)
    if cache is not None:
        key, group, digests = cache_key(model, texts, kind), row_group(model, kind), text_digests(texts)
        hit = cache.get(key, len(texts), count_miss=False)
        if hit is not None:
            return hit
        out, found = cache.stored_rows(group, digests, dim)
        todo = ~found
        # a list whose every row is stored is served without encoding: a hit, as for a whole entry
        if todo.any() or not len(texts):
            cache.misses += 1
        else:
            cache.hits += 1
    # longest first over the whole list, so every batch pads to similar lengths and the first batch shows
    # the worst-case memory at once
    order = sorted(np.flatnonzero(todo).tolist(), key=lambda i: -len(texts[i]))
    label = label or ("encoding queries" if kind == "query" else "encoding documents")
    tracking = track(len(order), label) if show_progress and len(order) > CHUNK else nullcontext()
    with tracking as tracker:
        for start in range(0, len(order), CHUNK):
            idx = order[start : start + CHUNK]
            out[idx] = model.encode([texts[i] for i in idx], kind, batch_size)
            if tracker is not None:
                tracker.advance(len(idx))
    if cache is not None:
        cache.put(key, out, group, digests)
    return out
