"""Quality filters for LLM-written queries: pure functions of texts, embeddings and rankings, so each one is
tested on hand-made inputs and reported with its own count.

Applied in FILTERS order; a query is counted under the first filter that drops it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# the order filters run in, and the names their counts carry in the dataset card
FILTERS = ("empty", "too_short", "too_long", "copies_passage", "duplicate", "near_duplicate", "round_trip", "over_cap")

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# list markers and labels small models put before each query: "1.", "2)", "-", "*", "Q1:", "Query 2 -"
_MARKER = re.compile(
    r"^\s*(?:[-•]|\*(?!\*)|\d+\s*[.):]|(?:q|query|question|search)\s*\d*\s*(?:[.:)]|\s-))\s*", re.IGNORECASE
)
_QUOTES = "\"'“”‘’`"


@dataclass(frozen=True)
class FilterConfig:
    min_words: int = 2
    max_words: int = 30
    copy_ngram: int = 6  # a query sharing this many consecutive words with its passage copied it
    near_duplicate_cosine: float = 0.95
    round_trip_k: int = 5  # the base embedder must rank the source passage in this top-k
    max_per_doc: int | None = 10  # queries kept per source document; None keeps all


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def clean_line(line: str) -> str:
    """One reply line without list markers, labels and surrounding quotes."""
    line = line.strip()
    for _ in range(2):  # "1. Q: ..." and "2) **...**" have two layers
        if line.startswith("**") and line.endswith("**") and len(line) > 4:
            line = line[2:-2].strip()
        line = _MARKER.sub("", line).strip()
    return line.strip(_QUOTES).strip()


def parse_queries(reply: str, n: int) -> list[str]:
    """Up to n queries from a reply, one per line. Preambles ("Here are two queries:") end with a colon and
    are not queries."""
    out = []
    for raw in reply.splitlines():
        line = clean_line(raw)
        if not line or line.endswith(":"):
            continue
        out.append(line)
        if len(out) == n:
            break
    return out


def length_problem(query: str, cfg: FilterConfig) -> str | None:
    n = len(words(query))
    if n == 0:
        return "empty"
    if n < cfg.min_words:
        return "too_short"
    if n > cfg.max_words:
        return "too_long"
    return None


def longest_common_ngram(query: str, passage: str) -> int:
    """Length in words of the longest run of consecutive words the query shares with the passage."""
    q, p = words(query), words(passage)
    if not q or not p:
        return 0
    best = 0
    prev = [0] * (len(p) + 1)
    for qw in q:  # longest common substring over words, O(len(q) * len(p)) with one row of memory
        cur = [0] * (len(p) + 1)
        for j, pw in enumerate(p, start=1):
            if qw == pw:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best = cur[j]
        prev = cur
    return best


def copies_passage(query: str, passage: str, cfg: FilterConfig) -> bool:
    return longest_common_ngram(query, passage) >= cfg.copy_ngram


def duplicate_key(query: str) -> str:
    """Queries equal up to case, spacing and punctuation are the same query."""
    return " ".join(words(query))


def first_occurrences(keys: list[str]) -> list[bool]:
    """True where a key appears for the first time."""
    seen: set[str] = set()
    keep = []
    for k in keys:
        keep.append(k not in seen)
        seen.add(k)
    return keep


def near_duplicates(embeddings: np.ndarray, groups: list[str], threshold: float) -> list[bool]:
    """True for a query whose cosine with an earlier kept query of the same group (source document) reaches
    the threshold. Embeddings are unit length. Within a document is where a model paraphrases itself; across
    documents, exact duplicates are already caught by duplicate_key."""
    drop = [False] * len(groups)
    kept: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        earlier = kept.setdefault(g, [])
        if earlier and float(np.max(embeddings[earlier] @ embeddings[i])) >= threshold:
            drop[i] = True
        else:
            earlier.append(i)
    return drop


def round_trip_ok(ranked_ids: list[str], source_id: str, k: int) -> bool:
    """The source passage is among the first k retrieved."""
    return source_id in ranked_ids[:k]


def cap_per_group(groups: list[str], order_keys: list[int], cap: int | None) -> list[bool]:
    """True for the items kept when each group keeps at most `cap`, preferring the smallest order keys (a
    seeded hash, so which queries survive does not depend on generation order)."""
    if cap is None:
        return [True] * len(groups)
    keep = [False] * len(groups)
    taken: dict[str, int] = {}
    for i in sorted(range(len(groups)), key=lambda i: (order_keys[i], i)):
        if taken.get(groups[i], 0) < cap:
            keep[i] = True
            taken[groups[i]] = taken.get(groups[i], 0) + 1
    return keep
