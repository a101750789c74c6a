"""The pgvector store on the embedded PostgreSQL: filled in COPY batches with the same top-k as exact FAISS, a changed
corpus is a new table, a killed ingest resumes after the rows it committed, and Ctrl-C stops the server.

Restart-and-reuse and URL logins are proven at the step level (test_eval_stores.py); the server is the module's one
(tests/harness/conftest.py), and the Ctrl-C test, which needs it stopped, runs last."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from corpus.beir import document_text, load_dataset
from corpus.errors import RagtuneError
from harness.encoding import encode
from harness.stores import StoreKey, open_store
from harness.stores.local_postgres import LocalPostgres
from harness.stores.memory import FaissStore
from harness.stores.pgvector import PgvectorBackend, PgvectorConfig
from tests.helpers import ROOT, ctrl_c_as_from_a_terminal

pytestmark = [pytest.mark.timeout(180)]

N_DOCS = 15  # a corpus of its own: no step-3 pool (12 or 20 documents) in the shared cluster has this table


@pytest.fixture(scope="module")
def tiny(tiny_dataset, minilm):
    ds = load_dataset(tiny_dataset)
    doc_ids = list(ds.corpus)[:N_DOCS]
    texts = [document_text(ds.corpus[d]) for d in doc_ids]
    queries = list(ds.queries.values())[:12]
    return doc_ids, texts, encode(minilm, queries, "query")


class CountingEmbed:
    """The real MiniLM document embeddings (encoded once), counting what the store asks for."""

    def __init__(self, texts, emb):
        self.rows = {t: i for i, t in enumerate(texts)}
        self.emb, self.calls = emb, []

    def __call__(self, texts):
        self.calls.append(len(texts))
        return self.emb[[self.rows[t] for t in texts]]


def top_ids(store, q_emb, k=5):
    return store.search(q_emb, k)[1]


@pytest.mark.slow
def test_a_table_is_filled_in_batches_matches_exact_faiss_and_a_changed_corpus_is_another(postgres, tiny, minilm):
    doc_ids, texts, q_emb = tiny
    doc_emb = encode(minilm, texts, "document")
    key = StoreKey.for_model(minilm, doc_ids, texts)
    exact = FaissStore(doc_emb)
    embed = CountingEmbed(texts, doc_emb)
    cfg = PgvectorConfig(batch_rows=7)  # several COPY batches even on 15 documents
    with PgvectorBackend(postgres.target(), cfg) as backend:
        store = backend.store_for(key, doc_ids, texts, embed)
        assert embed.calls == [7, 7, 1]
        scores, rows = store.search(q_emb, 5)
        assert (rows == top_ids(exact, q_emb)).all()
        assert np.allclose(scores, exact.search(q_emb, 5)[0], atol=1e-5)
        assert "password" not in str(store.describe()) and store.describe().kind == "pgvector"
        assert postgres.target().password not in str(store.describe()) + str(backend.describe())
        # a changed document is another corpus: a new table, encoded afresh
        changed = texts[:-1] + [texts[-1] + " (revised)"]
        other = backend.store(StoreKey.for_model(minilm, doc_ids, changed))
        assert other.table != store.table and not other.is_complete(len(doc_ids))


CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from harness.stores import StoreKey
    from harness.stores.connection import PgTarget
    from harness.stores.pgvector import PgvectorBackend, PgvectorConfig
    n, batch = int(sys.argv[2]), int(sys.argv[3])
    x = np.load(sys.argv[4])
    calls = []
    def embed(texts):
        calls.append(len(texts))
        if len(calls) == 3:  # two batches committed: say so and hang until killed
            print("blocked", flush=True)
            time.sleep(120)
        start = int(texts[0][1:])
        return x[start:start + len(texts)]
    with PgvectorBackend(PgTarget.from_url(sys.argv[1]), PgvectorConfig(batch_rows=batch)) as backend:
        backend.store_for(StoreKey("synthetic", "killed-ingest", x.shape[1]), [f"d{i}" for i in range(n)],
                          [f"t{i}" for i in range(n)], embed)
""")


@pytest.mark.slow
def test_a_killed_ingest_resumes_after_the_committed_rows(postgres, tmp_path):
    n, batch, dim = 500, 60, 16
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    np.save(tmp_path / "x.npy", x)
    target = postgres.target()
    env = {**os.environ, "RAGTUNE_PG_PASSWORD": target.password, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, target.url, str(n), str(batch), str(tmp_path / "x.npy")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert child.stdout.readline().strip() == "blocked"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL

    doc_ids, texts = [f"d{i}" for i in range(n)], [f"t{i}" for i in range(n)]
    asked = []

    def embed(part):
        asked.append(int(part[0][1:]))
        return x[asked[-1] : asked[-1] + len(part)]

    with PgvectorBackend(target, PgvectorConfig(batch_rows=batch)) as backend:
        store = backend.store(StoreKey("synthetic", "killed-ingest", dim))
        assert store.rows_present() == 2 * batch and not store.is_complete(n)
        report = store.ingest(doc_ids, texts, embed)
        assert (report.rows_before, report.rows_added) == (2 * batch, n - 2 * batch)
        assert asked[0] == 2 * batch  # nothing committed was encoded again
        assert store.is_complete(n) and len(store) == n
        _, rows = store.search(x[:20], 1)
        assert (rows[:, 0] == np.arange(20)).mean() >= 0.95  # each vector finds itself through HNSW


def test_a_store_url_keeps_its_password_out_of_every_message(monkeypatch):
    from harness.stores.connection import PgTarget

    monkeypatch.delenv("RAGTUNE_PG_PASSWORD", raising=False)
    monkeypatch.setenv("PGPASSWORD", "from-env")
    target = PgTarget.from_url("postgresql://alice@db.example:5433/prod")
    assert (target.url, target.password) == ("postgresql://alice@db.example:5433/prod", "from-env")
    inline = PgTarget.from_url("postgres://alice:in-url@db.example/prod")
    assert inline.password == "in-url" and "in-url" not in inline.redacted() + repr(inline)
    monkeypatch.setenv("RAGTUNE_PG_PASSWORD", "ours-first")
    assert PgTarget.from_url("postgresql://alice@db.example/prod").password == "ours-first"
    for bad in ("mysql://alice@db/prod", "postgresql:///prod", "pgvector"):
        with pytest.raises(RagtuneError), open_store(bad):
            pass


@pytest.mark.slow
def test_ctrl_c_stops_the_local_server(tmp_path):
    # its own cluster, not the module's: a child that finds another process's server running leaves it running
    script = textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from harness.stores.local_postgres import LocalPostgres
        with LocalPostgres(Path(sys.argv[1])):
            print("up", flush=True)
            time.sleep(120)
    """)
    data = tmp_path / "postgres"
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(data)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        preexec_fn=ctrl_c_as_from_a_terminal,
    )
    try:
        assert child.stdout.readline().strip() == "up"
        assert LocalPostgres(data)._running_port() is not None
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(60)
    assert LocalPostgres(data)._running_port() is None and not (data / "postmaster.pid").exists()
