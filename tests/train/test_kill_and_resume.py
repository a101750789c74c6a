"""kill -9 in the middle of a real 2_train_embedder.py run, then the same command again: it resumes from the
last complete checkpoint (optimizer and scheduler too) instead of starting over, and says so."""

from __future__ import annotations

import pytest

from tests.helpers import kill_at_a_checkpoint_then_rerun, training_command

pytestmark = [pytest.mark.slow]

MAX_STEPS = 12


def test_kill_9_after_a_checkpoint_then_rerun_resumes(tiny_triplets, tmp_path):
    out = tmp_path / "model"
    flags = ("--lr", "5e-4", "--eval-batch-size", "16")
    kill_at_a_checkpoint_then_rerun(
        training_command("2_train_embedder.py", tiny_triplets, out, MAX_STEPS, *flags), out, MAX_STEPS
    )
