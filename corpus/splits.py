"""Splitting queries: seeded orderings identical across processes, machines and PYTHONHASHSEED values, and
the check that no training query is also an evaluation query."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
_SPACE = re.compile(r"\s+")


def stable_hash(seed: int | str, *parts: str) -> int:
    key = "\x1f".join([str(seed), *parts]).encode("utf-8")
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def stable_order(items: Iterable[T], seed: int | str, key: Callable[[T], str]) -> list[T]:
    """Sort by a seeded hash, ties broken by the key itself, so the order never depends on input order."""
    return sorted(items, key=lambda it: (stable_hash(seed, key(it)), key(it)))


def normalise(text: str) -> str:
    """Case- and space-insensitive form used to detect repeated texts."""
    return _SPACE.sub(" ", text.lower()).strip().rstrip(".").strip()


@dataclass(frozen=True)
class SplitOverlap:
    """Training queries that are also evaluation queries: by the same id, or by the same normalised text."""

    by_id: tuple[str, ...]  # train query ids that are dev/test query ids too
    by_text: tuple[str, ...]  # other train query ids whose normalised text is a dev/test query's
    held_out: tuple[str, ...]  # the evaluation splits compared against

    @property
    def train_ids(self) -> set[str]:
        return set(self.by_id) | set(self.by_text)

    def __bool__(self) -> bool:
        return bool(self.by_id or self.by_text)

    def describe(self) -> str:
        example = (self.by_id or self.by_text)[0] if self else ""
        return (
            f"{len(self.train_ids)} training queries are also {'/'.join(self.held_out)} queries "
            f"({len(self.by_id)} by id, {len(self.by_text)} by normalised text; e.g. '{example}')"
        )


def split_overlap(
    queries: dict[str, str], qrels: dict[str, dict], train: str = "train", held_out: tuple[str, ...] = ("dev", "test")
) -> SplitOverlap:
    """Which training queries leak into evaluation; training on them would inflate every held-out metric."""
    present = tuple(s for s in held_out if s in qrels)
    eval_ids = {q for s in present for q in qrels[s]}
    eval_texts = {normalise(queries[q]) for q in eval_ids if q in queries}
    by_id, by_text = [], []
    for q in sorted(qrels.get(train, {})):
        if q in eval_ids:
            by_id.append(q)
        elif q in queries and normalise(queries[q]) in eval_texts:
            by_text.append(q)
    return SplitOverlap(tuple(by_id), tuple(by_text), present)
