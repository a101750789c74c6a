"""How many tokens the fine-tuned model reads: chosen from the training documents, never shorter than the base model.

A length fixed on one dataset (160 on O*NET) is saved into the model, so on a dataset of longer documents the
fine-tuned arm would read fewer tokens than the base arm it is compared with, and truncation alone would cost
the comparison.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

# enough documents for a stable percentile; tokenising more only costs time
SAMPLE = 5000


@dataclass
class SeqLengthChoice:
    value: int
    how: str  # "from data", "base model's" or "asked"
    coverage: float
    covering_tokens: int  # token length that covers `coverage` of the sampled documents (special tokens included)
    base_model_length: int
    supported: int  # what the base model's position embeddings allow
    documents: int

    def as_dict(self) -> dict:
        return asdict(self)


def supported_length(model) -> int:
    """The longest input the base model can take: its position embeddings (sentence-transformers sets the
    tokenizer's own limit to max_seq_length, so that says nothing)."""
    config = getattr(model[0].auto_model, "config", None)
    positions = getattr(config, "max_position_embeddings", None)
    if not positions:
        return int(model.max_seq_length)
    # RoBERTa-family models reserve the first positions for padding
    offset = (getattr(config, "pad_token_id", 0) or 0) + 1 if "roberta" in str(getattr(config, "model_type", "")) else 0
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
