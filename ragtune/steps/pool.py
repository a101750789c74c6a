"""Step 1: the candidate pool for evaluation: relevant documents plus distractors, exactly --size documents."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from corpus.datasets import DEFAULT_POOL_SIZE
from corpus.options import check_options, option
from corpus.pool import EXTERNAL_SOURCES
from corpus.progress import working


@dataclass
class PoolStepConfig:
    data: str | None = option(None, help="BEIR folder or flat file (default: O*NET)")
    size: int = option(DEFAULT_POOL_SIZE, help="number of documents in the pool (800 to 20,000+)", min=1)
    out: str | None = option(None, help="output JSONL (default: <data>/corpus_<size>.jsonl)")
    split: str = option("test", help="split whose relevant documents must be in the pool")
    triplets: str | None = option(None, help="triplets folder whose negatives are excluded (default: <data>/triplets)")
    no_external: bool = option(False, help="only the dataset's own documents as distractors")
    skip_source: list[str] = option(
        default_factory=list,
        help="outside distractor sources never drawn (a dataset built from one, e.g. ESCO's esco-skill, always "
        "skips it)",
        choices=EXTERNAL_SOURCES,
    )
    seed: int = option(13, help="seed of the distractor draw")

    def __post_init__(self):
        check_options(self)


@dataclass
class PoolResult:
    out: Path
    documents: int
    counts: Counter  # documents per source (relevant, dataset, external)
    excluded_negatives: int  # training negatives kept out of the pool


def run(cfg: PoolStepConfig) -> PoolResult:
    from corpus.console import console
    from corpus.datasets import open_dataset
    from corpus.output_location import check_output_file
    from corpus.paths import default_pool_file, triplets_dir
    from corpus.pool import PoolConfig, build_pool, external_distractors, write_pool
    from corpus.triplets import training_negative_ids

    ds = open_dataset(cfg.data)
    out = check_output_file(cfg.out or default_pool_file(ds.path, cfg.size))
    tdir = Path(cfg.triplets) if cfg.triplets else triplets_dir(ds.path)
    excluded = training_negative_ids(tdir)
    if not excluded:
        console.print(f"[yellow]note:[/] no training triplets in {tdir}: no negatives to exclude (run step 0 first)")
    extra = [] if cfg.no_external else [("external", external_distractors)]
    with working(f"building a pool of {cfg.size} documents"):
        pool, counts = build_pool(
            ds, PoolConfig(cfg.size, cfg.split, cfg.seed, tuple(cfg.skip_source)), excluded, extra
        )
    write_pool(out, pool)
    return PoolResult(out, len(pool), counts, len(excluded))


def show(result: PoolResult) -> None:
    from corpus.console import console
    from corpus.tables import pool_table

    console.print(pool_table(result.counts, result.excluded_negatives, result.out))
