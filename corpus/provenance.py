"""Which outside source a document comes from, and which sources a dataset was itself built from: the rule both
the pool (never draw a dataset's own source as distractors) and the outside negatives (never train against one's
own documents) apply."""

from __future__ import annotations

from corpus.beir import Dataset, Document

# datasets whose own documents come from an external source: drawing that source as distractors would put
# near-copies of labelled documents (and of training queries' text) into the pool
OWN_SOURCES = {"esco-skill-search": ("esco-skill",)}
DATASET_CARD = "dataset_card.json"


def own_sources(ds: Dataset) -> tuple[str, ...]:
    """The external sources the dataset itself was built from, by its build card's name (none for own data)."""
    from corpus.jsonl import read_json_or_none

    card = read_json_or_none(ds.path / DATASET_CARD) if getattr(ds, "path", None) else None
    return OWN_SOURCES.get(card.get("name", ""), ()) if isinstance(card, dict) else ()


def external_source(doc: Document) -> str:
    """External distractor ids carry their source as a prefix ('wiki:…', 'esco-skill:…', 'isco:…')."""
    return doc.id.split(":", 1)[0] if ":" in doc.id else "external"
