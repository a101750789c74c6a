"""Training's dev evaluation and step 3 use one metric definition: the same figures on the same queries and documents."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_dev_evaluator_agrees_with_step_3_on_the_same_candidates(
    tiny_triplets, tiny_dataset, minilm, isolated_cache, tmp_path
):
    from corpus.beir import load_dataset
    from corpus.pool import write_pool
    from ragtune.steps.eval import EvalConfig, run
    from train.dev_eval import REPORTED, build_evaluator, dev_candidates, metric_key, shown_metrics
    from train.examples import load_training_data

    data = load_training_data(tiny_triplets)
    relevant = {d for docs in data.dev_relevant.values() for d in docs}
    candidates = dev_candidates(data, len(relevant) + 4, seed=13)
    assert len(candidates.ids) < len(data.corpus), "a candidate set smaller than the corpus, as in training"
    ds = load_dataset(tiny_dataset)
    pool = tmp_path / "dev_pool.jsonl"
    write_pool(pool, [("dev", ds.corpus[d]) for d in candidates.ids])

    evaluator = build_evaluator(data, minilm.query_prompt, minilm.document_prompt, 16, candidates)
    dev = evaluator(minilm.model)
    step3 = run(
        EvalConfig(
            data=str(tiny_dataset), pool=str(pool), split="dev", arms=["base"], bootstrap=100, latency_queries=0,
            out=str(tmp_path / "reports"),
        )
    )  # fmt: skip

    assert set(step3.evaluation.query_ids) == set(data.dev_queries)
    names = {"hit": "accuracy"}
    for metric, k in REPORTED:
        ours = dev[metric_key(f"{names.get(metric, metric)}@{k}")]
        assert ours == pytest.approx(step3.figure("base", metric, k), abs=1e-6), (metric, k)
    shown = shown_metrics(dev)
    assert 0 < shown["MRR@10"] < 1, "a ranking with misses to tell apart"
    assert evaluator.primary_metric == metric_key("ndcg@10") and evaluator.primary_metric in dev
