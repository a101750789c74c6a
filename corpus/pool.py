"""The candidate pool for evaluation: every document relevant to the split, plus distractors, exactly N.

Distractors come first from the dataset's other documents (never the training negatives: a pool full of
documents the model was trained to push away inflates the gain of fine-tuning), then from outside sources.
Orders are seeded hashes of ids, so the output is byte-identical across runs and PYTHONHASHSEED values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from corpus.beir import Dataset, Document
from corpus.errors import RagtuneError
from corpus.provenance import external_source, own_sources
from corpus.splits import stable_order

ExtraSource = tuple[str, Callable[[], list[Document]]]
EXTERNAL_SOURCES = ("esco-skill", "isco", "wiki")


@dataclass
class PoolConfig:
    size: int = 800
    split: str = "test"
    seed: int = 13
    skip_sources: tuple[str, ...] = ()  # external sources never drawn (besides the dataset's own, always skipped)


def build_pool(
    ds: Dataset, cfg: PoolConfig, excluded: set[str], extra_sources: list[ExtraSource]
) -> tuple[list[tuple[str, Document]], Counter]:
    """Return [(source, document)] of exactly cfg.size, relevant documents first, and the count per source."""
    relevant = sorted({d for docs in ds.relevant(cfg.split).values() for d in docs})
    if cfg.size < len(relevant):
        raise RagtuneError(
            f"--size {cfg.size} is smaller than the {len(relevant)} documents relevant to the "
            f"'{cfg.split}' split; use at least {len(relevant)}"
        )
    chosen: list[tuple[str, Document]] = [("relevant", ds.corpus[d]) for d in relevant]
    taken = set(relevant)
    skipped = set(cfg.skip_sources) | set(own_sources(ds))
    others = [d for d in ds.corpus.values() if d.id not in taken and d.id not in excluded]
    stages: list[tuple[str, Callable[[], list[Document]]]] = [("dataset", lambda: others), *extra_sources]
    available = len(relevant)
    for name, loader in stages:
        if len(chosen) >= cfg.size:
            break
        docs = loader()
        # excluded applies to every stage: outside documents used as training negatives are excluded too
        fresh = [
            d
            for d in docs
            if d.id not in taken and d.id not in excluded and not (name == "external" and external_source(d) in skipped)
        ]
        available += len(fresh)
        for doc in stable_order(fresh, f"{cfg.seed}/{name}", key=lambda d: d.id)[: cfg.size - len(chosen)]:
            chosen.append((external_source(doc) if name == "external" else name, doc))
            taken.add(doc.id)
    if len(chosen) < cfg.size:
        raise RagtuneError(
            f"--size {cfg.size} is larger than the {available} documents available "
            f"(relevant + distractors, training negatives excluded)"
        )
    return chosen, Counter(name for name, _ in chosen)


def external_distractors() -> list[Document]:
    """The pool side of ESCO skills, ISCO groups and Wikipedia leads (corpus.outside): the training side may be
    training negatives, so no pool ever draws from it, whether or not this dataset's training used it."""
    from corpus.outside import REGISTRY, pool_side

    return pool_side(REGISTRY)


def write_pool(path, pool: list[tuple[str, Document]]) -> None:
    from corpus.jsonl import write_jsonl

    write_jsonl(path, ({"_id": d.id, "title": d.title, "text": d.text, "source": src} for src, d in pool))
