"""What a rerun does with a stored result (embeddings, LLM replies): the one overwrite policy of every cache.

As MTEB's OverwriteStrategy: the policy is a value a user picks (`--cache reuse|recompute`), never a flag turned
into a string at a call site.
"""

from __future__ import annotations

from enum import StrEnum


class CachePolicy(StrEnum):
    """REUSE (default): a stored result with the same content key is loaded, nothing is computed again.
    RECOMPUTE: compute again and replace the stored result (to check reproducibility or after a bug fix)."""

    REUSE = "reuse"
    RECOMPUTE = "recompute"


CACHE_POLICIES = tuple(CachePolicy)
