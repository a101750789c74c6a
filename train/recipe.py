"""The settings the data decides when the user leaves them unset: sequence length, steps, evaluation interval.

Defaults tuned on one dataset do not carry over as fixed numbers (a length of 160 truncates abstracts; 80 steps
are 20 epochs of a small set), so each unset setting has a rule stated in its help text, applied here once, and
the outcome is written to the training card.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass

from train.config import ROW_OVERHEAD, STEP_TOKENS, STEPS_MIN, TrainConfig, scaled_steps
from train.examples import TrainingData, usable_triplets
from train.seq_length import SeqLengthChoice, choose_seq_length, token_lengths


@dataclass
class Recipe:
    rows: int  # training rows with enough negatives of each kind
    steps: int
    steps_how: str  # "asked", "epochs" or the scaling rule
    tokens_per_row: float  # document tokens a row encodes (positive + negatives, each cut at max_seq_length)
    eval_steps: int
    seq_length: SeqLengthChoice

    def card(self) -> dict:
        return asdict(self)


# rows whose documents are tokenised for the mean: within about 1% of the whole set's mean, in a second
ROW_SAMPLE = 1000


def row_documents(t, cfg: TrainConfig) -> list[str]:
    """The documents one training row feeds the model: its positive and the negatives of the columns it uses."""
    return [t.positive, *t.outside[: cfg.outside_negatives], *t.negatives[: cfg.num_negatives]]


def training_documents(rows: list, cfg: TrainConfig) -> list[str]:
    """Every document the training rows feed the model."""
    return [text for t in rows for text in row_documents(t, cfg)]


def tokens_per_row(model, rows: list, cfg: TrainConfig, seq_length: int) -> float:
    """Mean document tokens of a row, each document cut at seq_length, over an evenly spread sample of rows."""
    if not rows:
        return 0.0
    sample = rows[:: math.ceil(len(rows) / ROW_SAMPLE)]
    per_row = [row_documents(t, cfg) for t in sample]
    lengths = iter(token_lengths(model, [d for docs in per_row for d in docs]))
    return sum(min(next(lengths), seq_length) for docs in per_row for _ in docs) / len(sample)


def with_outside_default(cfg: TrainConfig, data: TrainingData) -> TrainConfig:
    """An unset --outside-negatives: one per row when step 0 mined them (the built-in datasets), none otherwise."""
    if cfg.outside_negatives is not None:
        return cfg
    return dataclasses.replace(cfg, outside_negatives=1 if any(t.outside for t in data.triplets) else 0)


def resolve_recipe(cfg: TrainConfig, data: TrainingData, model) -> tuple[TrainConfig, Recipe]:
    """cfg with outside_negatives, max_seq_length, max_steps and eval_steps filled in, and how each was chosen."""
    cfg = with_outside_default(cfg, data)
    usable = usable_triplets(data.triplets, cfg.num_negatives, cfg.outside_negatives)
    seq = choose_seq_length(model, training_documents(usable, cfg), cfg.seq_length_coverage, cfg.max_seq_length)
    row_tokens = tokens_per_row(model, usable, cfg, seq.value)
    if cfg.max_steps is None:
        steps = scaled_steps(len(usable), cfg.batch_size, row_tokens)
        how = (
            f"one epoch, at least {STEPS_MIN}, at most {STEP_TOKENS:,} tokens ({row_tokens:.0f} + {ROW_OVERHEAD} a row)"
        )
    elif cfg.max_steps == 0:
        steps, how = math.ceil(len(usable) / cfg.batch_size * cfg.epochs), "epochs"
    else:
        steps, how = cfg.max_steps, "asked"
    eval_steps = cfg.eval_steps or max(1, math.ceil(steps / 2))
    resolved = dataclasses.replace(
        cfg, max_seq_length=seq.value, eval_steps=eval_steps, max_steps=cfg.max_steps if cfg.max_steps == 0 else steps
    )
    return resolved, Recipe(len(usable), steps, how, round(row_tokens, 1), eval_steps, seq)
