"""What the trainer consumes: triplet columns, the dev queries, the corpus they search, one data fingerprint."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from itertools import cycle, islice
from pathlib import Path

from corpus.beir import document_text, load_dataset
from corpus.console import console
from corpus.errors import DataError, RagtuneError
from corpus.jsonl import iter_jsonl, require_str
from corpus.splits import split_overlap
from corpus.triplets import CARD_FILE, DEV_FILE, TRAIN_FILE, Triplet, read_triplets

ANCHOR, POSITIVE = "anchor", "positive"


@dataclass
class TrainingData:
    folder: Path
    triplets: list[Triplet]
    dev_queries: dict[str, str]
    dev_relevant: dict[str, set[str]]
    corpus: dict[str, str]  # document id -> the text a model sees
    dataset_path: str
    fingerprint: str
    triplet_card: dict = field(default_factory=dict)  # step 0's card: how dev was made, outside negatives


def _file_digest(h, path: Path) -> None:
    h.update(path.name.encode())
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)


def card_path(card_file: Path, stored: str) -> Path:
    """A path a card stores: absolute since cards record them so; an older relative one is tried beside the card
    first, then from the working folder."""
    p = Path(stored)
    if p.is_absolute() or not (Path(card_file).parent / p).exists():
        return p
    return Path(card_file).parent / p


def load_training_data(path: str | Path) -> TrainingData:
    """A triplet folder from 0_build_triplets.py (or its train.jsonl): triplets, dev set and the dataset's corpus."""
    path = Path(path)
    if not path.exists():
        raise RagtuneError(f"triplets not found: {path} (run 0_build_triplets.py first, or pass --triplets)")
    folder = path if path.is_dir() else path.parent
    train_file = path / TRAIN_FILE if path.is_dir() else path
    if not train_file.exists():
        raise RagtuneError(f"triplets not found: {train_file} (run 0_build_triplets.py first, or pass --triplets)")
    triplets = read_triplets(train_file)
    dev_file, card_file = folder / DEV_FILE, folder / CARD_FILE
    for needed, why in ((dev_file, "the dev queries"), (card_file, "which dataset the triplets came from")):
        if not needed.exists():
            raise RagtuneError(f"{needed}: missing ({why}); rebuild the triplets with 0_build_triplets.py")
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(card_file, f"invalid JSON ({exc.msg})", line=exc.lineno) from None
    if not isinstance(card, dict) or not card.get("dataset"):
        raise DataError(card_file, "missing", field="dataset")
    ds = load_dataset(card_path(card_file, card["dataset"]))
    overlap = split_overlap(ds.queries, ds.qrels)
    if overlap.train_ids & {t.query_id for t in triplets}:
        # triplets written before the overlap rule existed: still never train on an evaluation query
        console.print(
            f"[bold yellow]warning:[/] {train_file}: {overlap.describe()}; their triplets are left out", highlight=False
        )
        triplets = [t for t in triplets if t.query_id not in overlap.train_ids]
        if not triplets:
            raise RagtuneError(f"{train_file}: every triplet is for a dev/test query; rebuild with 0_build_triplets.py")
    corpus = {d: document_text(doc) for d, doc in ds.corpus.items()}
    dev_queries, dev_relevant = {}, {}
    for lineno, obj in iter_jsonl(dev_file):
        qid = require_str(dev_file, lineno, obj, "query_id")
        ids = obj.get("relevant_ids")
        if not isinstance(ids, list) or not ids:
            raise DataError(dev_file, "expected a non-empty list of document ids", line=lineno, field="relevant_ids")
        unknown = [str(d) for d in ids if str(d) not in corpus]
        if unknown:
            raise DataError(
                dev_file,
                f"unknown document '{unknown[0]}' (not in {ds.path}/corpus.jsonl)",
                line=lineno,
                field="relevant_ids",
            )
        dev_queries[qid] = require_str(dev_file, lineno, obj, "query")
        dev_relevant[qid] = {str(d) for d in ids}
    h = hashlib.sha256()
    _file_digest(h, train_file)
    _file_digest(h, dev_file)
    h.update(ds.fingerprint().encode())
    return TrainingData(
        folder, triplets, dev_queries, dev_relevant, corpus, str(Path(ds.path).resolve()), h.hexdigest()[:16], card
    )


def negative_columns(num_negatives: int) -> list[str]:
    return [f"negative_{i + 1}" for i in range(num_negatives)]


def query_columns(k: int) -> list[str]:
    """The query column names of a row with k queries. Not anchor_2..: the trainer gives a column every input whose
    name starts with its own plus '_', so 'anchor' would take anchor_2's tensors too."""
    return [ANCHOR] if k == 1 else [f"query_{i + 1}" for i in range(k)]


def shared_positive_groups(triplets: list[Triplet], k: int) -> list[list[Triplet]]:
    """The triplets in groups of k with the same positive, in file order; a positive's last group is filled by
    cycling through its own triplets (a document with fewer than k queries repeats them: their weight, not new
    negatives)."""
    by_positive: dict[str, list[Triplet]] = {}
    for t in triplets:
        by_positive.setdefault(t.positive_id, []).append(t)
    groups = []
    for rows in by_positive.values():
        for start in range(0, len(rows), k):
            group = rows[start : start + k]
            groups.append(group + list(islice(cycle(rows), k - len(group))))
    return groups


def training_rows(triplets: list[Triplet], k: int) -> list[list[Triplet]]:
    """The triplets as training rows: one each in file order, or groups of k sharing a positive when k > 1."""
    return shared_positive_groups(triplets, k) if k > 1 else [[t] for t in triplets]


def usable_triplets(triplets: list[Triplet], num_negatives: int, outside_negatives: int = 0) -> list[Triplet]:
    return [t for t in triplets if len(t.negatives) >= num_negatives and len(t.outside) >= outside_negatives]


def to_dataset(triplets: list[Triplet], num_negatives: int, outside_negatives: int = 0, queries_per_row: int = 1):
    """(anchor, positive, negative_1..k) columns, text only: every column is fed to the loss and the sampler.
    The outside negatives come first, then the dataset's own. With queries_per_row q > 1 a row holds q queries of
    one positive and the negatives of the first of them: (query_1, positive, query_2..query_q, negative_1..k), the
    first two where the trainer expects a query and its positive (train.shared_positive).

    Rows with fewer negatives of either kind than asked are left out (their count is returned) rather than
    padded with a repeated negative, which would be a duplicate text inside the batch.
    """
    from datasets import Dataset

    kept = usable_triplets(triplets, num_negatives, outside_negatives)
    if not kept:
        raise RagtuneError(
            f"no triplet has {num_negatives} negatives and {outside_negatives} outside negatives; "
            "lower --num-negatives / --outside-negatives (or rebuild the triplets with step 0)"
        )
    groups = training_rows(kept, queries_per_row)
    firsts = [g[0] for g in groups]
    first, *others = query_columns(queries_per_row)
    columns = {first: [t.query for t in firsts], POSITIVE: [t.positive for t in firsts]}
    columns.update({name: [g[i].query for g in groups] for i, name in enumerate(others, start=1)})
    names = negative_columns(outside_negatives + num_negatives)
    for i, name in enumerate(names):
        columns[name] = [
            (t.outside[i] if i < outside_negatives else t.negatives[i - outside_negatives]) for t in firsts
        ]
    return Dataset.from_dict(columns), len(triplets) - len(kept)


def column_prompts(
    query_prompt: str, doc_prompt: str, num_negatives: int, queries_per_row: int = 1
) -> dict[str, str] | None:
    """The trainer's per-column prompts: queries get the query prompt, every document column the document one."""
    if not query_prompt and not doc_prompt:
        return None
    prompts = {name: query_prompt for name in query_columns(queries_per_row)}
    prompts[POSITIVE] = doc_prompt
    prompts.update({name: doc_prompt for name in negative_columns(num_negatives)})
    return prompts
