"""Metrics against pytrec_eval (trec_eval) on a real MiniLM run, and on rankings whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
import pytrec_eval

from harness.metrics import METRICS, first_relevant_rank, per_query, relevance_matrix

KS = (1, 3, 5, 10, 20)
TREC = {"precision": "P", "recall": "recall", "ndcg": "ndcg_cut", "map": "map_cut", "hit": "success"}


def trec_values(qrels, ranked, scores, doc_ids, query_ids, ks=KS):
    """pytrec_eval per query, laid out like per_query(): metric -> (n, len(ks))."""
    run = {
        q: {doc_ids[j]: float(s) for j, s in zip(row, srow, strict=False) if j >= 0}
        for q, row, srow in zip(query_ids, ranked, scores, strict=False)
    }
    cut = ",".join(map(str, ks))
    res = pytrec_eval.RelevanceEvaluator(qrels, {f"{m}.{cut}" for m in TREC.values()}).evaluate(run)
    out = {m: np.array([[res[q][f"{t}_{k}"] for k in ks] for q in query_ids]) for m, t in TREC.items()}
    # trec_eval's recip_rank has no cut-off: truncate the run at k instead
    rr = []
    for k in ks:
        run_k = {q: dict(list(sorted(d.items(), key=lambda x: -x[1]))[:k]) for q, d in run.items()}
        r = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(run_k)
        rr.append([r[q]["recip_rank"] for q in query_ids])
    out["mrr"] = np.array(rr).T
    return out


@pytest.fixture(scope="module")
def real_run(tiny_dataset, minilm, tmp_path_factory):
    """MiniLM over the tiny O*NET corpus, every split's queries, with graded qrels added on top."""
    from corpus.beir import load_dataset
    from harness.embedding_cache import EmbeddingCache
    from harness.retrieval import Retriever

    ds = load_dataset(tiny_dataset)
    qrels = {}
    for split in ds.qrels:
        for q, docs in ds.qrels[split].items():
            qrels.setdefault(q, {}).update(docs)
    query_ids = sorted(qrels)
    doc_ids = sorted(ds.corpus)
    # grades 1..3 and a relevant document outside the pool, so nDCG's gains and recall's denominator matter
    rng = np.random.default_rng(5)
    for q in query_ids:
        for d in rng.choice(doc_ids, size=2, replace=False):
            qrels[q].setdefault(str(d), int(rng.integers(1, 4)))
    qrels[query_ids[0]]["not-in-pool"] = 2
    qrels[query_ids[1]] = {d: 0 for d in qrels[query_ids[1]]} | {doc_ids[0]: 3}
    retriever = Retriever(
        minilm, {d: ds.corpus[d] for d in doc_ids}, cache=EmbeddingCache(tmp_path_factory.mktemp("cache"))
    )
    scores, idx = retriever.search_embeddings(retriever.encode_queries([ds.queries[q] for q in query_ids]), 20)
    return qrels, idx, scores, retriever.doc_ids, query_ids


def test_every_metric_matches_trec_eval_on_a_real_run(real_run):
    qrels, idx, scores, doc_ids, query_ids = real_run
    assert len(query_ids) >= 20 and idx.shape[1] == 20
    ours = per_query(relevance_matrix(idx, doc_ids, query_ids, qrels), KS)
    ref = trec_values(qrels, idx, scores, doc_ids, query_ids)
    for m in METRICS:
        np.testing.assert_allclose(ours[m], ref[m], atol=1e-6, err_msg=m)
    # the run is not trivial: metrics vary across queries
    assert 0 < ours["ndcg"][:, 3].mean() < 1 and ours["recall"][:, 0].std() > 0


def test_random_graded_runs_match_trec_eval():
    rng = np.random.default_rng(0)
    doc_ids = [f"d{i}" for i in range(60)]
    query_ids = [f"q{i}" for i in range(40)]
    qrels = {
        q: {f"d{j}": int(rng.integers(0, 4)) for j in rng.choice(70, size=rng.integers(1, 8), replace=False)}
        for q in query_ids
    }
    qrels = {q: d for q, d in qrels.items() if any(g > 0 for g in d.values())}
    query_ids = list(qrels)
    ranked = np.array([rng.permutation(60)[:20] for _ in query_ids])
    ranked[:5, 15:] = -1  # short rankings: precision still divides by k
    scores = np.tile(np.arange(20, 0, -1, dtype=float), (len(query_ids), 1))
    ours = per_query(relevance_matrix(ranked, doc_ids, query_ids, qrels), KS)
    ref = trec_values(qrels, ranked, scores, doc_ids, query_ids)
    for m in METRICS:
        np.testing.assert_allclose(ours[m], ref[m], atol=1e-6, err_msg=m)


def test_hand_made_rankings():
    doc_ids = ["a", "b", "c", "d", "e"]
    # q1: relevant b (rank 2) and e (rank 5); q2: relevant z, not in the pool; q3: graded a=2 at rank 1, c=1 at 3
    qrels = {"q1": {"b": 1, "e": 1}, "q2": {"z": 1}, "q3": {"a": 2, "c": 1, "d": 0}}
    ranked = np.array([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [0, 3, 2, -1, -1]])
    judged = relevance_matrix(ranked, doc_ids, ["q1", "q2", "q3"], qrels)
    v = per_query(judged, (1, 3, 5))
    np.testing.assert_allclose(v["hit"], [[0, 1, 1], [0, 0, 0], [1, 1, 1]])
    np.testing.assert_allclose(v["precision"], [[0, 1 / 3, 2 / 5], [0, 0, 0], [1, 2 / 3, 2 / 5]])
    np.testing.assert_allclose(v["recall"], [[0, 0.5, 1], [0, 0, 0], [0.5, 1, 1]])
    np.testing.assert_allclose(v["mrr"], [[0, 0.5, 0.5], [0, 0, 0], [1, 1, 1]])
    ap3 = (1 + 2 / 3) / 2
    np.testing.assert_allclose(v["map"], [[0, 0.25, (1 / 2 + 2 / 5) / 2], [0, 0, 0], [0.5, ap3, ap3]])
    idcg3 = 2 + 1 / np.log2(3)
    np.testing.assert_allclose(v["ndcg"][2], [1.0, (2 + 1 / np.log2(4)) / idcg3, (2 + 1 / np.log2(4)) / idcg3])
    np.testing.assert_allclose(
        v["ndcg"][0],
        [0, (1 / np.log2(3)) / (1 + 1 / np.log2(3)), (1 / np.log2(3) + 1 / np.log2(6)) / (1 + 1 / np.log2(3))],
    )
    assert first_relevant_rank(judged).tolist() == [2, 0, 1]


def test_bad_cutoffs_are_refused():
    judged = relevance_matrix(np.zeros((1, 1), dtype=int), ["a"], ["q"], {"q": {"a": 1}})
    with pytest.raises(ValueError):
        per_query(judged, (0, 1))


def test_fractional_grades_match_trec_eval():
    """Fractional grades are gains as given (trec_eval reads qrels as numbers; pytrec_eval takes ints, so the
    reference uses grades scaled by 10, which leaves every normalised metric unchanged)."""
    rng = np.random.default_rng(1)
    doc_ids = [f"d{i}" for i in range(30)]
    query_ids = [f"q{i}" for i in range(20)]
    qrels = {
        q: {
            f"d{j}": round(float(rng.choice([0.0, 0.3, 0.7, 1.5, 2.0])), 1)
            for j in rng.choice(30, size=4, replace=False)
        }
        for q in query_ids
    }
    qrels = {q: d for q, d in qrels.items() if any(g > 0 for g in d.values())}
    query_ids = list(qrels)
    ranked = np.array([rng.permutation(30)[:10] for _ in query_ids])
    scores = np.tile(np.arange(10, 0, -1, dtype=float), (len(query_ids), 1))
    ours = per_query(relevance_matrix(ranked, doc_ids, query_ids, qrels), (1, 3, 5, 10))
    scaled = {q: {d: int(round(g * 10)) for d, g in docs.items()} for q, docs in qrels.items()}
    ref = trec_values(scaled, ranked, scores, doc_ids, query_ids, ks=(1, 3, 5, 10))
    for m in METRICS:
        np.testing.assert_allclose(ours[m], ref[m], atol=1e-6, err_msg=m)
    truncated = {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items()}
    assert not np.allclose(
        ours["ndcg"], per_query(relevance_matrix(ranked, doc_ids, query_ids, truncated), (1, 3, 5, 10))["ndcg"]
    )
