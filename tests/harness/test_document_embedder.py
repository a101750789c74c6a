"""The embed callable a store ingests with: a cached corpus is sliced, never encoded again."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.beir import document_text, load_dataset
from harness.document_embedder import document_embedder
from harness.embedding_cache import EmbeddingCache
from harness.encoding import encode
from harness.stores import StoreKey, open_store


def test_batches_of_a_cached_corpus_come_from_the_cache(tiny_dataset, minilm, tmp_path, monkeypatch):
    ds = load_dataset(tiny_dataset)
    doc_ids = list(ds.corpus)
    texts = [document_text(ds.corpus[d]) for d in doc_ids]
    with open_store("faiss") as backend:  # the FAISS backend embeds the whole corpus at once: the usual entry
        store = backend.store_for(
            StoreKey.for_model(minilm, doc_ids, texts),
            doc_ids,
            texts,
            document_embedder(minilm, texts, EmbeddingCache(tmp_path)),
        )
    full = encode(minilm, texts, "document")
    assert np.allclose(store.emb, full, atol=1e-6) and len(store) == len(texts)
    assert store.search(full[4], 1)[1][0, 0] == 4

    # the Embedder is frozen: patch its class for this test
    monkeypatch.setattr(type(minilm), "encode", lambda *a, **kw: pytest.fail("a cached corpus was encoded again"))
    embed = document_embedder(minilm, texts, EmbeddingCache(tmp_path), encoder="ray")  # Ray is never started
    assert np.array_equal(embed(texts[5:12]), store.emb[5:12])
    with pytest.raises(ValueError):
        document_embedder(minilm, texts, None, encoder="gpu")
