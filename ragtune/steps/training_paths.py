"""What the two training steps (2: the embedder, 2b: the reranker) share: the --data option that places their
triplets and their output folder, and the --overwrite option."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from corpus.options import option


def data_option(out_default: str):
    """--data: the dataset whose triplets the step trains on; out_default says where its --out then goes."""
    return option(
        None,
        help="dataset whose triplets step 0 wrote (default: O*NET): --triplets defaults to <data>/triplets and --out "
        f"to {out_default}",
    )


def overwrite_option(what: str):
    return option(False, help=f"discard a finished {what} or checkpoints in --out")


def with_training_paths(cfg, data: str | None, out_dir: Callable[[Path], Path]):
    """Empty triplets/out mean the dataset's triplets and out_dir(dataset) (paths live on the top floor)."""
    from corpus.datasets import dataset_dir
    from corpus.paths import triplets_dir

    dataset = dataset_dir(data)
    return replace(cfg, triplets=cfg.triplets or str(triplets_dir(dataset)), out=cfg.out or str(out_dir(dataset)))
