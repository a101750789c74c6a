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
