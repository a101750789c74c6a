"""The flat seed format, one CSV or JSONL with columns query, positive[, negative], converted once to BEIR.

Texts become documents (deduplicated), queries are grouped by text, and a seeded hash assigns each query to
train/dev/test so the same file always gives the same split. Given negatives are kept in negatives.jsonl, reference
answers (the optional `answer` column; a query on several rows may have several) in answers.jsonl.

A conversion is keyed by the source's content: `flat_dataset_dir` names the folder data/<stem>-<8 hex of the
file's sha256>, so two different files called seed.csv (or one file edited) never share a folder, and step 3 can
never score one file's queries with another's labels. The folder records the full fingerprint in
flat_source.json; a folder whose record is missing, garbled or different is converted again. A conversion is
written into a staging folder and swapped in whole, so no split, pool or triplet of an older conversion survives
beside a newer one, and a killed conversion leaves the previous folder (or none) behind.
Quoted CSV cells keep their line breaks (as "\n"): a query or document text may contain newlines.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from corpus.answers import ANSWERS_FILE
from corpus.atomic_folder import staged_folder
from corpus.beir import Dataset, Document, write_dataset
from corpus.errors import DataError
from corpus.jsonl import iter_csv_rows, iter_jsonl, read_json_or_none, read_text, require_str, write_json, write_jsonl
from corpus.splits import stable_hash

FLAT_SUFFIXES = (".csv", ".jsonl", ".json")
REQUIRED = ("query", "positive")
SOURCE_RECORD = "flat_source.json"
# bumped when a conversion writes something new (2: answers.jsonl), so older conversions are redone once
FLAT_FORMAT = 2


def source_fingerprint(path: Path) -> str:
    read_text(path)  # a missing, empty or non-UTF-8 file is reported here, with its line
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def flat_dataset_dir(path: Path, data_dir: Path) -> Path:
    """Where a flat file is converted: named by its stem and content, so another content gets another folder."""
    path = Path(path)
    return Path(data_dir) / f"{path.stem}-{source_fingerprint(path)[:8]}"


def _rows(path: Path):
    if path.suffix.lower() == ".csv":
        header, rows = iter_csv_rows(path)
        for col in REQUIRED:
            if col not in header:
                raise DataError(path, f"missing column (header has: {', '.join(header)})", line=1, field=col)
        for lineno, row in rows:
            for col in REQUIRED:
                if not row[col].strip():
                    raise DataError(path, "is empty", line=lineno, field=col)
            answer = (row.get("answer") or "").strip()
            yield lineno, row["query"], row["positive"], (row.get("negative") or "").strip(), answer
    else:
        for lineno, obj in iter_jsonl(path):
            q = require_str(path, lineno, obj, "query")
            p = require_str(path, lineno, obj, "positive")
            n = require_str(path, lineno, obj, "negative", allow_empty=True) if obj.get("negative") is not None else ""
            a = require_str(path, lineno, obj, "answer", allow_empty=True) if obj.get("answer") is not None else ""
            yield lineno, q, p, n.strip(), a.strip()


def convert_flat(path: Path, out_dir: Path, seed: int = 13, dev_share: float = 0.1, test_share: float = 0.1) -> Path:
    """Convert once: the output is reused while it records the source's fingerprint, else replaced whole."""
    path, out_dir = Path(path), Path(out_dir)
    source_hash = source_fingerprint(path)
    record = read_json_or_none(out_dir / SOURCE_RECORD)
    if (
        isinstance(record, dict)
        and record.get("sha256") == source_hash
        and record.get("format") == FLAT_FORMAT
        and (out_dir / "corpus.jsonl").is_file()
    ):
        return out_dir
    ds, negs, answers = _flat_dataset(path, seed, dev_share, test_share)
    with staged_folder(out_dir) as staging:
        ds.path = staging
        write_dataset(ds, staging)
        write_jsonl(staging / "negatives.jsonl", negs)
        if any(answers.values()):
            write_jsonl(staging / ANSWERS_FILE, ({"query_id": q, "answer": a} for q, a in answers.items() if a))
        record = {"source": str(path.resolve()), "sha256": source_hash, "format": FLAT_FORMAT}
        write_json(staging / SOURCE_RECORD, record)
    ds.path = out_dir
    return out_dir


def _flat_dataset(
    path: Path, seed: int, dev_share: float, test_share: float
) -> tuple[Dataset, list[dict], dict[str, list[str]]]:
    docs: dict[str, str] = {}  # text -> id
    queries: dict[str, str] = {}  # text -> id
    pairs: dict[str, dict[str, int]] = {}
    negs: list[dict] = []
    answers: dict[str, list[str]] = {}
    for _, q, p, n, a in _rows(path):
        qid = queries.setdefault(q.strip(), f"q{len(queries)}")
        pid = docs.setdefault(p.strip(), f"d{len(docs)}")
        pairs.setdefault(qid, {})[pid] = 1
        if n:
            negs.append({"query-id": qid, "corpus-id": docs.setdefault(n, f"d{len(docs)}")})
        if a and a not in answers.setdefault(qid, []):
            answers[qid].append(a)
    splits: dict[str, dict[str, dict[str, int]]] = {"train": {}, "dev": {}, "test": {}}
    for qtext, qid in queries.items():
        u = stable_hash(seed, qtext) / 2**64
        split = "test" if u < test_share else "dev" if u < test_share + dev_share else "train"
        splits[split][qid] = pairs[qid]
    ds = Dataset(
        Path(),
        {i: Document(i, "", t) for t, i in docs.items()},
        {i: t for t, i in queries.items()},
        {s: v for s, v in splits.items() if v},
    )
    return ds, negs, answers


def read_given_negatives(dataset_dir: Path) -> dict[str, list[str]]:
    path = Path(dataset_dir) / "negatives.jsonl"
    out: dict[str, list[str]] = {}
    if not path.exists() or not path.read_bytes().strip():
        return out
    for lineno, obj in iter_jsonl(path):
        out.setdefault(require_str(path, lineno, obj, "query-id"), []).append(
            require_str(path, lineno, obj, "corpus-id")
        )
    return out
