"""Seeded orderings that are identical across processes, machines and PYTHONHASHSEED values."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
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
