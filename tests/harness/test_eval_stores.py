"""Step 3 with a database store and with the Ray encoder: the same per-query results as exact FAISS, and a second
run that finds the store complete encodes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from ragtune.steps.eval import EvalStepConfig, run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


SIZES = (12, 20)  # a smaller pool gets its own table, filled from the union's embeddings


def _eval(tiny_dataset, out, encoder="local", **retrieval):
    from harness.retrieval_options import EncoderOptions, RetrievalOptions

    cfg = EvalStepConfig(
        data=str(tiny_dataset),
        sizes=list(SIZES),
        no_external=True,
        arms=["base=base"],
        bootstrap=200,
        latency_queries=2,
        out=str(out),
        retrieval=RetrievalOptions(**retrieval, encoding=EncoderOptions(encoder)),
    )
    return run(cfg)


def _arm(result):
    """The arm's run on the largest pool (the union: the table the chatbot would open)."""
    return result.evaluation.pools[-1].arms[0]


def _same_as_exact(result, exact):
    for pool, pool_exact in zip(result.evaluation.pools, exact.evaluation.pools, strict=True):
        assert pool.pool.doc_ids == pool_exact.pool.doc_ids
        _same_rankings_up_to_recall(pool.arms[0], pool_exact.arms[0])


@pytest.fixture(scope="module")
def cache_dirs(tmp_path_factory):
    """One embedding cache and one embedded-PostgreSQL folder for the module (the server's start is the cost)."""
    import corpus.paths

    root = tmp_path_factory.mktemp("store_cache")
    mp = pytest.MonkeyPatch()
    mp.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", root / "emb")
    mp.setattr(corpus.paths, "CACHE_DIR", root)
    yield root
    mp.undo()


@pytest.fixture(scope="module")
def exact_run(tiny_dataset, cache_dirs, tmp_path_factory):
    return _eval(tiny_dataset, tmp_path_factory.mktemp("exact"))


def _same_rankings_up_to_recall(store_arm, exact_arm, k=10):
    """Top-k of the store agrees with exact search as far as the run's own measured recall@k says."""
    a, b = store_arm.ranked[:, :k], exact_arm.ranked[:, :k]
    overlap = np.mean([len(set(x[x >= 0]) & set(y[y >= 0])) / max(1, len(set(y[y >= 0]))) for x, y in zip(a, b)])
    assert store_arm.ann_recall == pytest.approx(overlap)
    if store_arm.ann_recall == 1.0:
        np.testing.assert_array_equal(a, b)
        _same_values(store_arm, exact_arm)


def _same_values(arm, other):
    assert arm.values.keys() == other.values.keys()
    for metric, values in arm.values.items():
        np.testing.assert_allclose(values, other.values[metric], atol=1e-6)


def test_local_store_matches_exact_faiss_and_is_reused_without_encoding(
    tiny_dataset, cache_dirs, exact_run, tmp_path, monkeypatch
):
    first = _eval(tiny_dataset, tmp_path / "a", store="local")
    _same_as_exact(first, exact_run)
    assert "pgvector" in first.evaluation.models["base"]["store"]
    assert (tmp_path / "a" / "retrieval_metrics.csv").exists()

    from harness.stores.pgvector import PgvectorStore

    def must_not_ingest(*_a, **_k):
        raise AssertionError("a complete table was ingested again")

    monkeypatch.setattr(PgvectorStore, "ingest", must_not_ingest)
    second = _eval(tiny_dataset, tmp_path / "b", store="local")
    assert second.evaluation.cache["misses"] == 0  # nothing encoded: documents, queries and recall from the cache
    np.testing.assert_array_equal(_arm(second).ranked, _arm(first).ranked)
    _chatbot_starts_without_encoding(tiny_dataset, tmp_path, monkeypatch, first)
    _step4_ranks_from_the_same_tables(tiny_dataset, tmp_path, first)


def _chatbot_starts_without_encoding(tiny_dataset, tmp_path, monkeypatch, step3):
    """Step 5's retrievers over the tables step 3 filled: an empty embedding cache and a model that cannot encode
    documents still serve questions."""
    from corpus.beir import load_dataset
    from corpus.models import Embedder
    from harness.embedding_cache import EmbeddingCache
    from harness.retrieval import retrieval_backend
    from harness.retrieval_options import RetrievalOptions
    from rag.chat_engine import load_retrievers

    real = Embedder.encode

    def queries_only(self, texts, kind, *a, **k):
        assert kind == "query", "the chatbot encoded documents although the store's tables exist"
        return real(self, texts, kind, *a, **k)

    monkeypatch.setattr(Embedder, "encode", queries_only)
    corpus = load_dataset(tiny_dataset).corpus
    docs = {d: corpus[d] for d in step3.evaluation.doc_ids}
    options = RetrievalOptions(store="local")
    with retrieval_backend(options) as backend:
        retrievers = load_retrievers({"base": "base"}, docs, EmbeddingCache(tmp_path / "empty"), options, backend)
        hits = retrievers["base"].search([step3.evaluation.query_texts[0]], 3)
    assert [h.doc_id for h in hits[0]] == [step3.evaluation.doc_ids[j] for j in _arm(step3).ranked[0, :3]]


def test_a_store_url_reaches_the_same_server(tiny_dataset, cache_dirs, exact_run, tmp_path, monkeypatch):
    from harness.stores.local_postgres import LocalPostgres

    with LocalPostgres() as server:
        target = server.target()
        monkeypatch.setenv("RAGTUNE_PG_PASSWORD", target.password)
        result = _eval(tiny_dataset, tmp_path, store=target.url)
    _same_as_exact(result, exact_run)
    assert target.password not in result.evaluation.models["base"]["store"]


@pytest.mark.timeout(240)
def test_ray_encoder_matches_the_local_encoder(tiny_dataset, exact_run, tmp_path, monkeypatch):
    import corpus.paths

    monkeypatch.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", tmp_path / "fresh")  # Ray must really encode
    result = _eval(tiny_dataset, tmp_path / "r", encoder="ray")
    assert result.evaluation.cache["misses"] > 0
    for pool, pool_exact in zip(result.evaluation.pools, exact_run.evaluation.pools, strict=True):
        _same_values(pool.arms[0], pool_exact.arms[0])
        np.testing.assert_array_equal(pool.arms[0].ranked[:, :10], pool_exact.arms[0].ranked[:, :10])


def _step4_ranks_from_the_same_tables(tiny_dataset, tmp_path, step3):
    """Step 4's dense arm under the same store option ranks as step 3 did (one retrieval path for both)."""
    from corpus.beir import load_dataset
    from harness.arms import parse_arm
    from harness.embedding_cache import EmbeddingCache
    from harness.retrieval import retrieval_backend
    from harness.retrieval_options import RetrievalOptions
    from rag.answer_comparison import Query, rank_arm

    corpus = load_dataset(tiny_dataset).corpus
    docs = {d: corpus[d] for d in step3.evaluation.doc_ids}
    queries = [Query(q, t, set()) for q, t in zip(step3.evaluation.query_ids, step3.evaluation.query_texts)]
    options = RetrievalOptions(store="local")
    with retrieval_backend(options) as backend:
        ranked = rank_arm(parse_arm("base"), queries, docs, 3, EmbeddingCache(tmp_path / "emb4"), (options, backend))
    expected = [[step3.evaluation.doc_ids[j] for j in row[:3]] for row in _arm(step3).ranked]
    assert ranked == expected
