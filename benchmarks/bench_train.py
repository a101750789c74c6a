#!/usr/bin/env python
"""Benchmark of the default fine-tuning run: wall time, dev metrics, and test MRR@10/Hit@k over the 800-document pool.

    .venv/bin/python benchmarks/bench_train.py                     # the default run into runs/bench/train
    .venv/bin/python benchmarks/bench_train.py -- --lr 5e-5        # anything after -- goes to `ragtune train`

Not a test: figures depend on the machine and its load. Each run starts fresh (--overwrite).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads

from corpus.paths import RUNS_DIR  # noqa: E402


def test_metrics(model_path: str, dataset: str, pool_size: int) -> dict[str, float]:
    """MRR@10 and Hit@1/10 on the test split over the candidate pool from 1_build_corpus.py."""
    import numpy as np

    from corpus.beir import load_dataset, read_pool
    from corpus.models import load_embedder
    from corpus.paths import default_pool_file
    from harness.retrieval import Retriever

    ds = load_dataset(Path(dataset))
    pool_file = default_pool_file(ds.path, pool_size)
    if not pool_file.exists():
        return {}
    relevant = ds.relevant("test")
    qids = sorted(relevant)
    retriever = Retriever(load_embedder(model_path), read_pool(pool_file))
    hits = retriever.search([ds.queries[q] for q in qids], 10)
    ranks = [next((h.rank for h in row if h.doc_id in relevant[q]), None) for q, row in zip(qids, hits, strict=False)]
    return {
        "test MRR@10": float(np.mean([1 / r if r else 0.0 for r in ranks])),
        "test Hit@1": float(np.mean([r == 1 for r in ranks])),
        "test Hit@10": float(np.mean([r is not None for r in ranks])),
    }


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(RUNS_DIR / "bench" / "train"))
    p.add_argument("--pool-size", type=int, default=800)
    p.add_argument("--base", action="store_true", help="also report the base model's test figures")
    args = p.parse_args(own)
    from ragtune.cli import run_step

    start = time.perf_counter()
    result = run_step("train", ["--out", args.out, "--overwrite", *extra])
    wall = time.perf_counter() - start
    card = result.card
    print(
        f"wall time (script, incl. loading and dev evaluations): {wall:.0f} s; training {card['wall_time_s']:.0f} s; "
        f"steps {card['steps']} (best {card['best_step']})"
    )
    for label, before in card["dev_before"].items():
        print(f"dev {label}: {before:.4f} -> {card['dev_after'][label]:.4f} ({card['dev_after'][label] - before:+.4f})")
    for label, steps in (("dev history", card["dev_history"]),):
        print(label + ": " + ", ".join(f"{s}: {m.get(card['metric'], 0):.4f}" for s, m in steps.items()))
    after = test_metrics(args.out, card["dataset"], args.pool_size)
    before = test_metrics("base", card["dataset"], args.pool_size) if args.base else {}
    for label, value in after.items():
        shown = f"{before[label]:.4f} -> " if label in before else ""
        print(f"{label}: {shown}{value:.4f}")


if __name__ == "__main__":
    main()
