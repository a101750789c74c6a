"""Fixtures of the fine-tuning tests: triplets mined from the tiny O*NET dataset, the script module, a fast config."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES


@pytest.fixture(scope="session")
def tiny_triplets(tiny_dataset, minilm, tmp_path_factory) -> Path:
    """A triplet folder (train.jsonl, dev.jsonl, card.json) built by the real stage-0 code. Read-only."""
    import corpus.paths
    from corpus.beir import load_dataset
    from train.triplet_data import TripletConfig, build_triplets

    out = tmp_path_factory.mktemp("tiny_triplets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", out / "emb_cache")
        # the six own_docs postings as outside documents: the "file of your own" path, and fast
        folder, _, _ = build_triplets(
            load_dataset(tiny_dataset),
            minilm,
            TripletConfig(out=str(out / "triplets"), outside=str(FIXTURES / "own_docs")),
        )
    return folder


@pytest.fixture(scope="session")
def train_script():
    from ragtune.cli import entry

    class Step:
        main = staticmethod(entry("train"))

    return Step


@pytest.fixture()
def fast_config(tiny_triplets, tmp_path):
    """A run of a few real optimizer steps on CPU: short sequences, small batches, a checkpoint every 2 steps."""
    from train.config import TrainConfig

    def make(**overrides) -> TrainConfig:
        settings = dict(
            triplets=str(tiny_triplets),
            out=str(tmp_path / "model"),
            batch_size=4,
            max_steps=2,
            eval_steps=2,
            max_seq_length=32,
            learning_rate=5e-4,
            device="cpu",
            eval_batch_size=16,
        )
        settings.update(overrides)
        return TrainConfig(**settings)

    return make
