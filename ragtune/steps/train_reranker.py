"""Step 2b: train a cross-encoder reranker on the triplets from step 0 (positives + mined hard negatives), for
step 3's reranked arms (`NAME=a>runs/reranker/final`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.options import check_options
from ragtune.steps.training_paths import data_option, overwrite_option, with_training_paths
from train.reranker import RerankerConfig


@dataclass
class TrainRerankerConfig:
    data: str | None = data_option("runs/<dataset>-reranker/final (runs/reranker/final for O*NET)")
    reranker: RerankerConfig = field(default_factory=RerankerConfig)
    overwrite: bool = overwrite_option("reranker")

    def __post_init__(self):
        check_options(self)


@dataclass
class TrainRerankerResult:
    out: Path  # the reranker folder (training_card.json beside it)
    action: str  # trained, resumed or reused
    training_minutes: float
    dev_before: dict[str, float]  # the untrained head's dev reranking
    dev_after: dict[str, float]
    card: dict


def with_default_paths(cfg: RerankerConfig, data: str | None = None) -> RerankerConfig:
    """Empty triplets/out mean the dataset's triplets and its reranker folder."""
    from corpus.paths import reranker_dir

    return with_training_paths(cfg, data, reranker_dir)


def run(cfg: TrainRerankerConfig) -> TrainRerankerResult:
    from train.reranker import train_reranker

    result = train_reranker(with_default_paths(cfg.reranker, cfg.data), overwrite=cfg.overwrite)
    card = {**result.card, "out": str(result.out)}
    return TrainRerankerResult(
        Path(result.out),
        result.action,
        float(card.get("wall_time_s", 0.0)) / 60.0,
        card.get("dev_before", {}),
        card.get("dev_after", {}),
        card,
    )


def show(result: TrainRerankerResult) -> None:
    from corpus.console import console
    from train.tables import reranker_table

    console.print(reranker_table(result.card))
    if result.dev_after.get("nDCG@10", 0.0) <= result.dev_before.get("nDCG@10", 0.0):
        console.print("[yellow]warning:[/] dev nDCG@10 did not improve over the untrained head")
    console.print(f"[green]reranker:[/] {result.out} (training_card.json beside it)")
