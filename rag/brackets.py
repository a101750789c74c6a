"""The two brackets around the retriever arms: what the LLM answers with no retrieval at all (closed book) and
with the right documents handed to it (oracle). Together they show how much of the answer quality retrieval
can still move: an arm near the oracle has little left to gain; an oracle near closed book means the LLM, not
retrieval, is the bottleneck.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import DataError
from corpus.jsonl import read_text

CLOSED_BOOK_FILE = Path(__file__).parent / "templates" / "closed_book.txt"


def oracle_context(relevant_ids: Iterable[str], first_arm_ranking: Sequence[str], k: int) -> list[str]:
    """The query's relevant documents, padded to k with the first arm's best-ranked non-relevant documents, so
    the oracle's context is as long as every arm's.

    Relevant documents come in the first arm's rank order (those it did not retrieve after, by id); with more
    relevant documents than k, the first k of that order. The padding never repeats a document.
    """
    relevant = set(relevant_ids)
    position = {d: i for i, d in enumerate(first_arm_ranking)}
    ordered = sorted(relevant, key=lambda d: (position.get(d, len(position)), d))[:k]
    padding = [d for d in dict.fromkeys(first_arm_ranking) if d not in relevant][: k - len(ordered)]
    return ordered + padding


@dataclass(frozen=True)
class ClosedBookPrompt:
    text: str
    source: str = "built-in"

    def messages(self, question: str) -> list[dict]:
        return [{"role": "user", "content": self.text.format(question=question)}]


def load_closed_book_prompt(path: str | Path | None = None) -> ClosedBookPrompt:
    """The closed-book prompt: the question alone, so exactly one placeholder, {question}."""
    source = Path(path) if path is not None else CLOSED_BOOK_FILE
    text = read_text(source).strip("\n")
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise DataError(source, f"not a valid template ({exc}); write literal braces as {{{{ and }}}}") from None
    if fields != {"question"}:
        raise DataError(
            source,
            "a closed-book prompt has exactly one placeholder, {question} (no {context}: it "
            "has no passages; literal braces are written {{ }})",
        )
    return ClosedBookPrompt(text, str(path) if path is not None else "built-in")
