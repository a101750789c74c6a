"""One generation per distinct prompt: arms that put the same passages in the same order into the prompt of a query
send byte-identical requests, and a deterministic decoder (rag.local_server) gives them the same answer, so step 4
asks once and serves every arm of the group.

Grouping happens before any request is sent, so it holds with any number of workers in flight (the answer cache's
per-key lock would also stop two identical requests racing, but only after both were queued as work). Each result
of a shared group records the other arms in its group (SHARED_WITH) and whether it reused another arm's generation
(SHARED): the first arm of the group, in arm order, generated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

J = TypeVar("J", bound=Hashable)

# result fields (ArmResult.fields) written by rag.answer_comparison.generate
SHARED_WITH = "shared_with"  # the other arms answered by the same generation, ';'-joined ("" when alone)
SHARED = "shared"  # True: this arm's answer is another arm's generation, not a generation of its own


def request_key(messages: list[dict], max_tokens: int, temperature: float) -> str:
    """Everything a reply depends on, as one string (the answer cache keys on the same payload)."""
    return json.dumps(
        {"messages": messages, "max_tokens": max_tokens, "temperature": temperature}, sort_keys=True, ensure_ascii=False
    )


def group_jobs(jobs: Sequence[J], key_of: Callable[[J], str]) -> list[list[J]]:
    """Jobs with equal keys together, groups in the order of their first job, jobs in their given order."""
    groups: dict[str, list[J]] = {}
    for job in jobs:
        groups.setdefault(key_of(job), []).append(job)
    return list(groups.values())


def generations_saved(fields: Iterable[Mapping]) -> int:
    """Answers served by another arm's generation (results' `fields`)."""
    return sum(1 for f in fields if f.get(SHARED))
