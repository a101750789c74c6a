"""kill -9 in the middle of a real 2b_train_reranker.py run, then the same command again: it resumes from the
last complete checkpoint through train.run_state, as step 2 does, and says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT
from train.run_state import checkpoints_dir, latest_checkpoint

MAX_STEPS = 10


def command(triplets, out) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "2b_train_reranker.py"),
        "--triplets",
        str(triplets),
        "--out",
        str(out),
        "--batch-size",
        "4",
        "--max-steps",
        str(MAX_STEPS),
        "--eval-steps",
        "2",
        "--max-seq-length",
        "32",
        "--num-negatives",
        "1",
        "--dev-candidates",
        "3",
        "--device",
        "cpu",
    ]


@pytest.mark.slow
def test_kill_9_after_a_checkpoint_then_rerun_resumes(tiny_triplets, tmp_path):
    out = tmp_path / "reranker"
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(
        command(tiny_triplets, out), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    try:
        while latest_checkpoint(checkpoints_dir(out)) is None:
            assert proc.poll() is None, f"run ended before its first checkpoint:\n{proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert not (out / "training_card.json").exists(), "the run finished before it could be killed"
    killed_at = int(latest_checkpoint(checkpoints_dir(out)).name.split("-")[1])

    rerun = subprocess.run(command(tiny_triplets, out), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "resuming" in rerun.stdout and f"step {killed_at}" in rerun.stdout
    card = json.loads((out / "training_card.json").read_text())
    assert card["resumed_from_step"] == killed_at and card["steps"] == MAX_STEPS
    assert card["dev_before"] and card["wall_time_s"] > 0
