"""Which checkpoint a rerun resumes from, and what a rerun may reuse."""

from __future__ import annotations

import json

import pytest

from corpus.errors import RagtuneError
from train.run_state import latest_checkpoint, plan_run, record_run

IDENTITY = {
    "run_fingerprint": "abc",
    "settings": {"learning_rate": 1e-4},
    "data_fingerprint": "d",
    "base_fingerprint": "b",
}


def _checkpoint(folder, step, complete=True):
    sub = folder / f"checkpoint-{step}"
    sub.mkdir(parents=True)
    if complete:
        (sub / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return sub


def test_latest_complete_checkpoint_skips_one_killed_while_saving(tmp_path):
    _checkpoint(tmp_path, 5)
    _checkpoint(tmp_path, 10)
    _checkpoint(tmp_path, 15, complete=False)  # killed before trainer_state.json was written
    (tmp_path / "checkpoint-20").mkdir()
    (tmp_path / "checkpoint-20" / "trainer_state.json").write_text('{"global_st')  # killed mid-write
    assert latest_checkpoint(tmp_path).name == "checkpoint-10"
    assert latest_checkpoint(tmp_path / "missing") is None


def test_plan_resumes_only_a_run_with_the_same_fingerprint(tmp_path):
    out = tmp_path / "model"
    assert plan_run(out, IDENTITY, overwrite=False).action == "fresh"
    record_run(out, {**IDENTITY, "dev_before": {"MRR@10": 0.4}, "elapsed_s": 12.0})
    _checkpoint(out / "checkpoints", 3)
    plan = plan_run(out, IDENTITY, overwrite=False)
    assert plan.action == "resume" and plan.checkpoint.name == "checkpoint-3"
    assert plan.saved["dev_before"] == {"MRR@10": 0.4}
    other = {**IDENTITY, "run_fingerprint": "xyz", "settings": {"learning_rate": 5e-5}}
    with pytest.raises(RagtuneError, match="learning_rate"):
        plan_run(out, other, overwrite=False)
    assert plan_run(out, other, overwrite=True).action == "fresh" and not out.exists()


def test_plan_never_writes_into_a_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("someone else's")
    with pytest.raises(RagtuneError, match="not a ragtune training output"):
        plan_run(tmp_path, IDENTITY, overwrite=False)
