"""The answer prompt: one documented template that cites passages by number, overridable with --prompt FILE.

A template is plain text with two placeholders, {question} and {context}; literal braces are written {{ }}.
The same template feeds the plain client and the LangChain chain (both use Python format syntax).
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path

from corpus.beir import Document, document_text
from corpus.errors import DataError
from corpus.jsonl import read_text

PLACEHOLDERS = ("question", "context")

# Queries may be questions or, as in O*NET, descriptions of work: "a user searched for" fits both. Asking for
# the model's own words stops small models from replying with a bare "[1]" or a copied passage.
DEFAULT_TEMPLATE = """Numbered passages:
{context}

A user searched for: "{question}"

Using only the passages above, reply to the user in one to three complete sentences of your own words: \
say which passage best matches the search and what it is about (for example, the occupation that does this \
work), citing it by number in square brackets like [2]. If no passage matches, say so."""


@dataclass(frozen=True)
class PromptTemplate:
    text: str
    source: str = "built-in"

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def render(self, question: str, passages: list[Document]) -> str:
        return self.text.format(question=question, context=format_context(passages))

    def messages(self, question: str, passages: list[Document]) -> list[dict]:
        return [{"role": "user", "content": self.render(question, passages)}]


def format_context(passages: list[Document]) -> str:
    """Passages numbered from 1 in rank order, each the same text the embedders saw."""
    return number_passages([document_text(doc) for doc in passages])


def number_passages(texts: list[str]) -> str:
    return "\n\n".join(f"[{i}] {text}" for i, text in enumerate(texts, start=1))


def validate_template(text: str, source: str) -> PromptTemplate:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise DataError(source, f"not a valid template ({exc}); write literal braces as {{{{ and }}}}") from None
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        shown = ", ".join("{" + f + "}" for f in unknown)
        raise DataError(
            source,
            f"unknown placeholder(s) {shown}; allowed: {{question}}, {{context}} "
            "(literal braces are written {{ }})",
        )
    missing = [f for f in PLACEHOLDERS if f not in fields]
    if missing:
        raise DataError(source, "template must contain " + " and ".join("{" + f + "}" for f in missing))
    return PromptTemplate(text, source)


def load_template(path: str | Path | None) -> PromptTemplate:
    if path is None:
        return PromptTemplate(DEFAULT_TEMPLATE)
    return validate_template(read_text(Path(path)).strip("\n"), str(path))
