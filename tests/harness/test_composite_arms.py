"""Hybrid and reranked arms in one evaluation (harness/arm_engine.py) on the tiny O*NET set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpus.beir import load_dataset
from harness.arm_engine import ArmOptions
from harness.arms import parse_arms
from harness.evaluate import EvalConfig, evaluate
from harness.fusion import convex_fusion

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def composite_eval(tiny_dataset, tmp_path_factory):
    import corpus.paths

    mp = pytest.MonkeyPatch()
    cache_dir = tmp_path_factory.mktemp("cache")
    mp.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", cache_dir / "embeddings")
    mp.setattr(corpus.paths, "CACHE_DIR", cache_dir)
    ds = load_dataset(tiny_dataset)
    cfg = EvalConfig(
        data=str(tiny_dataset),
        k=[1, 10],
        depth=20,
        arm_options=ArmOptions(rerank_depth=5),
        bootstrap=200,
        latency_queries=3,
    )
    arms = parse_arms(["base", "bm25", "hy=bm25+base", "cx=bm25+base:convex", "rr=hy>base"])
    try:
        result = evaluate(ds, [(len(ds.corpus), ds.corpus)], arms, cfg)
    finally:
        mp.undo()
    return result, {r.name: r for r in result.pools[0].arms}


def _ranks(run, i):
    return {int(d): r for r, d in enumerate(run.ranked[i], 1) if d >= 0}


def test_arms_come_in_the_given_order_and_are_compared_with_the_first(composite_eval):
    result, _ = composite_eval
    pool = result.pools[0]
    assert [r.name for r in pool.arms] == ["base", "bm25", "hy", "cx", "rr"]
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


def test_convex_arm_uses_the_weight_fitted_on_dev(composite_eval, tmp_path):
    from harness.retrieval_report import write_reports

    result, runs = composite_eval
    cx = runs["cx"]
    fitted = result.fitted["cx"]
    assert fitted["dev"] == "dev" and fitted["first"] == "bm25" and fitted["dev_queries"] > 0
    assert fitted["weight"] in [p["weight"] for p in fitted["grid"]]
    assert fitted["score"] == max(p["score"] for p in fitted["grid"])
    again = convex_fusion(
        [runs["bm25"], runs["base"]], (fitted["weight"], 1 - fitted["weight"]), depth=cx.ranked.shape[1]
    )
    assert (again.ranked == cx.ranked).all()
    # the card a reviewer reads holds the weight itself, not only a note
    write_reports(result, tmp_path)
    card = json.loads((tmp_path / "retrieval_card.json").read_text())
    assert card["fitted"]["cx"]["weight"] == fitted["weight"]


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
    assert [ln.split(" | ")[0].strip("| ") for ln in lines[2:]] == ["base", "bm25", "hy", "cx", "rr"]
    mrr = {r["arm"]: r["value"] for r in result.pools[0].metric_rows if r["metric"] == "mrr" and r["k"] == 10}
    assert lines[4].split(" | ")[1].startswith(f"{mrr['hy']:.3f} (")
