"""The flat seed format, one CSV or JSONL with columns query, positive[, negative][, answer], converted once
to BEIR.

Texts become documents (deduplicated), queries are grouped by text, and a seeded hash assigns each query to
train/dev/test so the same file always gives the same split. Given negatives are kept in negatives.jsonl, reference
answers (the optional `answer` column; a query on several rows may have several) in answers.jsonl.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from corpus.answers import ANSWERS_FILE
from corpus.beir import Dataset, Document, write_dataset
from corpus.errors import DataError
from corpus.jsonl import iter_csv_rows, iter_jsonl, read_text, require_str, write_json, write_jsonl
from corpus.splits import stable_hash

FLAT_SUFFIXES = (".csv", ".jsonl", ".json")
REQUIRED = ("query", "positive")
# bumped when a conversion writes something new (2: answers.jsonl), so older conversions are redone once
FLAT_FORMAT = 2


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
            yield (
                lineno,
                row["query"],
                row["positive"],
                (row.get("negative") or "").strip(),
                (row.get("answer") or "").strip(),
            )
    else:
        for lineno, obj in iter_jsonl(path):
            q = require_str(path, lineno, obj, "query")
            p = require_str(path, lineno, obj, "positive")
            n = require_str(path, lineno, obj, "negative", allow_empty=True) if obj.get("negative") is not None else ""
            a = require_str(path, lineno, obj, "answer", allow_empty=True) if obj.get("answer") is not None else ""
            yield lineno, q, p, n.strip(), a.strip()


def convert_flat(path: Path, out_dir: Path, seed: int = 13, dev_share: float = 0.1, test_share: float = 0.1) -> Path:
    """Convert once: the output is reused while the source file's content is unchanged."""
    path, out_dir = Path(path), Path(out_dir)
    source_hash = hashlib.sha256(read_text(path).encode()).hexdigest()[:16]
    marker = out_dir / "flat_source.json"
    if (
        marker.exists()
        and json.loads(marker.read_text()).get("sha256") == source_hash
        and json.loads(marker.read_text()).get("format") == FLAT_FORMAT
    ):
        return out_dir
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
        out_dir,
        {i: Document(i, "", t) for t, i in docs.items()},
        {i: t for t, i in queries.items()},
        {s: v for s, v in splits.items() if v},
    )
    write_dataset(ds, out_dir)
    write_jsonl(out_dir / "negatives.jsonl", negs)
    if any(answers.values()):
        write_jsonl(out_dir / ANSWERS_FILE, ({"query_id": q, "answer": a} for q, a in answers.items() if a))
    else:
        (out_dir / ANSWERS_FILE).unlink(missing_ok=True)  # a column removed since the last conversion
    write_json(marker, {"source": str(path), "sha256": source_hash, "format": FLAT_FORMAT})
    return out_dir


def read_given_negatives(dataset_dir: Path) -> dict[str, list[str]]:
    path = Path(dataset_dir) / "negatives.jsonl"
    out: dict[str, list[str]] = {}
    if not path.exists() or not path.read_text(encoding="utf-8").strip():
        return out
    for lineno, obj in iter_jsonl(path):
        out.setdefault(require_str(path, lineno, obj, "query-id"), []).append(
            require_str(path, lineno, obj, "corpus-id")
        )
    return out
