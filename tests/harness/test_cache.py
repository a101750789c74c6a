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


@pytest.mark.slow
def test_an_overlapping_list_encodes_only_its_new_texts(tiny_dataset, minilm, counted, tmp_path):
    import numpy as np

    from harness.encoding import encode

    texts = [d.text for d in load_dataset(tiny_dataset).corpus.values()]
    dev, test = texts[:14], texts[6:]  # a dev pool and a test pool sharing 8 documents, as a convex fit and step 3
    fresh = encode(minilm, test, "document")  # no cache: what the test pool's rows must be
    cache = EmbeddingCache(tmp_path)
    encode(minilm, dev, "document", cache)
    counted.clear()
    got = encode(minilm, test, "document", cache)
    assert sum(counted) == len(test) - 8
    assert np.allclose(got, fresh, atol=1e-6)  # an embedding depends only on its text (to float32 rounding)
    assert (cache.misses, cache.reused_rows) == (2, 8)

    # a list every row of which is stored is a hit, and a repeated text takes the same row
    counted.clear()
    both = encode(minilm, [texts[3], texts[10], texts[3]], "document", cache)
    assert counted == [] and cache.hits == 1 and np.array_equal(both[0], both[2])

    # rows never cross models, and recompute encodes everything
    counted.clear()
    encode(dataclasses.replace(minilm, fingerprint="another-model"), test, "document", EmbeddingCache(tmp_path))
    assert sum(counted) == len(test)
    counted.clear()
    encode(minilm, texts[2:9], "document", EmbeddingCache(tmp_path, policy="recompute"))
    assert sum(counted) == 7


def test_rows_of_a_missing_or_damaged_entry_are_not_taken(tmp_path):
    import numpy as np

    from harness.embedding_cache import text_digests

    cache = EmbeddingCache(tmp_path)
    group = cache.group("model", "", 256)
    texts = ["alpha", "beta", "gamma"]
    for key, fill in (("whole", 1.0), ("damaged", 2.0), ("gone", 3.0)):
        cache.put(key, np.full((3, 4), fill, dtype=np.float32), group, text_digests(texts))
    cache.path("damaged").write_bytes(b"\x93NUMPY not really")
    cache.path("gone").unlink()
    rows, found = cache.stored_rows(group, text_digests(["gamma", "delta", "alpha"]), 4)
    assert found.tolist() == [True, False, True] and (rows[[0, 2]] == 1.0).all() and (rows[1] == 0).all()
    cache.path("whole").unlink()  # only the damaged one is left: nothing is found, nothing is raised
    rows, found = cache.stored_rows(group, text_digests(texts), 4)
    assert not found.any()
    # another group (model, prompt or length) shares no rows
    assert not cache.stored_rows(cache.group("model", "", 512), text_digests(texts), 4)[1].any()
