#!/usr/bin/env python
"""Seconds per training forward + backward of one batch's documents: one padded pass (sentence-transformers' merged
columns) against length-sorted passes of --rows texts (train/length_sorted.py), in fp32 and bf16.

    .venv/bin/python benchmarks/bench_training_forward.py [--triplets data/onet/triplets] [--batch 32] [--rows 4 8 16]

The batch is the default run's: positives and one outside negative per row, read from step 0's triplets (seeded
sample). Printed, never asserted: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads

from corpus.paths import DATA_DIR  # noqa: E402


def default_batch(triplets: Path, batch: int, max_seq_length: int):
    """The model in training mode and the default run's document features: a seeded sample of rows' positives and
    first outside negatives, merged into one padded batch as sentence-transformers does."""
    from sentence_transformers.base.losses.merged_forward import merge_feature_batches

    from corpus.models import load_embedder
    from corpus.triplets import read_triplets

    rows = read_triplets(triplets / "train.jsonl")
    rows = random.Random(13).sample([t for t in rows if t.outside] or rows, batch)
    model = load_embedder("base", device="cpu").model
    model.max_seq_length = max_seq_length
    model.train()
    columns = [[t.positive for t in rows]] + ([[t.outside[0] for t in rows]] if rows[0].outside else [])
    return model, merge_feature_batches([model.preprocess(c) for c in columns])


def median_seconds(model, module, features: dict, bf16: bool, repeats: int) -> float:
    """Median wall time of one forward + backward of the features through module (the model or a wrapper)."""
    import torch

    times = []
    for _ in range(repeats):
        model.zero_grad()
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            emb = module(dict(features))["sentence_embedding"]
        emb.float().sum().backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--triplets", default=str(DATA_DIR / "onet" / "triplets"))
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--rows", type=int, nargs="+", default=[4, 8, 16])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-seq-length", type=int, default=256)
    args = p.parse_args()

    import torch
    from rich.table import Table

    from corpus.console import console
    from train.length_sorted import LengthSortedForward

    model, features = default_batch(Path(args.triplets), args.batch, args.max_seq_length)
    real = int(features["attention_mask"].sum())
    console.print(
        f"{features['input_ids'].shape[0]} documents, padded to {features['input_ids'].shape[1]} tokens: "
        f"{features['input_ids'].numel():,} token slots for {real:,} real tokens; torch threads {torch.get_num_threads()}"
    )
    table = Table(title="forward + backward of one batch's documents (median seconds)")
    for col in ("pass", "fp32 s", "bf16 s", "fp32 speed-up"):
        table.add_column(col, justify="right" if col != "pass" else "left")
    padded = None
    for r in [0, *args.rows]:  # 0: one padded pass (the wrapper hands the batch straight to the model)
        module = LengthSortedForward(model, r)
        fp32 = median_seconds(model, module, features, False, args.repeats)
        bf16 = median_seconds(model, module, features, True, args.repeats)
        padded = padded or fp32
        label = f"length-sorted, {r} per pass" if r else "one padded pass"
        table.add_row(label, f"{fp32:.2f}", f"{bf16:.2f}", f"{padded / fp32:.1f}×")
    console.print(table)


if __name__ == "__main__":
    main()
