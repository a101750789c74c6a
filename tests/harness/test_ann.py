"""Approximate indexes: recall against exact search is measured, and high on clustered data."""

from __future__ import annotations

import numpy as np

from harness.ann import IndexConfig, build_index, recall_vs_exact, search


def clustered(rng, n, dim=32, centres=40):
    c = rng.normal(size=(centres, dim))
    x = c[rng.integers(0, centres, n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_exact_search_is_the_inner_product_order():
    rng = np.random.default_rng(0)
    docs, queries = clustered(rng, 500), clustered(rng, 20)
    scores, idx = search(build_index(docs), queries, 10)
    expected = np.argsort(-(queries @ docs.T), axis=1)[:, :10]
    assert (idx == expected).mean() > 0.99  # float ties aside, the same order
    assert recall_vs_exact(idx, expected, 10) > 0.99


def test_approximate_indexes_report_their_recall():
    rng = np.random.default_rng(1)
    docs, queries = clustered(rng, 4000), clustered(rng, 100)
    _, exact = search(build_index(docs), queries, 10)
    for cfg in (IndexConfig("ivf", nprobe=8), IndexConfig("hnsw")):
        _, approx = search(build_index(docs, cfg), queries, 10)
        r = recall_vs_exact(approx, exact, 10)
        assert 0.8 < r <= 1.0, (cfg.kind, r)
    # a useless "index" scores near zero: the measure can fail
    assert recall_vs_exact(np.full_like(exact, -1), exact, 10) == 0.0


def test_k_beyond_the_pool_is_capped():
    docs = clustered(np.random.default_rng(2), 5)
    scores, idx = search(build_index(docs), docs, 100)
    assert idx.shape == (5, 5) and (idx[:, 0] == np.arange(5)).all()
