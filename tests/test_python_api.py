"""Steps 0-3 through the Python API on the tiny O*NET set: configs in, typed results out, the same files as the
scripts, and headline figures that agree with the CSVs they came from."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ragtune.steps import eval as eval_step
from ragtune.steps import pool as pool_step
from ragtune.steps import train as train_step
from ragtune.steps import triplets as triplets_step
from train.config import TrainConfig


@pytest.mark.slow
def test_steps_0_to_3_in_python(tiny_dataset, isolated_cache, tmp_path):
    t = triplets_step.run(
        triplets_step.TripletsConfig(data=str(tiny_dataset), out=str(tmp_path / "triplets"), num_negatives=1)
    )
    assert isinstance(t, triplets_step.TripletsResult)
    assert (t.out / "train.jsonl").is_file() and t.stats.triplets == len(
        t.out.joinpath("train.jsonl").read_text().splitlines()
    )

    p = pool_step.run(
        pool_step.PoolStepConfig(
            data=str(tiny_dataset), size=15, triplets=str(t.out), no_external=True, out=str(tmp_path / "pool.jsonl")
        )
    )
    assert isinstance(p, pool_step.PoolResult) and p.documents == 15 == sum(p.counts.values())
    assert len(p.out.read_text().splitlines()) == 15

    m = train_step.run(
        train_step.TrainStepConfig(
            train=TrainConfig(
                triplets=str(t.out), out=str(tmp_path / "model"), batch_size=4, max_steps=4, eval_steps=2,
                max_seq_length=32, device="cpu", eval_batch_size=16,
            )
        )
    )  # fmt: skip
    assert isinstance(m, train_step.TrainStepResult) and m.action == "trained"
    assert (m.out / "modules.json").is_file() and math.isfinite(m.dev_before) and math.isfinite(m.dev_after)

    e = eval_step.run(
        eval_step.EvalStepConfig(
            data=str(tiny_dataset), pool=str(p.out), arms=["base", f"finetuned={m.out}", "bm25"],
            k=[1, 10], bootstrap=200, latency_queries=0, out=str(tmp_path / "reports"),
        )
    )  # fmt: skip
    assert isinstance(e, eval_step.EvalStepResult) and e.written["metrics"].is_file()
    csv = pd.read_csv(e.written["metrics"])
    arms = csv[csv["kind"] == "arm"]
    assert len(e.figures) == len(arms) == 3 * 6 * 2  # arms × metrics × cut-offs
    for f in e.headline:
        row = arms[
            (arms["arm"] == f.arm) & (arms["metric"] == f.metric) & (arms["k"] == f.k) & (arms["size"] == f.size)
        ]
        assert f.size == 15 and f.k == 10 and 0.0 <= f.value <= 1.0
        assert f.value == pytest.approx(row["value"].iloc[0])
    assert {f.arm for f in e.headline} == {"base", "finetuned", "bm25"}
    assert e.figure("base", "hit", 10) >= e.figure("base", "hit", 1)
