"""kill -9 in the middle of a real 2b_train_reranker.py run, then the same command again: it resumes from the
last complete checkpoint through train.run_state, as step 2 does, and says so."""

from __future__ import annotations

import pytest

from tests.helpers import kill_at_a_checkpoint_then_rerun, training_command

MAX_STEPS = 10


@pytest.mark.slow
def test_kill_9_after_a_checkpoint_then_rerun_resumes(tiny_triplets, tmp_path):
    out = tmp_path / "reranker"
    flags = ("--num-negatives", "1", "--dev-candidates", "3")
    card = kill_at_a_checkpoint_then_rerun(
        training_command("2b_train_reranker.py", tiny_triplets, out, MAX_STEPS, *flags), out, MAX_STEPS
    )
    assert card["dev_before"] and card["wall_time_s"] > 0
