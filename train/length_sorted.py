"""Embedding a training batch a few length-sorted rows at a time instead of in one pass padded to its longest row.

A CPU pays for every padded token. sentence-transformers embeds a batch's document columns in one merged pass padded
to the longest document, so on O*NET short outside negatives (median 61 tokens) and positives (median 140) all run at
about 256 tokens: 2.3 times the real tokens. Sorting the rows by length and running them in small groups, each trimmed
to its own longest row, gives the same embeddings (padding is masked out) in under a third of the time on 2 CPU cores
(benchmarks/bench_training_forward.py: 4.8 s against 17.5 for the default's batch). A GPU is fed whole batches instead: there the padding runs in parallel.
"""

from __future__ import annotations

import torch
from torch import nn

# keys whose second axis is the token axis and may be trimmed with the attention mask
TOKEN_KEYS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")


def default_forward_rows(device: str) -> int:
    """Rows per forward pass when the user leaves it unset: 8 on a CPU (fastest measured), 0 (whole batch) on CUDA."""
    return 0 if device.startswith("cuda") else 8


class LengthSortedForward(nn.Module):
    """Wraps a SentenceTransformer for a loss: same sentence embeddings, computed `rows` length-sorted rows at a time.

    Losses hold it where they hold the model (`loss.model`); attributes it lacks (tokenizer, preprocess,
    max_seq_length) are read from the wrapped model, which stays the one the trainer updates and saves."""

    def __init__(self, model: nn.Module, rows: int):
        super().__init__()
        self.model = model
        self.rows = rows

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["model"], name)

    def forward(self, features: dict) -> dict:
        mask = features.get("attention_mask")
        if (
            not self.rows
            or not isinstance(mask, torch.Tensor)
            or mask.ndim != 2
            or mask.shape[0] <= self.rows
            or "cu_seq_lens_q" in features
        ):
            return self.model(features)
        lengths = mask.sum(dim=1)
        order = torch.argsort(lengths, descending=True, stable=True)
        left_padded = getattr(getattr(self.model, "tokenizer", None), "padding_side", "right") == "left"
        parts = []
        for start in range(0, len(order), self.rows):
            idx = order[start : start + self.rows]
            width = int(lengths[idx].max())
            parts.append(self.model(_take_rows(features, idx, width, left_padded))["sentence_embedding"])
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(len(order), device=order.device)
        return {"sentence_embedding": torch.cat(parts)[inverse]}


def _take_rows(features: dict, idx: torch.Tensor, width: int, left_padded: bool) -> dict:
    rows = features["attention_mask"].shape[0]
    chunk = {}
    for key, value in features.items():
        if isinstance(value, torch.Tensor) and value.ndim >= 1 and value.shape[0] == rows:
            value = value[idx]
            if key in TOKEN_KEYS and value.ndim == 2:
                value = value[:, -width:] if left_padded else value[:, :width]
        chunk[key] = value
    return chunk


def wrap_loss_models(loss: nn.Module, rows: int) -> nn.Module:
    """The loss with its model (and a GIST guide) embedding length-sorted row groups; unchanged when rows is 0."""
    if rows:
        for name in ("model", "guide"):
            inner = getattr(loss, name, None)
            if isinstance(inner, nn.Module) and not isinstance(inner, LengthSortedForward):
                setattr(loss, name, LengthSortedForward(inner, rows))
    return loss
