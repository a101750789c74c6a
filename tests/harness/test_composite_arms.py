"""Hybrid and reranked arms in one evaluation (harness/composite_arms.py) on the tiny O*NET set."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.beir import load_dataset
from harness.evaluate import EvalConfig, evaluate
from harness.fusion import convex_fusion

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def composite_eval(tiny_dataset, tmp_path_factory):
    import corpus.paths

    mp = pytest.MonkeyPatch()
    mp.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", tmp_path_factory.mktemp("cache"))
    ds = load_dataset(tiny_dataset)
    cfg = EvalConfig(
        data=str(tiny_dataset),
        models=[["base", "base"]],
        bm25=True,
        hybrids=[["hy", "bm25", "base", "rrf"], ["cx", "bm25", "base", "convex"]],
        reranks=[["rr", "hy", "base"]],
        order=["base", "hy", "bm25", "cx", "rr"],
        ks=[1, 10],
        depth=20,
        rerank_depth=5,
        bootstrap_samples=200,
        latency_queries=3,
    )
    try:
        result = evaluate(ds, [(len(ds.corpus), ds.corpus)], cfg)
    finally:
        mp.undo()
    return result, {r.name: r for r in result.pools[0].arms}


def _ranks(run, i):
    return {int(d): r for r, d in enumerate(run.ranked[i], 1) if d >= 0}


def test_arms_come_in_the_given_order_and_are_compared_with_the_first(composite_eval):
    result, _ = composite_eval
    pool = result.pools[0]
    assert [r.name for r in pool.arms] == ["base", "hy", "bm25", "cx", "rr"]
    deltas = {row["arm"] for row in pool.metric_rows if row["kind"] == "delta"}
    assert {"hy - base", "cx - base", "rr - base"} <= deltas


def test_rrf_arm_orders_by_the_reciprocal_rank_sum(composite_eval):
    _, runs = composite_eval
    for i in range(runs["hy"].ranked.shape[0]):
        a, b = _ranks(runs["bm25"], i), _ranks(runs["base"], i)
        fused = {d: 1 / (60 + a[d]) if d in a else 0.0 for d in set(a) | set(b)}
        for d, r in b.items():
            fused[d] += 1 / (60 + r)
        best = max(fused.values())
        assert fused[int(runs["hy"].ranked[i, 0])] == pytest.approx(best)
    # latency: both parts on the same sampled queries, plus the fusion
    assert (runs["hy"].latency_ms >= runs["bm25"].latency_ms + runs["base"].latency_ms).all()


def test_convex_arm_uses_a_weight_from_the_grid(composite_eval):
    _, runs = composite_eval
    cx = runs["cx"]
    weight = float(cx.note.split("weight ")[1].split()[0])
    again = convex_fusion([runs["bm25"], runs["base"]], (weight, 1 - weight), depth=cx.ranked.shape[1])
    assert (again.ranked == cx.ranked).all()
    assert "dev" in cx.note


def test_reranked_arm_permutes_the_head_and_keeps_the_tail(composite_eval):
    _, runs = composite_eval
    first, rr = runs["hy"], runs["rr"]
    for i in range(first.ranked.shape[0]):
        assert sorted(rr.ranked[i, :5]) == sorted(first.ranked[i, :5])
        assert (rr.ranked[i, 5:] == first.ranked[i, 5:]).all()
    assert len(rr.latency_ms) == 3 and (rr.latency_ms >= first.latency_ms).all()
    assert rr.training_minutes == first.training_minutes == 0.0  # the shipped model has no training card
    assert np.isfinite(rr.scores[:, :5]).all()


def test_arms_table_reads_the_written_reports(composite_eval, tmp_path):
    from harness.arms_table import arms_markdown
    from harness.retrieval_report import write_reports

    result, runs = composite_eval
    write_reports(result, tmp_path)
    lines = arms_markdown(tmp_path).splitlines()
    assert [ln.split(" | ")[0].strip("| ") for ln in lines[2:]] == ["base", "hy", "bm25", "cx", "rr"]
    mrr = {r["arm"]: r["value"] for r in result.pools[0].metric_rows if r["metric"] == "mrr" and r["k"] == 10}
    assert lines[3].split(" | ")[1].startswith(f"{mrr['hy']:.3f} (")
