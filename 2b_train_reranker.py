#!/usr/bin/env python
"""Step 2b: train a cross-encoder reranker on the triplets from step 0 (positives + mined hard negatives)."""

from __future__ import annotations

import argparse
import dataclasses

import corpus  # noqa: F401  (offline before anything loads a model)
from corpus.cli import ArgumentParser, exit_with


def parse_args(argv):
    from corpus.paths import DEFAULT_DATASET, RUNS_DIR, triplets_dir
    from train.reranker import RerankerConfig

    defaults = {"triplets": str(triplets_dir(DEFAULT_DATASET)), "out": str(RUNS_DIR / "reranker" / "final")}
    p = ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    # one flag per config field, help and bounds from the field (RerankerConfig checks the values)
    for f in dataclasses.fields(RerankerConfig):
        flag = "--" + f.name.replace("_", "-")
        default = defaults.get(f.name, f.default)
        if f.type == "bool":
            p.add_argument(flag, action="store_true", help=f.metadata["help"])
        else:
            kind = {"int": int, "float": float}.get(f.type, str)
            p.add_argument(flag, type=kind, default=default, help=f.metadata["help"])
    p.add_argument("--overwrite", action="store_true", help="discard a finished reranker or checkpoints in --out")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from corpus.console import console
    from train.reranker import RerankerConfig, train_reranker
    from train.tables import reranker_table

    cfg = RerankerConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(RerankerConfig)})
    result = train_reranker(cfg, overwrite=args.overwrite)
    console.print(reranker_table({**result.card, "out": str(result.out)}))
    console.print(f"[green]reranker:[/] {result.out} (training_card.json beside it)")
    return result


if __name__ == "__main__":
    exit_with(main)
