"""The settings the data decides when the user leaves them unset: sequence length, steps, evaluation interval.

Defaults tuned on one dataset do not carry over as fixed numbers (a length of 160 truncates abstracts; 80 steps
are 20 epochs of a small set), so each unset setting has a rule stated in its help text, applied here once, and
the outcome is written to the training card.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass

from train.config import STEPS_MAX, STEPS_MIN, TrainConfig, scaled_steps
from train.examples import TrainingData, usable_triplets
from train.seq_length import SeqLengthChoice, choose_seq_length


@dataclass
class Recipe:
    rows: int  # training rows with enough negatives of each kind
    steps: int
    steps_how: str  # "asked", "epochs" or the scaling rule
    eval_steps: int
    seq_length: SeqLengthChoice

    def card(self) -> dict:
        return asdict(self)


def training_documents(data: TrainingData, cfg: TrainConfig) -> list[str]:
    """The documents training feeds the model: positives and the negatives of the columns it uses."""
    texts = []
    for t in usable_triplets(data.triplets, cfg.num_negatives, cfg.outside_negatives):
        texts.append(t.positive)
        texts.extend(t.outside[: cfg.outside_negatives])
        texts.extend(t.negatives[: cfg.num_negatives])
    return texts


def with_outside_default(cfg: TrainConfig, data: TrainingData) -> TrainConfig:
    """An unset --outside-negatives: one per row when step 0 mined them (the built-in datasets), none otherwise."""
    if cfg.outside_negatives is not None:
        return cfg
    return dataclasses.replace(cfg, outside_negatives=1 if any(t.outside for t in data.triplets) else 0)


def resolve_recipe(cfg: TrainConfig, data: TrainingData, model) -> tuple[TrainConfig, Recipe]:
    """cfg with outside_negatives, max_seq_length, max_steps and eval_steps filled in, and how each was chosen."""
    cfg = with_outside_default(cfg, data)
    rows = len(usable_triplets(data.triplets, cfg.num_negatives, cfg.outside_negatives))
    documents_per_row = 1 + cfg.num_negatives + cfg.outside_negatives
    if cfg.max_steps is None:
        steps = scaled_steps(rows, cfg.batch_size, documents_per_row)
        how = f"one epoch within [{STEPS_MIN}, {STEPS_MAX}] / {documents_per_row} documents per row"
    elif cfg.max_steps == 0:
        steps, how = math.ceil(rows / cfg.batch_size * cfg.epochs), "epochs"
    else:
        steps, how = cfg.max_steps, "asked"
    eval_steps = cfg.eval_steps or max(1, math.ceil(steps / 2))
    seq = choose_seq_length(model, training_documents(data, cfg), cfg.seq_length_coverage, cfg.max_seq_length)
    resolved = dataclasses.replace(
        cfg, max_seq_length=seq.value, eval_steps=eval_steps, max_steps=cfg.max_steps if cfg.max_steps == 0 else steps
    )
    return resolved, Recipe(rows, steps, how, eval_steps, seq)
