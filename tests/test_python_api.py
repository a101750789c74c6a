"""Steps 0-3 through the Python API on the tiny O*NET set: configs in, typed results out, the same files as the
scripts, and headline figures that agree with the CSVs they came from."""

from __future__ import annotations

import json
import math
import shutil

import pandas as pd
import pytest

from ragtune.steps import eval as eval_step
from ragtune.steps import pool as pool_step
from ragtune.steps import train as train_step
from ragtune.steps import triplets as triplets_step
from train.config import TrainConfig


def quick_training(triplets, out, max_steps: int) -> train_step.TrainStepResult:
    """Step 2 for a few real optimizer steps on short sequences."""
    cfg = TrainConfig(
        triplets=str(triplets), out=str(out), batch_size=4, max_steps=max_steps, eval_steps=2, max_seq_length=32,
        device="cpu", eval_batch_size=16,
    )  # fmt: skip
    return train_step.run(train_step.TrainStepConfig(train=cfg))


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

    m = quick_training(t.out, tmp_path / "model", max_steps=4)
    assert isinstance(m, train_step.TrainStepResult) and m.action == "trained"
    assert (m.out / "modules.json").is_file() and math.isfinite(m.dev_before) and math.isfinite(m.dev_after)

    e = eval_step.run(
        eval_step.EvalConfig(
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


@pytest.fixture()
def train_and_test_only(tiny_dataset, tmp_path):
    """The tiny set as many public BEIR sets ship: qrels for train and test, none for dev."""
    folder = tmp_path / "data"
    shutil.copytree(tiny_dataset, folder)
    (folder / "qrels" / "dev.tsv").unlink()
    return folder


@pytest.mark.slow
def test_a_folder_without_dev_goes_through_steps_0_to_3_and_fits_convex_weights_on_the_carved_dev(
    train_and_test_only, isolated_cache, tmp_path
):
    data = train_and_test_only
    t = triplets_step.run(triplets_step.TripletsConfig(data=str(data), num_negatives=1))
    assert t.out == data / "triplets"  # where steps 2 and 3 look without being told
    carved = [json.loads(x)["query_id"] for x in (t.out / "dev.jsonl").read_text().splitlines()]
    assert carved and json.loads((t.out / "card.json").read_text())["dev"]["source"] == "carved from train"

    m = quick_training(t.out, tmp_path / "model", max_steps=2)
    assert m.action == "trained" and math.isfinite(m.dev_after)

    arms = ["base", f"finetuned={m.out}", "bm25", "cx=bm25+finetuned:convex"]
    e = eval_step.run(
        eval_step.EvalConfig(
            data=str(data), arms=arms, k=[10], bootstrap=100, latency_queries=0, out=str(tmp_path / "reports")
        )
    )
    speed = pd.read_csv(e.written["speed"]).set_index("arm")
    assert speed.loc["cx", "note"].startswith("convex, weight ") and "(carved dev " in speed.loc["cx", "note"]
    assert {f.arm for f in e.headline} == {"base", "finetuned", "bm25", "cx"}


def test_convex_weights_without_any_dev_set_are_a_user_error(train_and_test_only):
    from corpus.beir import load_dataset
    from corpus.errors import RagtuneError
    from harness.convex_weights import with_dev_split

    with pytest.raises(RagtuneError, match="no qrels/dev.tsv nor a dev set carved by step 0"):
        with_dev_split(load_dataset(train_and_test_only))
