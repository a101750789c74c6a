"""The BEIR layout: ragtune's dataset format and the swap-in format for domain data.

    DIR/corpus.jsonl         {"_id", "title", "text"}
    DIR/queries.jsonl        {"_id", "text"}
    DIR/qrels/<split>.tsv    query-id <TAB> corpus-id <TAB> score   (with a header line)

A score is a finite number: integers stay integers, a fractional grade (0.7) is kept as a float and used as the
gain in nDCG; > 0 is relevant. inf, nan, an overflowing 1e400 or a non-number is an error.
Everything is validated on load; a problem is a DataError naming file, line and field.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from corpus.errors import DataError, RagtuneError
from corpus.jsonl import iter_csv_rows, iter_jsonl, require_str, write_jsonl

SPLITS = ("train", "dev", "test")
Grade = int | float
QRELS_HEADER = ("query-id", "corpus-id", "score")


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str


def document_text(doc: Document) -> str:
    """The one text every model sees for a document, in training, evaluation and RAG alike."""
    return f"{doc.title}\n{doc.text}" if doc.title else doc.text


@dataclass
class Dataset:
    path: Path
    corpus: dict[str, Document]
    queries: dict[str, str]
    # split -> query id -> document id -> graded relevance (> 0 relevant; int, or float when given fractional)
    qrels: dict[str, dict[str, dict[str, Grade]]] = field(default_factory=dict)

    def split(self, name: str) -> dict[str, dict[str, Grade]]:
        if name not in self.qrels:
            have = ", ".join(sorted(self.qrels)) or "none"
            raise RagtuneError(f"{self.path}: no qrels/{name}.tsv (splits present: {have})")
        qrels = self.qrels[name]
        if not qrels:
            raise RagtuneError(f"{self.path / 'qrels' / (name + '.tsv')}: split '{name}' has no relevant pairs")
        return qrels

    def relevant(self, split: str) -> dict[str, set[str]]:
        return {q: {d for d, s in docs.items() if s > 0} for q, docs in self.split(split).items()}

    def fingerprint(self) -> str:
        return corpus_fingerprint(self.corpus.values())


def corpus_fingerprint(docs) -> str:
    h = hashlib.sha256()
    for doc in docs:
        h.update(doc.id.encode())
        h.update(b"\x00")
        h.update(document_text(doc).encode())
        h.update(b"\x01")
    return h.hexdigest()[:16]


def read_corpus(path: Path) -> dict[str, Document]:
    path = Path(path)
    corpus: dict[str, Document] = {}
    for lineno, obj in iter_jsonl(path):
        doc_id = require_str(path, lineno, obj, "_id")
        # public BEIR sets hold a few title-only documents: an empty text is fine while the title says something
        text = require_str(path, lineno, obj, "text", allow_empty=True)
        title = require_str(path, lineno, obj, "title", allow_empty=True) if "title" in obj else ""
        if not text.strip() and not title.strip():
            raise DataError(path, "is empty (and so is the title)", line=lineno, field="text")
        if doc_id in corpus:
            raise DataError(path, f"duplicate id '{doc_id}'", line=lineno, field="_id")
        corpus[doc_id] = Document(doc_id, title, text)
    return corpus


def read_queries(path: Path) -> dict[str, str]:
    path = Path(path)
    queries: dict[str, str] = {}
    for lineno, obj in iter_jsonl(path):
        qid = require_str(path, lineno, obj, "_id")
        text = require_str(path, lineno, obj, "text")
        if qid in queries:
            raise DataError(path, f"duplicate id '{qid}'", line=lineno, field="_id")
        queries[qid] = text
    return queries


def parse_grade(path: Path, lineno: int, text: str) -> Grade:
    """An int when the score is a whole number ("1", "1.0": integer datasets keep their exact values), else a
    float; a fractional grade used to be truncated to int, which silently made 0.7 not relevant."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(path, f"expected a number, got '{text}'", line=lineno, field="score") from None
    if not math.isfinite(value):
        raise DataError(path, f"expected a finite number, got '{text}'", line=lineno, field="score")
    return int(value) if value.is_integer() else value


def read_qrels(path: Path, queries: dict[str, str], corpus: dict[str, Document]) -> dict[str, dict[str, Grade]]:
    path = Path(path)
    header, rows = iter_csv_rows(path, delimiter="\t")
    if len(header) != 3 or header[0] != "query-id" or header[1] != "corpus-id":
        raise DataError(path, f"header must be 'query-id<TAB>corpus-id<TAB>score', found {header!r}", line=1)
    qrels: dict[str, dict[str, Grade]] = {}
    for lineno, row in rows:
        qid, did, score = row[header[0]].strip(), row[header[1]].strip(), row[header[2]].strip()
        if qid not in queries:
            raise DataError(path, f"unknown query '{qid}' (not in queries.jsonl)", line=lineno, field="query-id")
        if did not in corpus:
            raise DataError(path, f"unknown document '{did}' (not in corpus.jsonl)", line=lineno, field="corpus-id")
        value = parse_grade(path, lineno, score)
        if did in qrels.setdefault(qid, {}):
            raise DataError(path, f"duplicate pair ({qid}, {did})", line=lineno)
        qrels[qid][did] = value
    return qrels


def load_dataset(path: Path, splits: tuple[str, ...] = SPLITS) -> Dataset:
    """Load and validate a BEIR folder; splits without a qrels file are simply absent."""
    path = Path(path)
    if not path.is_dir():
        raise RagtuneError(f"{path}: dataset folder not found (expected corpus.jsonl, queries.jsonl, qrels/)")
    corpus = read_corpus(path / "corpus.jsonl")
    queries = read_queries(path / "queries.jsonl")
    qrels = {}
    for split in splits:
        qfile = path / "qrels" / f"{split}.tsv"
        if qfile.exists():
            qrels[split] = read_qrels(qfile, queries, corpus)
    if not qrels:
        raise RagtuneError(
            f"{path / 'qrels'}: no qrels files (expected one of {', '.join(s + '.tsv' for s in splits)})"
        )
    return Dataset(path, corpus, queries, qrels)


def write_dataset(ds: Dataset, path: Path, extra: dict[str, dict] | None = None) -> None:
    """extra: more fields per document id for corpus.jsonl (e.g. the source file and page); readers ignore them."""
    path = Path(path)
    extra = extra or {}
    write_jsonl(
        path / "corpus.jsonl",
        ({"_id": d.id, "title": d.title, "text": d.text, **extra.get(d.id, {})} for d in ds.corpus.values()),
    )
    write_jsonl(path / "queries.jsonl", ({"_id": q, "text": t} for q, t in ds.queries.items()))
    (path / "qrels").mkdir(parents=True, exist_ok=True)
    for split, qrels in ds.qrels.items():
        lines = ["\t".join(QRELS_HEADER)]
        lines += [f"{q}\t{d}\t{s}" for q, docs in qrels.items() for d, s in docs.items()]
        (path / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_pool(path: Path, dataset: Dataset | None = None) -> dict[str, Document]:
    """A candidate pool from 1_build_corpus.py (corpus.jsonl lines plus a 'source' field)."""
    return read_corpus(path)
