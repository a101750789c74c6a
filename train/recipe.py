"""The settings the data decides when the user leaves them unset: sequence length, steps, evaluation interval.

Defaults tuned on one dataset do not carry over as fixed numbers (a length of 160 truncates abstracts; 80 steps
are 20 epochs of a small set), so each unset setting has a rule stated in its help text, applied here once, and
the outcome is written to the training card.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

from corpus.errors import RagtuneError
from train.config import (
    NEGATIVES_RANK_MAX,
    QUERIES_PER_ROW_MAX,
    QUERY_OVERHEAD,
    ROW_OVERHEAD,
    STEP_TOKENS,
    STEPS_MIN,
    TrainConfig,
    counted_tokens,
    scaled_steps,
)
from train.dev_eval import SCORE, build_evaluator, dev_candidates
from train.examples import TrainingData, training_rows, usable_triplets
from train.seq_length import SeqLengthChoice, choose_seq_length, token_lengths, weigh_seq_length


@dataclass
class Recipe:
    rows: int  # training rows: usable triplets, or groups of queries_per_row of them sharing a positive
    queries_per_row: int
    queries_how: str  # "asked" or the rule
    num_negatives: int
    negatives_how: str  # "asked" or the rule with step 0's median positive rank
    steps: int
    steps_how: str  # "asked", "epochs" or the scaling rule
    # tokens a row encodes besides its first query: positive, negatives and further queries, each cut at max_seq_length
    # (a further query QUERY_OVERHEAD more)
    tokens_per_row: float
    eval_steps: int
    seq_length: SeqLengthChoice

    def card(self) -> dict:
        return asdict(self)


# dev candidates the sequence-length weighing scores the base model against, at both lengths: a long-document set's
# 2,000 candidates at 512 tokens would take minutes before training starts
WEIGH_CANDIDATES = 500
# rows whose documents are tokenised for the mean: within about 1% of the whole set's mean, in a second
ROW_SAMPLE = 1000


def row_documents(t, cfg: TrainConfig) -> list[str]:
    """The documents one training row feeds the model: its positive and the negatives of the columns it uses."""
    return [t.positive, *t.outside[: cfg.outside_negatives], *t.negatives[: cfg.num_negatives]]


def row_texts(group: list, cfg: TrainConfig) -> list[str]:
    """What a row of queries sharing a positive feeds the model besides its first query (which ROW_OVERHEAD
    counts): the first triplet's documents and the other queries."""
    return [*row_documents(group[0], cfg), *(t.query for t in group[1:])]


def training_documents(rows: list, cfg: TrainConfig) -> list[str]:
    """Every document the training rows feed the model."""
    return [text for t in rows for text in row_documents(t, cfg)]


def tokens_per_row(model, rows: list[list], cfg: TrainConfig, seq_length: int) -> float:
    """Mean tokens a row feeds the model besides its first query (row_texts), each text cut at seq_length and
    counted as counted_tokens says, a further query QUERY_OVERHEAD more, over an evenly spread sample of rows (groups
    of triplets sharing a positive)."""
    if not rows:
        return 0.0
    sample = rows[:: math.ceil(len(rows) / ROW_SAMPLE)]
    per_row = [row_texts(group, cfg) for group in sample]
    lengths = iter(token_lengths(model, [d for docs in per_row for d in docs]))
    texts = sum(counted_tokens(min(next(lengths), seq_length)) for docs in per_row for _ in docs)
    return (texts + QUERY_OVERHEAD * sum(len(group) - 1 for group in sample)) / len(sample)


def with_outside_default(cfg: TrainConfig, data: TrainingData) -> TrainConfig:
    """An unset --outside-negatives: one per row when step 0 mined them (the built-in datasets), none otherwise."""
    if cfg.outside_negatives is not None:
        return cfg
    return dataclasses.replace(cfg, outside_negatives=1 if any(t.outside for t in data.triplets) else 0)


def with_negatives_default(cfg: TrainConfig, data: TrainingData) -> tuple[TrainConfig, str]:
    """An unset --num-negatives: 1 when the base model ranked the median training positive at most
    NEGATIVES_RANK_MAX in step 0 (its card), else 0; and how it was chosen."""
    if cfg.num_negatives is not None:
        if cfg.loss == "gist" and cfg.num_negatives + cfg.outside_negatives > 1:
            raise RagtuneError(
                f"--loss gist takes one negative a row: --num-negatives {cfg.num_negatives} with "
                f"--outside-negatives {cfg.outside_negatives} gives {cfg.num_negatives + cfg.outside_negatives} "
                "(lower one, or use --loss cached-gist or mnrl)"
            )
        return cfg, "asked"
    if cfg.loss == "gist" and cfg.outside_negatives:
        # sentence-transformers' GISTEmbedLoss scores one negative column, and the outside negative holds it
        return dataclasses.replace(cfg, num_negatives=0), "--loss gist takes one negative a row: the outside one"
    rank = (data.triplet_card.get("stats") or {}).get("positive_rank_median")
    if not isinstance(rank, int | float):
        return dataclasses.replace(cfg, num_negatives=0), "step 0's card has no median positive rank"
    chosen = 1 if rank <= NEGATIVES_RANK_MAX else 0
    how = f"step 0's median positive rank {rank:g}, {'at most' if chosen else 'above'} {NEGATIVES_RANK_MAX}"
    return dataclasses.replace(cfg, num_negatives=chosen), how


def queries_per_row(cfg: TrainConfig, usable: list) -> tuple[int, str]:
    """An unset --queries-per-row: the training queries the median positive has, at most QUERIES_PER_ROW_MAX; 1
    with the losses other than mnrl (they take one query column)."""
    if cfg.queries_per_row is not None:
        return cfg.queries_per_row, "asked"
    if cfg.loss != "mnrl":
        return 1, f"--loss {cfg.loss} takes one query column"
    how = f"queries of the median positive, at most {QUERIES_PER_ROW_MAX}"
    if not usable:
        return 1, how
    counts = sorted(Counter(t.positive_id for t in usable).values())
    return max(1, min(QUERIES_PER_ROW_MAX, counts[(len(counts) - 1) // 2])), how


def row_layout(cfg: TrainConfig, data: TrainingData) -> tuple[TrainConfig, list, str, str]:
    """cfg with the settings a row's layout depends on filled in (outside negatives, mined negatives, then queries
    per row), the triplets with enough negatives, and how mined negatives and queries per row were chosen."""
    cfg = with_outside_default(cfg, data)
    cfg, negatives_how = with_negatives_default(cfg, data)
    usable = usable_triplets(data.triplets, cfg.num_negatives, cfg.outside_negatives)
    k, how = queries_per_row(cfg, usable)
    return dataclasses.replace(cfg, queries_per_row=k), usable, negatives_how, how


def with_data_defaults(cfg: TrainConfig, data: TrainingData) -> TrainConfig:
    """cfg with the settings the rows' layout depends on filled in: outside negatives, mined negatives, then
    queries per row."""
    return row_layout(cfg, data)[0]


def base_dev_score(cfg: TrainConfig, data: TrainingData, model) -> Callable[[int], float]:
    """The base model's dev --metric when it reads a given number of tokens (the run's dev queries and prompts, at
    most WEIGH_CANDIDATES of its dev candidates: the longer length is the dearer encode, and only the difference
    between the two lengths counts)."""
    evaluator = build_evaluator(
        data,
        cfg.query_prompt or "",
        cfg.doc_prompt or "",
        cfg.eval_batch_size,
        dev_candidates(data, min(cfg.dev_candidates, WEIGH_CANDIDATES), cfg.seed),
    )

    def score(length: int) -> float:
        before = model.max_seq_length
        model.max_seq_length = length
        try:
            return evaluator.compute(model)[f"{SCORE}_{cfg.metric}"]
        finally:
            model.max_seq_length = before

    return score


def resolve_recipe(cfg: TrainConfig, data: TrainingData, model, weigh: bool = True) -> tuple[TrainConfig, Recipe]:
    """cfg with outside_negatives, queries_per_row, max_seq_length, max_steps and eval_steps filled in, and how
    each was chosen. weigh=False skips measuring the sequence length's cost (and so its weighing against dev)."""
    cfg, usable, negatives_how, k_how = row_layout(cfg, data)
    k = cfg.queries_per_row
    rows = training_rows(usable, k)
    documents = training_documents(usable, cfg)
    seq = choose_seq_length(model, documents, cfg.seq_length_coverage, cfg.max_seq_length)
    if weigh:
        seq = weigh_seq_length(seq, model, documents, base_dev_score(cfg, data, model), cfg.metric)
    row_tokens = tokens_per_row(model, rows, cfg, seq.value)
    if cfg.max_steps is None:
        steps = scaled_steps(len(rows), cfg.batch_size, row_tokens)
        how = (
            f"one epoch, at least {STEPS_MIN}, at most {STEP_TOKENS:,} tokens ({row_tokens:.0f} + {ROW_OVERHEAD} a row)"
        )
    elif cfg.max_steps == 0:
        steps, how = math.ceil(len(rows) / cfg.batch_size * cfg.epochs), "epochs"
    else:
        steps, how = cfg.max_steps, "asked"
    eval_steps = cfg.eval_steps or max(1, math.ceil(steps / 2))
    resolved = dataclasses.replace(
        cfg, max_seq_length=seq.value, eval_steps=eval_steps, max_steps=cfg.max_steps if cfg.max_steps == 0 else steps
    )
    return resolved, Recipe(
        len(rows), k, k_how, cfg.num_negatives, negatives_how, steps, how, round(row_tokens, 1), eval_steps, seq
    )
