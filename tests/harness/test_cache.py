"""The embedding cache: a warm run never calls model.encode; a new model or --recompute does."""

from __future__ import annotations

import dataclasses

import pytest

from corpus.beir import load_dataset
from harness.embedding_cache import EmbeddingCache
from harness.retrieval import Retriever


@pytest.fixture()
def counted(minilm, monkeypatch):
    calls = []
    real = minilm.model.encode

    def encode(texts, *a, **kw):
        calls.append(len(texts))
        return real(texts, *a, **kw)

    monkeypatch.setattr(minilm.model, "encode", encode)
    return calls


@pytest.mark.slow
def test_cache_hits_avoid_reencoding(tiny_dataset, minilm, counted, tmp_path, monkeypatch):
    ds = load_dataset(tiny_dataset)
    queries = list(ds.queries.values())[:15]
    cache = EmbeddingCache(tmp_path)
    first = Retriever(minilm, ds.corpus, cache=cache)
    q1 = first.encode_queries(queries)
    assert sum(counted) == len(ds.corpus) + len(queries)

    counted.clear()
    second = Retriever(minilm, ds.corpus, cache=EmbeddingCache(tmp_path))
    q2 = second.encode_queries(queries)
    assert counted == []  # nothing encoded (hence nothing tokenised) on the warm path
    assert (second.doc_emb == first.doc_emb).all() and (q1 == q2).all()
    assert [h.doc_id for h in second.search(queries[:1], 3)[0]] == [h.doc_id for h in first.search(queries[:1], 3)[0]]

    # another model (another content fingerprint) encodes its own documents
    counted.clear()
    Retriever(dataclasses.replace(minilm, fingerprint="another-model"), ds.corpus, cache=EmbeddingCache(tmp_path))
    assert sum(counted) == len(ds.corpus)

    counted.clear()
    Retriever(minilm, ds.corpus, cache=EmbeddingCache(tmp_path, policy="recompute"))
    assert sum(counted) == len(ds.corpus)


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "wrong_shape"])
def test_corrupt_entry_is_a_warning_and_a_recompute(tmp_path, capsys, damage):
    import numpy as np

    cache = EmbeddingCache(tmp_path)
    key = cache.key("model", "texts", "query")
    cache.put(key, np.ones((4, 3), dtype=np.float32))
    raw = cache.path(key).read_bytes()
    damaged = {"truncated": raw[:40], "empty": b"", "garbage": b"\x93NUMPY not really", "wrong_shape": None}[damage]
    if damaged is None:
        np.save(cache.path(key), np.ones(4, dtype=np.float32))  # a readable array of another shape
    else:
        cache.path(key).write_bytes(damaged)
    assert cache.get(key, 4) is None and cache.misses == 1 and cache.hits == 0
    if damage != "wrong_shape":
        assert "unreadable cache entry" in capsys.readouterr().out
    cache.put(key, np.full((4, 3), 2, dtype=np.float32))  # the recompute replaces the entry
    assert (cache.get(key, 4) == 2).all() and cache.hits == 1
