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


def _quick_run(config_class, tiny_triplets, out, settings: dict, overrides: dict):
    """A run of a few real optimizer steps on CPU: short sequences, small batches, a checkpoint every 2 steps."""
    quick = dict(triplets=str(tiny_triplets), out=str(out), max_steps=2, eval_steps=2, learning_rate=5e-4, device="cpu")
    return config_class(**{**quick, **settings, **overrides})


@pytest.fixture()
def fast_config(tiny_triplets, tmp_path):
    """An embedder run of a few real optimizer steps (TrainConfig; keyword arguments override)."""
    from train.config import TrainConfig

    def make(**overrides) -> TrainConfig:
        settings = dict(batch_size=4, max_seq_length=32, eval_batch_size=16)
        return _quick_run(TrainConfig, tiny_triplets, tmp_path / "model", settings, overrides)

    return make


@pytest.fixture()
def fast_reranker_config(tiny_triplets, tmp_path):
    """A reranker run of a few real optimizer steps (RerankerConfig; keyword arguments override)."""
    from train.reranker import RerankerConfig

    def make(**overrides) -> RerankerConfig:
        settings = dict(batch_size=8, max_seq_length=48, dev_candidates=5, num_negatives=1)
        return _quick_run(RerankerConfig, tiny_triplets, tmp_path / "reranker", settings, overrides)

    return make
