"""Training triplets (query, positive, hard negatives) and the dev set, written under <dataset>/triplets/."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from corpus.beir import Dataset, Document, document_text
from corpus.cache_policy import CachePolicy
from corpus.console import console
from corpus.errors import DataError, RagtuneError
from corpus.flat import read_given_negatives
from corpus.jsonl import write_json, write_jsonl
from corpus.options import option
from corpus.outside import NONE, split_card, training_side, without_dataset_documents
from corpus.paths import triplets_dir
from corpus.progress import working
from corpus.splits import split_overlap, stable_order
from corpus.triplets import (
    CARD_FILE,
    CARVED_DEV,
    DEV_FILE,
    TRAIN_FILE,
    MiningConfig,
    MiningStats,
    OutsideStats,
    default_reserve,
    mine,
    mine_outside,
)
from harness.embedding_cache import EmbeddingCache
from harness.encoding import encode

CARVE_SHARE = 0.1
CARVE_MAX = 300


@dataclass
class TripletConfig:
    data: str = ""
    model: str = "base"
    out: str = ""
    mining: MiningConfig = field(default_factory=MiningConfig)
    batch_size: int = 64
    cache: CachePolicy = CachePolicy.REUSE
    # none unless asked: which documents a dataset's index holds besides its own is the caller's call (step 0
    # names the registry for the built-in datasets)
    outside: str = option(
        NONE,
        help="unlabelled documents mined as extra negatives, training side only (corpus.outside): "
        "'registry' (ESCO skills, ISCO groups, Wikipedia leads), 'none', or a file/folder of documents",
    )
    carve_dev_max: int = field(
        default=CARVE_MAX,
        metadata={
            "help": "a dataset without a dev split gets one carved from train: 10% of the training queries, at most "
            "this many (seeded, by query; those queries leave training)",
            "min": 1,
            "max": 5000,
        },
    )
    encoder: str = "local"  # local | ray: who encodes the corpus (harness.retrieval_options.EncoderOptions)
    ray_address: str = "local"


@dataclass
class DevSet:
    relevant: dict[str, set[str]]
    source: str  # "dev split" or CARVED_DEV
    seed: int | None = None

    def card(self) -> dict:
        return {"source": self.source, "queries": len(self.relevant), "seed": self.seed}


def choose_dev(ds: Dataset, cfg: TripletConfig, train: dict[str, set[str]]) -> DevSet:
    """The dataset's dev split, or when it has none a seeded share of the training queries `train` (whole
    queries)."""
    if ds.qrels.get("dev"):
        return DevSet(ds.relevant("dev"), "dev split")
    n = min(cfg.carve_dev_max, math.ceil(CARVE_SHARE * len(train)))
    if len(train) - n < 1:
        raise RagtuneError(f"{ds.path}: no dev split, and too few training queries ({len(train)}) to carve one")
    carved = stable_order(train, f"{cfg.mining.seed}/carve-dev", key=str)[:n]
    return DevSet({q: train[q] for q in sorted(carved)}, CARVED_DEV, cfg.mining.seed)


def reserve_distractors(ds: Dataset, cfg: MiningConfig, dev: dict[str, set[str]] | None = None) -> list[str]:
    """A seeded set of documents relevant to no evaluation query; never mined as negatives."""
    if dev is None:
        dev = ds.relevant("dev") if ds.qrels.get("dev") else {}
    test = ds.relevant("test") if ds.qrels.get("test") else {}
    evaluated = {d for split in (dev, test) for docs in split.values() for d in docs}
    free = [d for d in ds.corpus if d not in evaluated]
    n = cfg.reserve_distractors if cfg.reserve_distractors is not None else default_reserve(len(ds.corpus))
    return stable_order(free, f"{cfg.seed}/reserve", key=str)[:n]


def training_queries(ds: Dataset) -> tuple[dict[str, set[str]], dict]:
    """The train split's relevant documents without any query that is also a dev/test query.

    Such a query is dropped from training with a loud warning rather than refused: the leak is in the labels, not
    the documents, and the rest of the training set is still good (the O*NET set has none: its demo is unchanged).
    Returns how many were dropped, by id and by normalised text.
    """
    overlap = split_overlap(ds.queries, ds.qrels)
    if overlap:
        console.print(
            f"[bold yellow]warning:[/] {ds.path / 'qrels' / 'train.tsv'}: {overlap.describe()}; "
            f"dropped from training so no evaluation query is trained on",
            highlight=False,
        )
    relevant = {q: docs for q, docs in ds.relevant("train").items() if q not in overlap.train_ids}
    return relevant, {"by_id": len(overlap.by_id), "by_text": len(overlap.by_text)}


def mine_outside_negatives(
    model, ds: Dataset, q_emb, pos_emb, cfg: TripletConfig, cache
) -> tuple[list[list[Document]], dict]:
    """Per row, the hardest training-side outside documents that are not the dataset's own, and what the card
    says about them."""
    docs, own = without_dataset_documents(training_side(cfg.outside) if cfg.mining.num_outside else [], ds)
    info = {
        "source": cfg.outside,
        "split": split_card(cfg.outside),
        "per_row": cfg.mining.num_outside,
        "dataset_documents_dropped": own,
    }
    if not docs:
        return [[] for _ in range(len(q_emb))], {**info, "stats": OutsideStats().as_dict()}
    out_emb = encode(model, [document_text(d) for d in docs], "document", cache, cfg.batch_size, show_progress=True)
    chosen, stats = mine_outside(q_emb, pos_emb, out_emb, cfg.mining)
    return [[docs[i] for i in row] for row in chosen], {**info, "stats": stats.as_dict()}


def _encode_corpus(model, texts: list[str], cache: EmbeddingCache, cfg: TripletConfig) -> np.ndarray:
    from harness.document_embedder import document_embedder
    from harness.ray_encoding import RayConfig

    ray = RayConfig(address=cfg.ray_address, batch_size=cfg.batch_size)
    return document_embedder(model, texts, cache, cfg.encoder, cfg.batch_size, ray=ray, show_progress=True)(texts)


def _given_negatives(ds: Dataset, rows: list[tuple[str, str]], index: dict[str, int]) -> list[list[int]] | None:
    """Per row, the dataset's own negatives (negatives.jsonl) as corpus rows; None when it gives none."""
    given_ids = read_given_negatives(ds.path)
    unknown = [d for ds_ in given_ids.values() for d in ds_ if d not in index]
    if unknown:
        raise DataError(Path(ds.path) / "negatives.jsonl", f"unknown document '{unknown[0]}'", field="corpus-id")
    return [[index[x] for x in given_ids.get(q, [])] for q, _ in rows] if given_ids else None


def _triplet_records(ds: Dataset, doc_ids: list[str], rows, negatives, outside) -> list[dict]:
    """The train file's rows; a row left without mined negatives is left out."""
    records = []
    for (q, d), negs, extra in zip(rows, negatives, outside, strict=True):
        if not negs:
            continue
        records.append(
            {
                "query_id": q,
                "query": ds.queries[q],
                "positive_id": d,
                "positive": document_text(ds.corpus[d]),
                "negative_ids": [doc_ids[i] for i in negs],
                "negatives": [document_text(ds.corpus[doc_ids[i]]) for i in negs],
                "outside_negative_ids": [x.id for x in extra],
                "outside_negatives": [document_text(x) for x in extra],
            }
        )
    return records


def _write_dev(out: Path, ds: Dataset, dev) -> None:
    write_jsonl(
        out / DEV_FILE,
        (
            {"query_id": q, "query": ds.queries[q], "relevant_ids": sorted(dev.relevant[q])}
            for q in sorted(dev.relevant)
        ),
    )


def build_triplets(ds: Dataset, model, cfg: TripletConfig) -> tuple[Path, MiningStats, dict]:
    out = Path(cfg.out) if cfg.out else triplets_dir(ds.path)
    train, dropped = training_queries(ds)
    dev = choose_dev(ds, cfg, train)
    relevant = {q: docs for q, docs in train.items() if q not in dev.relevant}
    doc_ids = list(ds.corpus)
    index = {d: i for i, d in enumerate(doc_ids)}
    # one row per (query, positive): a query with two relevant documents trains on both
    rows = [(q, d) for q in sorted(relevant) for d in sorted(relevant[q])]
    if not rows:
        raise RagtuneError(f"{ds.path}/qrels/train.tsv: no relevant pairs to train on")
    given = _given_negatives(ds, rows, index)
    cache = EmbeddingCache(policy=cfg.cache)
    with working("encoding corpus and training queries (cached by content)"):
        doc_emb = _encode_corpus(model, [document_text(ds.corpus[d]) for d in doc_ids], cache, cfg)
        q_texts = [ds.queries[q] for q, _ in rows]
        q_emb = encode(model, q_texts, "query", cache, cfg.batch_size, show_progress=True)
    positives = [[index[d]] + sorted(index[x] for x in relevant[q] if x != d) for q, d in rows]
    reserved = reserve_distractors(ds, cfg.mining, dev.relevant)
    negatives, stats = mine(q_emb, doc_emb, positives, cfg.mining, given=given, excluded={index[d] for d in reserved})
    with working("mining outside negatives (training side only)"):
        outside, outside_card = mine_outside_negatives(model, ds, q_emb, doc_emb[[p[0] for p in positives]], cfg, cache)
    write_jsonl(out / TRAIN_FILE, _triplet_records(ds, doc_ids, rows, negatives, outside))
    _write_dev(out, ds, dev)
    # absolute: step 2 may run from another folder than this one
    card = {
        "dataset": str(Path(ds.path).resolve()),
        "dataset_fingerprint": ds.fingerprint(),
        "model": str(model.path),
        "model_fingerprint": model.fingerprint,
        "mining": asdict(cfg.mining),
        "stats": stats.as_dict(),
        "dev_queries": len(dev.relevant),
        "dev": dev.card(),
        "outside_negatives": outside_card,
        "reserved_distractors": len(reserved),
        "dropped_overlapping_queries": dropped,
        "embedding_cache": {"hits": cache.hits, "misses": cache.misses, "reused_rows": cache.reused_rows},
    }
    write_json(out / CARD_FILE, card)
    return out, stats, card
