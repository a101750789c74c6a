"""Builds the default O*NET job-search dataset in the BEIR layout.

Documents are job-posting-like texts (title, description, some task statements as responsibilities).
Queries are the *other* task statements of an occupation, relevant to that occupation only.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from corpus.beir import Dataset, Document
from corpus.errors import RagtuneError
from corpus.sources.onet import Occupation, Task
from corpus.splits import normalise, stable_order

SPLIT_BY = ("task", "occupation")


@dataclass
class OnetConfig:
    seed: int = 13
    doc_tasks: int = 5  # task statements shown in each document's responsibilities
    test_occupations: int = 400  # bounds the relevant documents of the test split (pool of 800 stays possible)
    test_queries: int = 500
    dev_occupations: int = 250
    dev_queries: int = 300
    min_query_words: int = 4  # "Recruit staff members." fits many occupations: too vague to label
    split_by: str = "task"  # "occupation": test occupations never seen in training


@dataclass
class OnetStats:
    occupations: int = 0
    occupations_with_tasks: int = 0
    tasks: int = 0
    in_documents: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    relevant_documents: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


_WORD = re.compile(r"[a-z0-9]+")


class PhraseIndex:
    """Finds whether a word sequence occurs anywhere in a set of texts (case and punctuation ignored)."""

    def __init__(self):
        self.words: list[str] = []
        self.starts: dict[str, list[int]] = defaultdict(list)

    def add(self, text: str) -> None:
        words = _WORD.findall(text.lower())
        base = len(self.words)
        self.words.extend(words)
        self.words.append("\x00")  # never matches: phrases do not run across two texts
        for i, w in enumerate(words):
            self.starts[w].append(base + i)

    def __contains__(self, phrase: str) -> bool:
        words = _WORD.findall(phrase.lower())
        if not words:
            return False
        n = len(words)
        return any(self.words[i : i + n] == words for i in self.starts.get(words[0], ()))


def _document(occ: Occupation, tasks: list[Task]) -> Document:
    text = occ.description
    if tasks:
        text += "\n\nResponsibilities:\n" + "\n".join(f"- {t.text}" for t in tasks)
    return Document(occ.code, occ.title, text)


def _sample(candidates: dict[str, list[Task]], n_occ: int, n_queries: int, seed: str) -> dict[str, list[Task]]:
    """One query from each of n_occ occupations, then a second from the first ones that have one, up to n_queries."""
    occs = stable_order([c for c in candidates if candidates[c]], seed, key=str)[:n_occ]
    chosen = {c: [candidates[c][0]] for c in occs}
    extra = n_queries - len(chosen)
    for c in occs:
        if extra <= 0:
            break
        if len(candidates[c]) > 1:
            chosen[c].append(candidates[c][1])
            extra -= 1
    return chosen


def _hold_out(
    candidates: dict[str, list[Task]], cfg: OnetConfig, split: str, n_occ: int, n_queries: int, drops: Counter
) -> dict[str, list[Task]]:
    """Sample a held-out split and remove it from the candidates; by occupation, the rest of a held-out
    occupation's tasks are dropped too, so training never sees that occupation."""
    chosen = _sample(candidates, n_occ, n_queries, f"{cfg.seed}/{split}")
    for code, tasks in chosen.items():
        if cfg.split_by == "occupation":
            drops[f"unused_in_{split}_occupations"] += len(candidates[code]) - len(tasks)
            candidates[code] = []
        else:
            candidates[code] = [t for t in candidates[code] if t not in tasks]
    return chosen


def _documents(
    occupations: list[Occupation], by_occ: dict[str, list[Task]], cfg: OnetConfig, stats: OnetStats
) -> tuple[dict[str, Document], PhraseIndex, dict[str, list[Task]]]:
    """One document per occupation with its first tasks shown; the rest of its tasks are query candidates."""
    corpus: dict[str, Document] = {}
    doc_texts = PhraseIndex()
    candidates: dict[str, list[Task]] = {}
    for occ in sorted(occupations, key=lambda o: o.code):
        ordered = stable_order(by_occ.get(occ.code, []), cfg.seed, key=lambda t: f"{t.code}/{t.task_id}")
        shown, rest = ordered[: cfg.doc_tasks], ordered[cfg.doc_tasks :]
        corpus[occ.code] = _document(occ, shown)
        doc_texts.add(corpus[occ.code].title + "\n" + corpus[occ.code].text)
        candidates[occ.code] = rest
        stats.in_documents += len(shown)
    return corpus, doc_texts, candidates


def _keep_labelable(
    candidates: dict[str, list[Task]], tasks: list[Task], doc_texts: PhraseIndex, cfg: OnetConfig, drops: Counter
) -> None:
    """Drop the candidates whose label would be doubtful (shared, shown, too short or repeated), counting why."""
    owners: dict[str, set[str]] = defaultdict(set)
    for t in tasks:
        owners[normalise(t.text)].add(t.code)
    seen_texts: set[str] = set()
    for code in candidates:
        kept = []
        for t in candidates[code]:
            norm = normalise(t.text)
            if len(owners[norm]) > 1:
                drops["text_of_several_occupations"] += 1
            elif t.text in doc_texts:
                drops["text_in_a_document"] += 1
            elif len(norm.split()) < cfg.min_query_words:
                drops[f"shorter_than_{cfg.min_query_words}_words"] += 1
            elif norm in seen_texts:
                drops["repeated_within_occupation"] += 1
            else:
                kept.append(t)
            seen_texts.add(norm)
        candidates[code] = kept


def _queries_and_qrels(
    splits: dict[str, dict[str, list[Task]]], stats: OnetStats
) -> tuple[dict[str, str], dict[str, dict[str, dict[str, int]]]]:
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, dict[str, int]]] = {}
    for split, chosen in splits.items():
        qrels[split] = {}
        for code in sorted(chosen):
            for t in chosen[code]:
                qid = f"{code}#{t.task_id}"
                queries[qid] = t.text
                qrels[split][qid] = {code: 1}
        stats.queries[split] = len(qrels[split])
        stats.relevant_documents[split] = len({d for docs in qrels[split].values() for d in docs})
    return queries, qrels


def build_onet_dataset(
    occupations: list[Occupation], tasks: list[Task], cfg: OnetConfig, path=None
) -> tuple[Dataset, OnetStats]:
    if cfg.split_by not in SPLIT_BY:
        raise RagtuneError(f"--split-by must be one of {', '.join(SPLIT_BY)}, got '{cfg.split_by}'")
    stats = OnetStats(occupations=len(occupations), tasks=len(tasks))
    by_occ: dict[str, list[Task]] = defaultdict(list)
    for t in tasks:
        by_occ[t.code].append(t)
    corpus, doc_texts, candidates = _documents(occupations, by_occ, cfg, stats)
    drops: Counter = Counter()
    stats.occupations_with_tasks = sum(1 for c in by_occ if c in corpus)
    unknown = sum(len(v) for c, v in by_occ.items() if c not in corpus)
    if unknown:
        drops["occupation_not_in_catalogue"] += unknown
    _keep_labelable(candidates, tasks, doc_texts, cfg, drops)

    test = _hold_out(candidates, cfg, "test", cfg.test_occupations, cfg.test_queries, drops)
    dev = _hold_out(candidates, cfg, "dev", cfg.dev_occupations, cfg.dev_queries, drops)
    train = {c: ts for c, ts in candidates.items() if ts}
    queries, qrels = _queries_and_qrels({"train": train, "dev": dev, "test": test}, stats)
    stats.dropped = dict(sorted(drops.items()))
    return Dataset(path, corpus, queries, qrels), stats
