"""Outside documents: unlabelled texts a real index holds besides the labelled ones, split once between training
and evaluation.

A fine-tuned model that only ever saw the labelled documents as candidates learns "text like these is close to a
query like these" and then ranks look-alike outside texts (ESCO skills for O*NET task queries) first. Training
on some outside texts as negatives fixes that, but a pool that contained those very texts would flatter the
model. So every outside document goes to exactly one side, decided by a seeded hash of its id alone: the same
document is on the same side in every step, every run and every dataset, whatever else is loaded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from corpus.beir import Dataset, Document, document_text
from corpus.errors import RagtuneError
from corpus.provenance import external_source, own_sources
from corpus.splits import normalise, stable_hash

# the registry sources (ESCO skills, ISCO groups, Wikipedia leads) used for O*NET
REGISTRY = "registry"
NONE = "none"
TRAIN, POOL = "train", "pool"
SPLIT_SEED = "outside-split/v1"
# 20% of ~24,600 registry documents (~4,900) is far more than training draws from; the other 80% keeps
# pools of 20,000 documents possible
TRAIN_SHARE = 0.2
_BUCKETS = 10_000


@dataclass(frozen=True)
class OutsideSplit:
    """The rule, as recorded in the cards: side = train if sha256(seed, id) mod 10,000 < share × 10,000."""

    seed: str = SPLIT_SEED
    train_share: float = TRAIN_SHARE

    def side_of(self, doc_id: str) -> str:
        return TRAIN if stable_hash(self.seed, doc_id) % _BUCKETS < round(self.train_share * _BUCKETS) else POOL

    def take(self, docs: list[Document], side: str) -> list[Document]:
        return [d for d in docs if self.side_of(d.id) == side]

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "rule": "train side if sha256(seed + '\\x1f' + document id)[:8] mod 10000 "
            "< train_share * 10000, else pool side",
        }


DEFAULT_SPLIT = OutsideSplit()


def registry_documents() -> list[Document]:
    """ESCO skills, ISCO groups and Wikipedia leads in one list (both sides)."""
    from corpus.sources.esco import load_esco_distractors
    from corpus.sources.wiki import load_wiki_distractors

    skills, isco = load_esco_distractors()
    return skills + isco + load_wiki_distractors()


def file_documents(path: str | Path) -> list[Document]:
    """Any file or folder of unlabelled documents read_documents accepts (JSONL, CSV, .txt/.md folder)."""
    from corpus.documents import read_documents

    docs, _ = read_documents(path)
    # a file id may collide with a dataset id: the prefix keeps the two apart, as 'wiki:' does
    return [Document(f"outside:{d.id}", d.title, d.text) for d in docs]


def load_outside(spec: str) -> list[Document]:
    """Both sides of the outside documents a spec names: 'registry', 'none', or a path."""
    if spec == NONE or not spec:
        return []
    if spec == REGISTRY:
        return registry_documents()
    if not Path(spec).exists():
        raise RagtuneError(f"outside documents not found: {spec} (use '{REGISTRY}', '{NONE}' or a file/folder)")
    return file_documents(spec)


def training_side(spec: str, split: OutsideSplit = DEFAULT_SPLIT) -> list[Document]:
    """What training may use: the train side of the registry sources, or the whole of a user's file, which no
    pool draws from (pools exclude every training negative by id all the same)."""
    docs = load_outside(spec)
    return split.take(docs, TRAIN) if spec == REGISTRY else docs


def pool_side(spec: str, split: OutsideSplit = DEFAULT_SPLIT) -> list[Document]:
    return split.take(load_outside(spec), POOL)


def without_dataset_documents(docs: list[Document], ds: Dataset) -> tuple[list[Document], int]:
    """The outside documents that are not the dataset's own, and how many were dropped. An outside text that is
    one of the labelled documents could be a row's own positive or another relevant document, so it never becomes
    an outside negative: dropped by id, by the registry source the dataset was built from (the ESCO dataset's
    documents are the registry's ESCO skills) and by identical normalised text (a user's file of outside documents
    that repeats labelled ones)."""
    if not docs:
        return [], 0
    own = set(own_sources(ds))
    texts = {normalise(document_text(d)) for d in ds.corpus.values()}
    kept = [
        d
        for d in docs
        if d.id not in ds.corpus and external_source(d) not in own and normalise(document_text(d)) not in texts
    ]
    return kept, len(docs) - len(kept)


def split_card(spec: str, split: OutsideSplit = DEFAULT_SPLIT) -> dict:
    if spec == REGISTRY:
        return split.as_dict()
    return {"rule": "none" if spec in (NONE, "") else "the whole file is training side (no pool draws from it)"}
