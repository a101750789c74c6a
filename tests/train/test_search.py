"""The Optuna search: short trials scored on dev, kept in a study that a rerun continues, a CSV of results."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow]


def test_search_runs_trials_writes_results_and_resumes(fast_config, tmp_path, monkeypatch):
    import corpus.paths
    from train.search import RESULTS_FILE, search

    monkeypatch.setattr(corpus.paths, "REPORTS_DIR", tmp_path / "reports")
    cfg = fast_config(out=str(tmp_path / "runs" / "final"))
    best = search(cfg, n_trials=2, steps=1)
    table = pd.read_csv(tmp_path / "reports" / RESULTS_FILE)
    assert len(table) == 2 and table["dev_mrr@10"].between(0, 1).all()
    winner = table.loc[table["dev_mrr@10"].idxmax()]
    assert best.learning_rate == winner["learning_rate"] and best.batch_size == winner["batch_size"]
    assert best.max_steps == cfg.max_steps, "the final run keeps its own length; trials only pick settings"
    # the study lives beside the output: asking for the same two trials again trains nothing new
    assert search(cfg, n_trials=2, steps=1) == best
    assert len(pd.read_csv(tmp_path / "reports" / RESULTS_FILE)) == 2
