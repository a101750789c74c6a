"""Steps 3, 4 and 5 with a database store: the same per-query results as exact FAISS, through ``--store local`` and
through a URL as a remote user, and a restarted server whose complete tables are reused without encoding.

One server for the module (tests/harness/conftest.py); only the restart test starts one itself, so it runs last."""

from __future__ import annotations

import numpy as np
import pytest

from ragtune.steps.eval import EvalConfig, run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


SIZES = (12, 20)  # a smaller pool gets its own table, filled from the union's embeddings


def _eval(tiny_dataset, out, **retrieval):
    from harness.retrieval_options import RetrievalOptions

    cfg = EvalConfig(
        data=str(tiny_dataset),
        sizes=list(SIZES),
        no_external=True,
        arms=["base=base"],
        bootstrap=200,
        latency_queries=2,
        out=str(out),
        retrieval=RetrievalOptions(**retrieval),
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
def cache_dirs(pg_home, tmp_path_factory):
    """The module's embedding cache; ``--store local`` opens the shared server's folder, pg_home/postgres."""
    import corpus.paths

    mp = pytest.MonkeyPatch()
    mp.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", tmp_path_factory.mktemp("store_cache") / "emb")
    mp.setattr(corpus.paths, "CACHE_DIR", pg_home)
    yield pg_home
    mp.undo()


@pytest.fixture(scope="module")
def exact_run(tiny_dataset, cache_dirs, tmp_path_factory):
    return _eval(tiny_dataset, tmp_path_factory.mktemp("exact"))


@pytest.fixture(scope="module")
def local_run(tiny_dataset, cache_dirs, exact_run, pg_server, tmp_path_factory):
    """Step 3 with --store local on the module's running server: it fills the tables steps 4 and 5 read."""
    if pg_server._running_port() is None:
        pg_server.start()
    return _eval(tiny_dataset, tmp_path_factory.mktemp("local"), store="local")


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


def test_local_store_matches_exact_faiss(local_run, exact_run):
    _same_as_exact(local_run, exact_run)
    assert "pgvector" in local_run.evaluation.models["base"]["store"]
    assert (local_run.out / "retrieval_metrics.csv").exists()
    assert "pgvector" not in exact_run.evaluation.models["base"]["store"]


def test_the_chatbot_starts_without_encoding(tiny_dataset, postgres, local_run, tmp_path, monkeypatch):
    """Step 5's retrievers over the tables step 3 filled: an empty embedding cache and a model that cannot encode
    documents still serve questions."""
    from corpus.beir import load_dataset
    from corpus.models import Embedder
    from harness.arm_engine import ArmEngine
    from harness.arms import parse_arms
    from harness.embedding_cache import EmbeddingCache
    from harness.retrieval import retrieval_backend
    from harness.retrieval_options import RetrievalOptions

    real = Embedder.encode

    def queries_only(self, texts, kind, *a, **k):
        assert kind == "query", "the chatbot encoded documents although the store's tables exist"
        return real(self, texts, kind, *a, **k)

    monkeypatch.setattr(Embedder, "encode", queries_only)
    ev = local_run.evaluation
    corpus = load_dataset(tiny_dataset).corpus
    docs = {d: corpus[d] for d in ev.doc_ids}
    options = RetrievalOptions(store="local")
    with retrieval_backend(options) as backend:
        engine = ArmEngine(
            parse_arms(["base"]), docs, retrieval=options, cache=EmbeddingCache(tmp_path / "empty"), backend=backend,
            cache_queries=False,
        )  # fmt: skip
        hits = engine.hits(ev.query_texts[0], 3)["base"]
    assert [h.doc_id for h in hits] == [ev.doc_ids[j] for j in _arm(local_run).ranked[0, :3]]


def test_step4_ranks_from_the_same_tables(tiny_dataset, postgres, local_run, tmp_path):
    """Step 4's dense arm under the same store option ranks as step 3 did (one retrieval path for both)."""
    from corpus.beir import load_dataset
    from harness.arm_engine import ArmEngine
    from harness.arms import parse_arm
    from harness.embedding_cache import EmbeddingCache
    from harness.retrieval import retrieval_backend
    from harness.retrieval_options import RetrievalOptions

    ev = local_run.evaluation
    corpus = load_dataset(tiny_dataset).corpus
    docs = {d: corpus[d] for d in ev.doc_ids}
    options = RetrievalOptions(store="local")
    with retrieval_backend(options) as backend:
        engine = ArmEngine(
            [parse_arm("base")], docs, retrieval=options, cache=EmbeddingCache(tmp_path / "emb4"), backend=backend
        )
        (runs,) = engine.rank(ev.query_texts, 3)
    assert runs[0].ids(engine.doc_ids) == [[ev.doc_ids[j] for j in row[:3]] for row in _arm(local_run).ranked]


def test_a_store_url_reaches_the_server_as_a_remote_user(tiny_dataset, postgres, exact_run, tmp_path, monkeypatch):
    from corpus.errors import RagtuneError
    from harness.stores import open_store

    role, secret = "remote_user", "s3cret-for-test"
    with postgres.target().connect(autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'")
        # a schema named after the role comes first in PostgreSQL's default search_path: its own catalog and tables
        admin.execute(f"CREATE SCHEMA {role} AUTHORIZATION {role}")
    url = f"postgresql://{role}@127.0.0.1:{postgres.port}/ragtune"

    monkeypatch.setenv("RAGTUNE_PG_PASSWORD", "wrong")
    with pytest.raises(RagtuneError) as refused, open_store(url):
        pass
    assert "password authentication failed" in str(refused.value) and "wrong" not in str(refused.value)

    monkeypatch.setenv("RAGTUNE_PG_PASSWORD", secret)
    result = _eval(tiny_dataset, tmp_path, store=url)
    _same_as_exact(result, exact_run)
    assert role in result.evaluation.models["base"]["store"] and secret not in str(result.evaluation.models)
    with postgres.target().connect() as admin:
        owned = admin.execute("SELECT schemaname FROM pg_tables WHERE tableowner = %s", (role,)).fetchall()
    assert owned and {r[0] for r in owned} == {role}  # its own tables, in its own schema


def test_a_restarted_server_serves_the_complete_tables_without_encoding(
    tiny_dataset, pg_server, local_run, tmp_path, monkeypatch
):
    from harness.stores.local_postgres import LocalPostgres
    from harness.stores.pgvector import PgvectorStore

    pg_server.stop()
    assert pg_server._running_port() is None

    def must_not_ingest(*_a, **_k):
        raise AssertionError("a complete table was ingested again")

    monkeypatch.setattr(PgvectorStore, "ingest", must_not_ingest)
    again = _eval(tiny_dataset, tmp_path, store="local")  # step 3 starts the server itself, on a new port
    assert again.evaluation.cache["misses"] == 0  # nothing encoded: documents, queries and recall from the cache
    np.testing.assert_array_equal(_arm(again).ranked, _arm(local_run).ranked)
    assert LocalPostgres(pg_server.data_dir)._running_port() is None  # and stops it at the end
