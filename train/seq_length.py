"""How many tokens the fine-tuned model reads: chosen from the training documents, never shorter than the base model,
and longer than the base model's only when the longer reading pays for what it costs.

A length fixed on one dataset (160 on O*NET) is saved into the model, so on a dataset of longer documents the
fine-tuned arm would read fewer tokens than the base arm it is compared with, and truncation alone would cost
the comparison. Reading more is not free either: every document of an index is encoded at that length (once per
model, again for each retrained one), and under the token budget of the default steps a longer row buys fewer
steps; queries, short texts, cost the same at any length. So a length above the base model's is kept only when it
raises the base model's dev score by MIN_GAIN_PER_COST for every extra base-length encode it costs (a 512-token
length that encodes documents 3× dearer than 256 must raise dev by 0.010); the encode cost is measured, not
estimated, on a sample of the data's documents.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from corpus.progress import working

# enough documents for a stable percentile; tokenising more only costs time
SAMPLE = 5000
# documents timed for the encode cost: a stable per-document figure in about a second at 256 tokens on 2 cores
COST_SAMPLE = 32
# dev gain (in the --metric's units) a longer length must buy per extra base-length encode of the documents
MIN_GAIN_PER_COST = 0.005


@dataclass
class SeqLengthChoice:
    value: int
    how: str  # "from data", "base model's" or "asked"
    coverage: float
    covering_tokens: int  # token length that covers `coverage` of the sampled documents (special tokens included)
    base_model_length: int
    supported: int  # what the base model's position embeddings allow
    documents: int
    # measured seconds to encode 1,000 of the data's documents at `value` tokens on the training device
    encode_s_per_1000: float | None = None
    # when the data asked for more than the base model's length: both lengths' encode cost and base-model dev score
    weighed: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def supported_length(model) -> int:
    """The longest input the base model can take: its position embeddings (sentence-transformers sets the
    tokenizer's own limit to max_seq_length, so that says nothing)."""
    config = getattr(model[0].auto_model, "config", None)
    positions = getattr(config, "max_position_embeddings", None)
    if not positions:
        return int(model.max_seq_length)
    # RoBERTa-family models and MPNet number positions after the padding index, so the first ones are never used
    kind = str(getattr(config, "model_type", ""))
    offset = (getattr(config, "pad_token_id", 0) or 0) + 1 if "roberta" in kind or "mpnet" in kind else 0
    return int(positions) - offset


def token_lengths(model, texts: list[str]) -> list[int]:
    enc = model.tokenizer(texts, add_special_tokens=True, truncation=False, padding=False)
    return [len(ids) for ids in enc["input_ids"]]


def percentile(values: list[int], share: float) -> int:
    """The smallest value that at least `share` of the values do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def choose_seq_length(model, documents: list[str], coverage: float, asked: int | None = None) -> SeqLengthChoice:
    """Cover `coverage` of the documents' token lengths, at least the base model's length, at most its limit."""
    base, cap = int(model.max_seq_length), supported_length(model)
    unique = sorted(set(documents))
    if len(unique) > SAMPLE:  # a spread-out, deterministic sample: every k-th text in sorted order
        unique = unique[:: math.ceil(len(unique) / SAMPLE)]
    covering = percentile(token_lengths(model, unique), coverage) if unique else 0
    if asked is not None:
        value, how = asked, "asked"
    elif covering <= base:
        value, how = base, "base model's"
    else:
        value, how = min(covering, cap), "from data"
    return SeqLengthChoice(value, how, coverage, covering, base, cap, len(unique))


def spread_sample(documents: list[str], n: int) -> list[str]:
    """n distinct documents spread evenly through the sorted set (deterministic)."""
    unique = sorted(set(documents))
    return unique[:: math.ceil(len(unique) / n)][:n] if unique else []


def encode_cost(model, texts: list[str], length: int, batch_size: int = 16) -> float:
    """Measured seconds per 1,000 documents when `model` reads `length` tokens (a timed encode of `texts` after a
    warm-up batch); the model's own length is restored."""
    if not texts:
        return 0.0
    before = model.max_seq_length
    model.max_seq_length = length
    try:
        model.encode(texts[:2], batch_size=batch_size, show_progress_bar=False)
        start = time.perf_counter()
        model.encode(texts, batch_size=batch_size, show_progress_bar=False)
        return 1000 * (time.perf_counter() - start) / len(texts)
    finally:
        model.max_seq_length = before


def weigh_seq_length(
    choice: SeqLengthChoice, model, documents: list[str], dev_score: Callable[[int], float], metric: str
) -> SeqLengthChoice:
    """The choice with its measured encode cost; a data-chosen length above the base model's kept only when the
    base model's dev score (dev_score(length)) gains, and at least MIN_GAIN_PER_COST per extra base-length encode."""
    sample = spread_sample(documents, COST_SAMPLE)
    if choice.how != "from data":
        return dataclasses.replace(choice, encode_s_per_1000=round(encode_cost(model, sample, choice.value), 2))
    base, longer = choice.base_model_length, choice.value
    with working(f"sequence length: encode cost and the base model's dev {metric} at {base} and {longer} tokens"):
        cost = {n: encode_cost(model, sample, n) for n in (base, longer)}
        dev = {n: dev_score(n) for n in (base, longer)}
    # the ratio to the nearest half: a timing on a busy machine must not flip the choice between two runs (a resumed
    # or repeated run re-resolves the recipe, and a different length would be a different run)
    ratio = round(2 * cost[longer] / cost[base]) / 2 if cost[base] > 0 else 1.0
    extra = max(0.0, ratio - 1)
    needed = MIN_GAIN_PER_COST * extra
    gain = dev[longer] - dev[base]
    weighed = {
        "lengths": [base, longer],
        "encode_s_per_1000": [round(cost[base], 2), round(cost[longer], 2)],
        f"base_dev_{metric}": [round(dev[base], 4), round(dev[longer], 4)],
        "cost_ratio": ratio,
        "gain": round(gain, 4),
        "needed": round(needed, 4),
    }
    # no gain keeps the base length even when the timing saw no extra cost (noise on a busy machine can hide it)
    if gain > 0 and gain >= needed:
        return dataclasses.replace(choice, encode_s_per_1000=round(cost[longer], 2), weighed=weighed)
    how = f"base model's: {longer} cost {ratio:g}× for {gain:+.3f} dev {metric}"
    return dataclasses.replace(choice, value=base, how=how, encode_s_per_1000=round(cost[base], 2), weighed=weighed)
