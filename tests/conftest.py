"""Shared fixtures: a tiny real dataset (20 O*NET occupations) and the shipped MiniLM loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.offline import force_offline

# the suite never contacts a hub: set here, at the top, because importing ragtune's packages no longer does it
force_offline()

FIXTURES = Path(__file__).parent / "fixtures"


ONET_TINY = FIXTURES / "onet_tiny"


def tiny_onet_config():
    from corpus.onet_dataset import OnetConfig

    return OnetConfig(doc_tasks=4, test_occupations=8, test_queries=10, dev_occupations=6, dev_queries=8)


@pytest.fixture(scope="session")
def tiny_onet_records():
    from corpus.sources.onet import read_occupations, read_tasks

    return read_occupations(ONET_TINY / "Occupation Data.txt"), read_tasks(ONET_TINY / "Task_DWA.csv")


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, tiny_onet_records) -> Path:
    """A BEIR folder: 20 documents, ~10 test, ~8 dev and the rest train queries. Treat it as read-only."""
    from corpus.beir import write_dataset
    from corpus.onet_dataset import build_onet_dataset

    out = tmp_path_factory.mktemp("tiny_beir")
    ds, _ = build_onet_dataset(*tiny_onet_records, tiny_onet_config(), out)
    write_dataset(ds, out)
    return out


@pytest.fixture(scope="session")
def minilm():
    from corpus.models import load_embedder

    return load_embedder("base", device="cpu")


@pytest.fixture()
def isolated_cache(tmp_path, monkeypatch):
    """Point the embedding cache at a fresh folder so tests never see each other's arrays."""
    import corpus.paths

    folder = tmp_path / "emb_cache"
    monkeypatch.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", folder)
    return folder
