"""Resolving a --data argument: the default O*NET set (built on first use), a BEIR folder, or a flat file."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from corpus.beir import Dataset, load_dataset, write_dataset
from corpus.flat import FLAT_SUFFIXES, convert_flat
from corpus.jsonl import write_json
from corpus.onet_dataset import OnetConfig, OnetStats, build_onet_dataset
from corpus.paths import DATA_DIR, DEFAULT_DATASET
from corpus.sources.onet import OCCUPATIONS, TASKS, load_onet

CARD = "dataset_card.json"


def prepare_onet(
    out: Path = DEFAULT_DATASET, cfg: OnetConfig | None = None, overwrite: bool = False
) -> tuple[Path, dict]:
    """Build the O*NET dataset unless one built with the same settings is already there."""
    cfg = cfg or OnetConfig()
    out = Path(out)
    card_path = out / CARD
    if card_path.exists() and not overwrite:
        card = json.loads(card_path.read_text())
        if card.get("config") == asdict(cfg):
            return out, card
    occupations, tasks = load_onet()
    ds, stats = build_onet_dataset(occupations, tasks, cfg, out)
    write_dataset(ds, out)
    card = {
        "name": "onet-job-search",
        "config": asdict(cfg),
        "stats": stats.as_dict(),
        "sources": [f"{s.package}=={s.version} ({s.licence})" for s in (OCCUPATIONS, TASKS)],
        "fingerprint": ds.fingerprint(),
    }
    write_json(card_path, card)
    return out, card


def resolve_data_dir(data: str | Path | None) -> Path:
    if data is None or Path(data) == DEFAULT_DATASET:
        return prepare_onet()[0]
    path = Path(data)
    if path.is_file() and path.suffix.lower() in FLAT_SUFFIXES:
        return convert_flat(path, DATA_DIR / path.stem)
    return path


def open_dataset(data: str | Path | None) -> Dataset:
    return load_dataset(resolve_data_dir(data))


def onet_stats_from_card(path: Path) -> OnetStats | None:
    card = Path(path) / CARD
    if not card.exists():
        return None
    return OnetStats(**json.loads(card.read_text()).get("stats", {}))
