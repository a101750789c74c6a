#!/usr/bin/env python
"""Step 1: the candidate pool for evaluation: relevant documents plus distractors, exactly --size documents."""

from __future__ import annotations

import corpus  # noqa: F401
from corpus.cli import ArgumentParser, exit_with


def parse_args(argv):
    p = ArgumentParser(description=__doc__)
    p.add_argument("--data", help="BEIR folder or flat file (default: O*NET)")
    p.add_argument("--size", type=int, default=800, help="number of documents in the pool (800 to 20,000+)")
    p.add_argument("--out", help="output JSONL (default: <data>/corpus_<size>.jsonl)")
    p.add_argument("--split", default="test", help="split whose relevant documents must be in the pool")
    p.add_argument("--triplets", help="triplets folder whose negatives are excluded (default: <data>/triplets)")
    p.add_argument("--no-external", action="store_true", help="only the dataset's own documents as distractors")
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args(argv)
    if args.size < 1:
        p.error("--size must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    from pathlib import Path

    from corpus.console import console
    from corpus.datasets import open_dataset
    from corpus.paths import default_pool_file, triplets_dir
    from corpus.pool import PoolConfig, build_pool, external_distractors, write_pool
    from corpus.report import pool_table
    from corpus.triplets import training_negative_ids

    ds = open_dataset(args.data)
    tdir = Path(args.triplets) if args.triplets else triplets_dir(ds.path)
    excluded = training_negative_ids(tdir)
    if not excluded:
        console.print(f"[yellow]note:[/] no training triplets in {tdir}: no negatives to exclude (run step 0 first)")
    extra = [] if args.no_external else [("external", external_distractors)]
    with console.status(f"building a pool of {args.size} documents"):
        pool, counts = build_pool(ds, PoolConfig(args.size, args.split, args.seed), excluded, extra)
    out = Path(args.out) if args.out else default_pool_file(ds.path, args.size)
    write_pool(out, pool)
    console.print(pool_table(counts, len(excluded), out))


if __name__ == "__main__":
    exit_with(main)
