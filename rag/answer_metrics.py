"""Answer correctness without a judge: deterministic, free and reproducible, so the first number to read.

Two metrics, picked by what the data allows (`score_answer`):

``title_match`` (O*NET and any dataset whose documents have titles naming the answer; no reference answers)
    The right answer to an O*NET query is its relevant occupation, i.e. the relevant document's title.
    Text is normalised as: Unicode NFKC, casefold, every character that is not a letter or digit becomes a
    space, spaces collapse, and each word is singularised by a fixed suffix rule (``ies``→``y``; ``sses``→``ss``;
    ``ches``/``shes``/``xes``/``zes`` lose ``es``; a final ``s`` is dropped unless the word ends in ``ss``, ``us``
    or ``is``; words of three letters or fewer are kept). The rule is applied to titles and answers alike, so
    "a registered nurse" names "Registered Nurses"; what matters is that both sides are treated the same,
    not that the rule is good English.
    A title's *names* are its whole normalised title and, because O*NET joins several occupations in one title
    ("Accountants and Auditors", "Plumbers, Pipefitters, and Steamfitters", "Cooks, Restaurant"), each part of
    the title split at commas and at the word "and" whose last word is plural in the title (O*NET titles are
    plural nouns, qualifiers such as "Restaurant", "Heavy" or "Except Special Education" are not).
    An answer *names* a title when one of its names occurs in the normalised answer as a whole-word sequence.
    When one occurrence lies inside a longer occurrence of another title's name ("Human Resources Managers"
    contains "Managers"), only the longer one counts.
    ``correct``     the answer names a relevant document's title;
    ``names_wrong`` it names the title of a non-relevant document that was in its context;
    ``names_other`` it names the title of a non-relevant pool document that was *not* in its context.
    An answer can be correct and name a wrong occupation at once (hedging): both are reported.

``reference`` (own data with reference answers: ``<dataset>/answers.jsonl``)
    SQuAD v1.1's official metrics: normalise by lower-casing, removing punctuation, removing the articles
    a/an/the and collapsing whitespace; ``exact_match`` = the normalised answer equals a normalised reference;
    ``f1`` = token-level F1 of the bag of normalised tokens; with several references, the best one counts.
    ``correct`` is the exact match.

With neither (untitled documents, no references) the metric is ``none`` and every field is missing.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from corpus.beir import Document

METRICS = ("title_match", "reference", "none")
_NOT_WORD = re.compile(r"[^\w]+|_+")
_AND_OR_COMMA = re.compile(r",|\band\b", re.IGNORECASE)
_PUNCTUATION = frozenset(string.punctuation)


def singular(word: str) -> str:
    if len(word) <= 3:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith(("ches", "shes", "xes", "zes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")) or not word.endswith("s"):
        return word
    return word[:-1]


def title_words(text: str) -> list[str]:
    """The normalised, singularised words of a text (the title-match normalisation)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return [singular(w) for w in _NOT_WORD.sub(" ", text).split()]


def title_names(title: str) -> list[tuple[str, ...]]:
    """The word sequences that name this title (see the module docstring), longest first."""
    names = {tuple(title_words(title))}
    for part in _AND_OR_COMMA.split(title):
        raw = unicodedata.normalize("NFKC", part).casefold().split()
        if raw and raw[-1].rstrip(".;:)").endswith("s") and raw[0] != "except":
            names.add(tuple(title_words(part)))
    names.discard(())
    return sorted(names, key=len, reverse=True)


class TitleIndex:
    """Every title of a pool, matched at once against an answer (longest occurrence wins)."""

    def __init__(self, docs: Iterable[Document]):
        self.names: dict[str, list[tuple[str, ...]]] = {d.id: title_names(d.title) for d in docs if d.title.strip()}
        self.by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for doc_id, names in self.names.items():
            for name in names:
                self.by_first.setdefault(name[0], []).append((name, doc_id))

    def named(self, answer: str) -> set[str]:
        """Ids of the documents whose title the answer names."""
        words = title_words(answer)
        spans: list[tuple[int, int, str]] = []
        for i, w in enumerate(words):
            for name, doc_id in self.by_first.get(w, ()):
                if tuple(words[i : i + len(name)]) == name:
                    spans.append((i, i + len(name), doc_id))
        # an occurrence inside a longer occurrence of another title does not count for the shorter title
        return {
            d
            for s, e, d in spans
            if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) and d2 != d for s2, e2, d2 in spans)
        }


def squad_normalise(text: str) -> str:
    """SQuAD v1.1's official normalisation: lower, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(answer: str, reference: str) -> bool:
    return squad_normalise(answer) == squad_normalise(reference)


def token_f1(answer: str, reference: str) -> float:
    pred, gold = squad_normalise(answer).split(), squad_normalise(reference).split()
    common = sum((Counter(pred) & Counter(gold)).values())
    if not pred or not gold:
        return float(pred == gold)  # both empty count as a match, as in the official script
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class AnswerScore:
    metric: str  # one of METRICS
    correct: bool | None  # title_match: names a relevant title; reference: exact match
    f1: float | None = None  # reference only: best token F1 over the references
    names_wrong: bool | None = None  # title_match: names a non-relevant document of its context
    names_other: bool | None = None  # title_match: names a non-relevant pool document outside its context
    named: tuple[str, ...] = ()  # title_match: ids of every document whose title the answer names


def score_answer(
    answer: str,
    relevant_ids: Iterable[str],
    context_ids: Sequence[str],
    references: Sequence[str] = (),
    titles: TitleIndex | None = None,
) -> AnswerScore:
    """The deterministic score the data allows: reference answers first, else title match, else none.

    `titles` indexes the pool (every document the retrievers could return); build it once per run.
    """
    if references:
        return AnswerScore(
            "reference",
            any(exact_match(answer, r) for r in references),
            f1=max(token_f1(answer, r) for r in references),
        )
    relevant = set(relevant_ids)
    if titles is None or not relevant or not all(d in titles.names for d in relevant):
        return AnswerScore("none", None)
    named = titles.named(answer)
    wrong = named - relevant
    return AnswerScore(
        "title_match",
        bool(named & relevant),
        names_wrong=bool(wrong & set(context_ids)),
        names_other=bool(wrong - set(context_ids)),
        named=tuple(sorted(named)),
    )
