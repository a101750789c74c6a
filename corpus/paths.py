"""Where every stage reads and writes by default: one place, so scripts never repeat a path."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
DEFAULT_DATASET = DATA_DIR / "onet"
RUNS_DIR = ROOT / "runs"
DEFAULT_FINETUNED = RUNS_DIR / "finetuned" / "final"
REPORTS_DIR = ROOT / "reports"
CACHE_DIR = ROOT / "cache"
EMBEDDING_CACHE_DIR = CACHE_DIR / "embeddings"


def triplets_dir(dataset: Path) -> Path:
    return Path(dataset) / "triplets"


def default_pool_file(dataset: Path, size: int) -> Path:
    return Path(dataset) / f"corpus_{size}.jsonl"
