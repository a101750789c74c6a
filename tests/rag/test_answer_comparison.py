"""Which queries step 4 answers: a fixed sample across the split, and a larger --limit extends a smaller one."""

from __future__ import annotations

from types import SimpleNamespace

from rag.answer_comparison import select_queries


def fake_dataset(n: int):
    # ids grouped by topic as in O*NET: the first ids of the split all belong to one group
    qids = [f"{group:02d}-{i:03d}" for group in range(10) for i in range(n // 10)]
    relevant = {q: {f"doc-{q[:2]}"} for q in qids}
    relevant[qids[-1]] = set()  # a query without relevant documents is never asked
    return SimpleNamespace(relevant=lambda split: relevant, queries={q: f"text {q}" for q in qids})


def test_sample_spreads_over_the_split_and_extends_with_limit():
    ds = fake_dataset(200)
    small, large = select_queries(ds, "test", 10), select_queries(ds, "test", 40)
    ids_small, ids_large = [q.id for q in small], [q.id for q in large]
    assert ids_small == sorted(ids_small) and ids_large == sorted(ids_large)
    assert set(ids_small) < set(ids_large)
    assert len({q[:2] for q in ids_small}) >= 4  # not the first ten ids of one group
    assert ids_small == [q.id for q in select_queries(ds, "test", 10)]  # the same on every call


def test_limit_zero_is_every_query_with_relevant_documents():
    ds = fake_dataset(50)
    assert len(select_queries(ds, "test", 0)) == 49


def test_hybrid_ranking_is_reciprocal_rank_fusion_of_the_parts():
    from rag.answer_comparison import hybrid_ranking

    dense = [["a", "b", "c"], ["x", "y"]]
    lexical = [["c", "a", "d"], ["y", "z"]]
    k = 60
    fused = hybrid_ranking([dense, lexical], depth=3, rrf_k=k)
    # query 1: a = 1/61 + 1/62, c = 1/63 + 1/61, b = 1/62, d = 1/63 → a, c, b
    assert fused[0] == ["a", "c", "b"]
    # query 2: y = 1/62 + 1/61 beats x = 1/61 and z = 1/62
    assert fused[1][0] == "y" and set(fused[1][1:]) == {"x", "z"}


def test_step_4_refuses_arms_it_cannot_answer_from_before_any_model_loads():
    import pytest

    from corpus.errors import RagtuneError
    from ragtune.steps.rag import RagConfig, _arms

    for spec in ("h=base+bm25:convex", "r=base>base"):
        with pytest.raises(RagtuneError, match="step 4 answers from dense, bm25 and reciprocal-rank hybrid"):
            _arms(RagConfig(arms=["base", "bm25", spec]))
