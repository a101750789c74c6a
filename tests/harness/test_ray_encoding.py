"""Ray encoding equals the local encode and shares its cache entry, both ways."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.beir import document_text, load_dataset
from harness.embedding_cache import EmbeddingCache
from harness.encoding import cache_key, encode
from harness.ray_encoding import RayConfig, encode_with_ray


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ray_encode_matches_local_and_shares_the_cache(tiny_dataset, minilm, tmp_path, monkeypatch):
    ds = load_dataset(tiny_dataset)
    texts = [document_text(d) for d in ds.corpus.values()]
    local = encode(minilm, texts, "document")
    cache = EmbeddingCache(tmp_path)
    # 8 texts per block: several blocks, so out-of-order arrival must be put back in order
    remote = encode_with_ray(minilm, texts, "document", cache, RayConfig(actors=1, rows_per_block=8))
    assert remote.shape == local.shape and remote.dtype == np.float32
    assert np.abs((remote * local).sum(axis=1) - 1).max() < 1e-5  # cosine to the local row
    assert np.allclose(np.linalg.norm(remote, axis=1), 1, atol=1e-5)
    assert cache.path(cache_key(minilm, texts, "document")).exists()

    # the local path now hits the entry Ray wrote: no model call at all
    monkeypatch.setattr(minilm.model, "encode", lambda *a, **kw: pytest.fail("local encode ran despite Ray's entry"))
    assert (encode(minilm, texts, "document", EmbeddingCache(tmp_path)) == remote).all()
    # and Ray hits an entry the local path wrote (queries here), without starting Ray
    monkeypatch.undo()
    queries = list(ds.queries.values())[:5]
    stored = encode(minilm, queries, "query", EmbeddingCache(tmp_path))
    monkeypatch.setattr(
        "harness.ray_encoding.RaySession.__enter__", lambda self: pytest.fail("Ray started despite a cached entry")
    )
    assert (encode_with_ray(minilm, queries, "query", EmbeddingCache(tmp_path)) == stored).all()
