"""Where every stage reads and writes by default: one place, so scripts never repeat a path."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# RAGTUNE_HOME moves every default data/, runs/, reports/ and cache/ folder (tests run the scripts in a sandbox)
HOME = Path(os.environ.get("RAGTUNE_HOME") or ROOT)
DATA_DIR = HOME / "data"
RAW_DIR = DATA_DIR / "raw"
DEFAULT_DATASET = DATA_DIR / "onet"
RUNS_DIR = HOME / "runs"
DEFAULT_FINETUNED = RUNS_DIR / "finetuned" / "final"
REPORTS_DIR = HOME / "reports"
CACHE_DIR = HOME / "cache"
EMBEDDING_CACHE_DIR = CACHE_DIR / "embeddings"


def triplets_dir(dataset: Path) -> Path:
    return Path(dataset) / "triplets"


def default_pool_file(dataset: Path, size: int) -> Path:
    return Path(dataset) / f"corpus_{size}.jsonl"
