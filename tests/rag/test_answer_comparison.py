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


def test_step_4_accepts_every_arm_kind_step_3_takes():
    from rag.comparison import _arms
    from ragtune.steps.rag import RagConfig

    arms = _arms(RagConfig(arms=["base", "bm25", "h=base+bm25:convex", "r=base>base", "f=base+bm25"]))
    assert [a.name for a in arms] == ["base", "bm25", "h", "r", "f", "oracle"]
    assert [a.spec.kind for a in arms[:-1]] == ["dense", "bm25", "hybrid", "rerank", "hybrid"]
