"""Step 2: fine-tune the embedder on the triplets from step 0 (contrastive loss, in-batch + hard negatives)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.options import check_options, option
from ragtune.steps.training_paths import data_option, overwrite_option, with_training_paths
from train.config import TrainConfig


@dataclass
class TrainStepConfig:
    data: str | None = data_option(
        "runs/<dataset>/final (runs/finetuned/final for O*NET), where steps 3-5 look for the fine-tuned model"
    )
    train: TrainConfig = field(default_factory=TrainConfig)
    overwrite: bool = overwrite_option("model")
    search: int = option(0, help="run N Optuna trials first, then train the best (0 = off)", min=0)
    search_steps: int = option(20, help="optimizer steps per search trial", min=1)

    def __post_init__(self):
        check_options(self)


@dataclass
class TrainStepResult:
    out: Path  # the fine-tuned model folder (training_card.json beside it)
    action: str  # trained, resumed or reused
    metric: str
    dev_before: float  # the dev metric of the base model
    dev_after: float  # ... and of the fine-tuned one
    card: dict  # training_card.json


def with_default_paths(cfg: TrainConfig, data: str | None = None) -> TrainConfig:
    """Empty triplets/out mean the dataset's triplets and its fine-tuned model folder."""
    from corpus.paths import finetuned_dir

    return with_training_paths(cfg, data, finetuned_dir)


def run(cfg: TrainStepConfig) -> TrainStepResult:
    from corpus.output_location import check_output_dir
    from train.fine_tune import fine_tune

    tcfg = with_default_paths(cfg.train, cfg.data)
    check_output_dir(tcfg.out)
    if cfg.search:
        from train.search import search

        tcfg = search(tcfg, cfg.search, cfg.search_steps)
    result = fine_tune(tcfg, overwrite=cfg.overwrite)
    card = {**result.card, "out": str(result.out)}
    metric = card["metric"]
    return TrainStepResult(
        Path(result.out),
        result.action,
        metric,
        card["dev_before"].get(metric, 0.0),
        card["dev_after"].get(metric, 0.0),
        card,
    )


def show(result: TrainStepResult) -> None:
    from corpus.console import console
    from train.tables import dev_table, run_table

    console.print(run_table(result.card))
    console.print(dev_table(result.card))
    if result.dev_after <= result.dev_before:
        console.print(
            f"[yellow]warning:[/] dev {result.metric} did not improve over the base model; try a lower --lr, "
            "more --max-steps or other --num-negatives"
        )
    console.print(f"[green]fine-tuned model:[/] {result.out} (training_card.json beside it)")
