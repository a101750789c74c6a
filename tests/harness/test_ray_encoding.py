"""Ray encoding, through step 3's ``--encoder ray``: the same embeddings and rankings as the local encode, and one
cache entry shared both ways.

One test, one Ray start and one actor pool for the whole suite: on 2 cores starting Ray costs ~5 s and every
``map_batches`` call ~15 s more (each actor imports torch and loads the model), so every Ray property is checked on
the single encode step 3 does.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from corpus.beir import document_text, load_dataset
from harness.embedding_cache import EmbeddingCache
from harness.encoding import cache_key, encode
from harness.ray_encoding import encode_with_ray


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_step3_encodes_on_ray_as_the_local_encoder_does_and_shares_the_cache(
    tiny_dataset, minilm, isolated_cache, tmp_path, monkeypatch
):
    from harness.retrieval_options import EncoderOptions, RetrievalOptions
    from ragtune.steps.eval import EvalConfig, run

    configs = []
    real_ray_config = EncoderOptions.ray

    def small_blocks(self, batch_size=64):
        # 8 texts per block: several blocks, so out-of-order arrival must be put back in order
        configs.append(dataclasses.replace(real_ray_config(self, batch_size), rows_per_block=8))
        return configs[-1]

    monkeypatch.setattr(EncoderOptions, "ray", small_blocks)
    result = run(
        EvalConfig(
            data=str(tiny_dataset),
            sizes=[12, 20],  # the smaller pool is sliced from the union's embeddings
            no_external=True,
            arms=["base=base"],
            bootstrap=200,
            latency_queries=2,
            out=str(tmp_path / "r"),
            retrieval=RetrievalOptions(encoding=EncoderOptions("ray")),
        )
    )
    ev = result.evaluation
    assert configs and ev.cache["misses"] > 0  # step 3 asked for the Ray encoder, and something was encoded

    corpus = load_dataset(tiny_dataset).corpus
    texts = [document_text(corpus[d]) for d in ev.doc_ids]
    cache = EmbeddingCache(isolated_cache)
    remote = cache.get(cache_key(minilm, texts, "document"), len(texts))  # the entry Ray wrote for step 3
    local = encode(minilm, texts, "document")
    assert remote is not None and remote.shape == local.shape and remote.dtype == np.float32
    assert np.abs((remote * local).sum(axis=1) - 1).max() < 1e-5  # cosine to the local row
    assert np.allclose(np.linalg.norm(remote, axis=1), 1, atol=1e-5)
    _ranks_as_the_local_embeddings_do(ev, local, encode(minilm, ev.query_texts, "query"))

    # the local path hits the entry Ray wrote: no model call at all
    with monkeypatch.context() as m:
        m.setattr(minilm.model, "encode", lambda *a, **kw: pytest.fail("local encode ran despite Ray's entry"))
        assert (encode(minilm, texts, "document", EmbeddingCache(isolated_cache)) == remote).all()
    # and Ray hits an entry the local path wrote (step 3's queries), without starting Ray
    stored = cache.get(cache_key(minilm, ev.query_texts, "query"), len(ev.query_texts))
    assert stored is not None
    monkeypatch.setattr(
        "harness.ray_encoding.RaySession.__enter__", lambda self: pytest.fail("Ray started despite a cached entry")
    )
    assert (encode_with_ray(minilm, ev.query_texts, "query", EmbeddingCache(isolated_cache)) == stored).all()


def _ranks_as_the_local_embeddings_do(ev, doc_emb, q_emb, k=10):
    """Every pool's top-k is exact search over the locally encoded documents of that pool."""
    for pool in ev.pools:
        rows = np.array([ev.doc_ids.index(d) for d in pool.pool.doc_ids])
        scores = q_emb @ doc_emb[rows].T
        expected = rows[np.argsort(-scores, axis=1, kind="stable")[:, :k]]
        np.testing.assert_array_equal(pool.arms[0].ranked[:, :k], expected)
