"""One --data carries a user's run through every step: the dataset's folder, its triplets and its fine-tuned model
are derived from it the same way in steps 0-5."""

from __future__ import annotations

from pathlib import Path

import pytest

import corpus.paths
from corpus.datasets import dataset_dir, resolve_data_dir
from corpus.paths import finetuned_dir, reranker_dir


def test_default_dataset_keeps_the_demo_paths():
    assert dataset_dir(None) == corpus.paths.DEFAULT_DATASET
    assert finetuned_dir(None) == finetuned_dir(corpus.paths.DEFAULT_DATASET) == corpus.paths.DEFAULT_FINETUNED
    assert reranker_dir(None) == corpus.paths.RUNS_DIR / "reranker" / "final"


def test_another_dataset_gets_its_own_model_folders(tmp_path):
    beir = tmp_path / "scifact"
    assert dataset_dir(str(beir)) == beir
    assert finetuned_dir(beir) == corpus.paths.RUNS_DIR / "scifact" / "final"
    assert reranker_dir(beir) == corpus.paths.RUNS_DIR / "scifact-reranker" / "final"
    assert finetuned_dir(beir) != finetuned_dir(tmp_path / "nfcorpus")


def test_a_flat_file_names_the_folder_its_conversion_uses(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus.paths, "DATA_DIR", tmp_path / "data")
    flat = tmp_path / "seed.csv"
    flat.write_text("query,positive\nwho fixes brakes,A mechanic repairs brakes.\n", encoding="utf-8")
    expected = dataset_dir(str(flat))
    assert not expected.exists()  # named without converting anything
    assert resolve_data_dir(str(flat)) == expected and expected.exists()


def test_train_and_eval_defaults_follow_the_dataset(tmp_path, monkeypatch):
    from harness.arms import FINETUNED, parse_arms

    monkeypatch.setattr(corpus.paths, "RUNS_DIR", tmp_path / "runs")
    from ragtune.steps.train import TrainStepConfig, with_default_paths

    beir = tmp_path / "mydata"
    cfg = with_default_paths(TrainStepConfig(data=str(beir)).train, str(beir))
    assert Path(cfg.triplets) == beir / "triplets" and Path(cfg.out) == finetuned_dir(beir)
    model = finetuned_dir(beir)
    assert [a.name for a in parse_arms(None, model)] == ["base"]  # not trained yet: a note, and base alone
    model.mkdir(parents=True)
    (model / "modules.json").write_text("[]", encoding="utf-8")
    arms = parse_arms(None, model)
    assert [(a.name, a.model) for a in arms] == [("base", "base"), (FINETUNED, str(model))]


def test_a_relative_model_path_is_found_under_ragtune_home_too(tmp_path, monkeypatch):
    """Step 2 writes runs/<data>/final under RAGTUNE_HOME; `finetuned=runs/<data>/final` must find it from anywhere."""
    from corpus.errors import RagtuneError
    from corpus.models import resolve_model_path

    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    model = home / "runs" / "mydata" / "final"
    model.mkdir(parents=True)
    (model / "modules.json").write_text("[]", encoding="utf-8")
    elsewhere.mkdir()
    monkeypatch.setattr(corpus.paths, "HOME", home)
    monkeypatch.chdir(elsewhere)
    assert resolve_model_path("runs/mydata/final") == model
    (elsewhere / "runs" / "mydata" / "final").mkdir(parents=True)
    (elsewhere / "runs" / "mydata" / "final" / "config.json").write_text("{}", encoding="utf-8")
    assert resolve_model_path("runs/mydata/final") == Path("runs/mydata/final")  # the working directory comes first
    with pytest.raises(RagtuneError, match="does not exist"):
        resolve_model_path("runs/other/final")
