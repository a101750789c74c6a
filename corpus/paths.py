"""Where every stage reads and writes by default: one place, so scripts never repeat a path."""

from __future__ import annotations

import os
from pathlib import Path

# data/, runs/, reports/ and cache/ live under RAGTUNE_HOME, else under the folder ragtune is started from (the
# repository root for `make demo`), never beside the installed package: site-packages is no place for a user's runs.
# Files shipped inside a package are found from that package's own __file__, not from here.
HOME = Path(os.environ.get("RAGTUNE_HOME") or Path.cwd())
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


def finetuned_dir(dataset: Path | None = None) -> Path:
    """Where step 2 writes the model fine-tuned on a dataset and where steps 3-5 look for it by default:
    runs/finetuned/final for the default O*NET set, runs/<dataset folder name>/final for any other, so two
    datasets' models never overwrite each other and `--data` alone carries a user's run from step 0 to step 5."""
    if dataset is None or Path(dataset).resolve() == DEFAULT_DATASET.resolve():
        return DEFAULT_FINETUNED
    return RUNS_DIR / Path(dataset).name / "final"


def reranker_dir(dataset: Path | None = None) -> Path:
    """Where step 2b writes the cross-encoder trained on a dataset (runs/reranker/final for O*NET)."""
    if dataset is None or Path(dataset).resolve() == DEFAULT_DATASET.resolve():
        return RUNS_DIR / "reranker" / "final"
    return RUNS_DIR / f"{Path(dataset).name}-reranker" / "final"


def default_pool_file(dataset: Path, size: int) -> Path:
    return Path(dataset) / f"corpus_{size}.jsonl"
