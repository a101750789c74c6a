"""A user's own documents, without queries or labels, read and cut into passages for query generation.

Accepted sources:
    a folder of .txt / .md files        id = path inside the folder without suffix, title = a leading
                                         '# heading' (Markdown) or the file name
    a CSV or JSONL file                  one document per row, columns named by --text-column (default
                                         'text'), --title-column and --id-column (default '_id' or 'id' when
                                         present, else the line number)
    a BEIR corpus.jsonl (or its folder)  the same JSONL reader: '_id', 'title' and 'text' are the defaults

Long documents are split with LangChain's RecursiveCharacterTextSplitter; a passage id is the document id plus
'#p<n>' (1-based), so every passage, query and qrel points back to its source document.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from corpus.beir import Document
from corpus.errors import DataError, RagtuneError
from corpus.jsonl import iter_csv_rows, iter_jsonl, read_text

TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".csv", ".jsonl")
PASSAGE_MARK = "#p"


@dataclass(frozen=True)
class Columns:
    text: str = "text"
    title: str | None = None  # None: 'title' when the file has it
    id: str | None = None  # None: '_id' or 'id' when the file has it, else the line number


@dataclass(frozen=True)
class SplitterConfig:
    chunk_size: int = 1000  # characters; MiniLM reads 256 word pieces, about 1,000 characters of English
    chunk_overlap: int = 100

    def __post_init__(self):
        if self.chunk_size < 50:
            raise RagtuneError(f"--chunk-size {self.chunk_size}: use at least 50 characters")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise RagtuneError(
                f"--chunk-overlap {self.chunk_overlap} must be ≥ 0 and smaller than --chunk-size {self.chunk_size}"
            )


@dataclass(frozen=True)
class Passage:
    id: str
    source_id: str
    title: str
    text: str

    def as_document(self) -> Document:
        return Document(self.id, self.title, self.text)


@dataclass(frozen=True)
class SourceSummary:
    path: str
    format: str
    documents: int
    skipped_empty: int  # table rows whose text is blank (exports often have them); files must not be empty
    sha256: str  # of the bytes read, so a card names exactly which input it came from


def passage_id(source_id: str, index: int) -> str:
    return f"{source_id}{PASSAGE_MARK}{index}"


def source_of(pid: str) -> str:
    """The document a passage id points back to."""
    head, mark, tail = pid.rpartition(PASSAGE_MARK)
    return head if mark and tail.isdigit() else pid


def read_documents(
    path: str | Path, columns: Columns = Columns(), max_docs: int | None = None
) -> tuple[list[Document], SourceSummary]:
    """Documents in source order (files sorted by path); max_docs keeps the first ones, for a quick look."""
    path = Path(path)
    if not path.exists():
        raise RagtuneError(f"{path}: not found (expected a folder of .txt/.md files, a CSV or a JSONL file)")
    if path.is_dir():
        files = _text_files(path)
        if not files and (path / "corpus.jsonl").is_file():
            return read_documents(path / "corpus.jsonl", columns, max_docs)
        if not files:
            raise RagtuneError(f"{path}: no .txt or .md files in this folder (nor a corpus.jsonl)")
        docs, digest = _read_folder(path, files[:max_docs] if max_docs else files)
        return docs, SourceSummary(str(path), "folder", len(docs), 0, digest)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        docs, digest = _read_folder(path.parent, [path])
        return docs, SourceSummary(str(path), "text file", 1, 0, digest)
    if suffix not in TABLE_SUFFIXES:
        raise RagtuneError(f"{path}: unsupported file type '{suffix}' (use a folder of .txt/.md, .csv or .jsonl)")
    text = read_text(path)  # empty files and bad encodings are reported here, with the line
    fmt = "csv" if suffix == ".csv" else ("beir corpus.jsonl" if path.name == "corpus.jsonl" else "jsonl")
    rows = iter_csv_rows(path) if suffix == ".csv" else _jsonl_rows(path)
    docs, skipped = _table_documents(path, rows, columns, max_docs)
    return docs, SourceSummary(str(path), fmt, len(docs), skipped, _sha(text.encode()))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _text_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in TEXT_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _read_folder(folder: Path, files: list[Path]) -> tuple[list[Document], str]:
    h = hashlib.sha256()
    docs = []
    for f in files:
        text = read_text(f).strip()
        doc_id = f.relative_to(folder).with_suffix("").as_posix()
        title = f.stem.replace("_", " ").replace("-", " ").strip()
        first, _, rest = text.partition("\n")
        if f.suffix.lower() == ".md" and first.startswith("# ") and rest.strip():
            title, text = first[2:].strip(), rest.strip()
        docs.append(Document(doc_id, title, text))
        h.update(doc_id.encode() + b"\x00" + text.encode() + b"\x01")
    return docs, h.hexdigest()[:16]


def _jsonl_rows(path: Path):
    items = list(iter_jsonl(path))
    header = list(items[0][1]) if items else []
    return header, iter(items)


def _pick(header: list[str], explicit: str | None, defaults: tuple[str, ...]) -> str | None:
    if explicit is not None:
        return explicit
    return next((d for d in defaults if d in header), None)


def _table_documents(path: Path, rows, columns: Columns, max_docs: int | None) -> tuple[list[Document], int]:
    header, items = rows
    text_col = columns.text
    title_col = _pick(header, columns.title, ("title",))
    id_col = _pick(header, columns.id, ("_id", "id"))
    for flag, col in (("--text-column", text_col), ("--title-column", title_col), ("--id-column", id_col)):
        if col is not None and col not in header:
            raise DataError(path, f"missing column (set {flag}; the file has: {', '.join(header)})", line=1, field=col)
    docs: dict[str, Document] = {}
    skipped = 0
    for lineno, row in items:
        for col in (text_col, title_col, id_col):
            if col is not None and col not in row:
                raise DataError(path, "missing", line=lineno, field=col)
        text = _cell(path, lineno, row, text_col)
        if not text:
            skipped += 1
            continue
        doc_id = _cell(path, lineno, row, id_col) if id_col else f"line{lineno}"
        if not doc_id:
            raise DataError(path, "is empty", line=lineno, field=id_col)
        if PASSAGE_MARK in doc_id and source_of(doc_id) != doc_id:
            raise DataError(
                path, f"id '{doc_id}' ends like a passage id ('{PASSAGE_MARK}<n>')", line=lineno, field=id_col
            )
        if doc_id in docs:
            raise DataError(path, f"duplicate id '{doc_id}'", line=lineno, field=id_col)
        docs[doc_id] = Document(doc_id, _cell(path, lineno, row, title_col) if title_col else "", text)
        if max_docs and len(docs) >= max_docs:
            break
    if not docs:
        raise DataError(path, f"no row has text in column '{text_col}'", field=text_col)
    return list(docs.values()), skipped


def _cell(path: Path, lineno: int, row: dict, col: str) -> str:
    value = row[col]
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise DataError(path, f"expected text, got {type(value).__name__}", line=lineno, field=col)
    return value.strip()


def split_passages(docs: list[Document], cfg: SplitterConfig = SplitterConfig()) -> list[Passage]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=cfg.chunk_size, chunk_overlap=cfg.chunk_overlap)
    passages = []
    for doc in docs:
        chunks = merge_fragments([c.strip() for c in splitter.split_text(doc.text) if c.strip()], cfg.chunk_size // 5)
        passages += [
            Passage(passage_id(doc.id, i), doc.id, doc.title, chunk) for i, chunk in enumerate(chunks, start=1)
        ]
    return passages


def merge_fragments(chunks: list[str], min_chars: int) -> list[str]:
    """Join a chunk shorter than min_chars to its neighbour: the splitter cuts at paragraph breaks first, so a
    heading line ('Staff Accountant') would otherwise become a passage of its own that no query can describe."""
    out: list[str] = []
    carry = ""
    for chunk in chunks:
        chunk = f"{carry}\n\n{chunk}" if carry else chunk
        carry = ""
        if len(chunk) < min_chars:
            carry = chunk
        else:
            out.append(chunk)
    if carry:
        if out:
            out[-1] = f"{out[-1]}\n\n{carry}"
        else:
            out.append(carry)
    return out
