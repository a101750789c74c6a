"""Fusion checked against sums worked out by hand, and the dev weight search against a case with one right answer."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.errors import RagtuneError
from harness.fusion import FusionConfig, Ranking, choose_weight, convex_fusion, min_max, reciprocal_rank_fusion


def run(ranked, scores):
    return Ranking(np.asarray(scores, dtype=np.float32), np.asarray(ranked, dtype=np.int64))


# query 0: run A ranks docs 0, 1, 2; run B ranks 2, 3 and has an empty slot
A = run([[0, 1, 2]], [[0.9, 0.5, 0.1]])
B = run([[2, 3, -1]], [[12.0, 4.0, np.nan]])


def test_rrf_matches_hand_sums():
    fused = reciprocal_rank_fusion([A, B], k=60)
    expected = {0: 1 / 61, 1: 1 / 62, 2: 1 / 63 + 1 / 61, 3: 1 / 62}
    order = sorted(expected, key=lambda d: (-expected[d], d))  # ties (1 and 3) go to the smaller row
    assert fused.ranked[0].tolist() == order[:3]
    assert np.allclose(fused.scores[0], [expected[d] for d in order[:3]])
    deeper = reciprocal_rank_fusion([A, B], k=60, depth=5)
    assert deeper.ranked[0].tolist() == order + [-1]


def test_rrf_ignores_empty_slots_when_counting_ranks():
    gap = run([[-1, 5]], [[np.nan, 1.0]])
    fused = reciprocal_rank_fusion([gap], k=1)
    assert fused.ranked[0].tolist() == [5, -1]
    assert fused.scores[0, 0] == pytest.approx(1 / 2)


def test_min_max_per_query_and_missing_documents():
    assert np.allclose(min_max(A)[0], [1.0, 0.5, 0.0])
    assert np.allclose(min_max(B)[0], [1.0, 0.0, 0.0])
    flat = run([[4, 7]], [[3.0, 3.0]])
    assert min_max(flat)[0].tolist() == [1.0, 1.0]


def test_convex_matches_hand_sums():
    fused = convex_fusion([A, B], (0.3, 0.7), depth=4)
    # A: 0→1, 1→0.5, 2→0; B: 2→1, 3→0 (doc 3 is B's minimum; docs 0 and 1, missing from B, get it too)
    expected = {0: 0.3, 1: 0.15, 2: 0.7, 3: 0.0}
    order = sorted(expected, key=lambda d: (-expected[d], d))
    assert fused.ranked[0].tolist() == order
    assert np.allclose(fused.scores[0], [expected[d] for d in order])


def test_weight_one_reproduces_the_first_run():
    rng = np.random.default_rng(0)
    ranked = np.stack([rng.permutation(30)[:10] for _ in range(6)])
    scores = -np.sort(-rng.random((6, 10)), axis=1)
    first = run(ranked, scores)
    other = run(np.stack([rng.permutation(30)[:10] for _ in range(6)]), scores)
    fused = convex_fusion([first, other], (1.0, 0.0))
    # documents only the other run holds tie at 0 with the first run's last; they sort after it by row
    assert (fused.ranked[:, :9] == ranked[:, :9]).all()


def test_choose_weight_finds_the_run_that_is_right():
    doc_ids = [f"d{i}" for i in range(4)]
    query_ids = ["q0", "q1"]
    qrels = {"q0": {"d3": 1}, "q1": {"d0": 1}}
    good = run([[3, 0, 1], [0, 1, 2]], [[3, 2, 1], [3, 2, 1]])
    bad = run([[0, 1, 3], [2, 1, 0]], [[3, 2, 1], [3, 2, 1]])
    choice = choose_weight((bad, good), doc_ids, query_ids, qrels, FusionConfig(method="convex", metric="mrr", k=1))
    assert [p.weight for p in choice.grid] == list(FusionConfig().weight_grid)
    assert choice.score == 1.0 and choice.weight < 0.5
    assert choice.grid[-1].score == 0.0  # all weight on the bad run
    assert choice.weight == min(p.weight for p in choice.grid if p.score == 1.0)
    assert choice.metric == "mrr@1"


def test_mismatched_runs_are_a_user_error():
    with pytest.raises(RagtuneError):
        reciprocal_rank_fusion([A, run([[0], [1]], [[1.0], [1.0]])])
    with pytest.raises(RagtuneError):
        convex_fusion([A, B], (1.0,))
    with pytest.raises(RagtuneError):
        FusionConfig(method="borda")
