"""A user's own documents, without queries or labels, read and cut into passages for query generation.

Accepted sources:
    a folder (searched recursively) of    id = path inside the folder without suffix (with it, when two files
    .pdf .html .htm .docx .md .txt        differ only in suffix), title = the path, plus ' — ' and the file's own
                                          title when it has one (corpus.document_formats); a PDF passage's title
                                          adds the page it starts on: 'manual.pdf p. 3 — Installation'
    one such file                         the same, on its own
    a CSV or JSONL file                   one document per row, columns named by --text-column (default
                                          'text'), --title-column and --id-column (default '_id' or 'id' when
                                          present, else the line number)
    a BEIR corpus.jsonl (or its folder)   the same JSONL reader: '_id', 'title' and 'text' are the defaults

The title is where the source travels: every display of a passage (report page, chatbot, CSVs) already shows it,
and the corpus keeps 'file' and 'page' as fields of their own. A file in a folder that yields no text (encrypted or
image-only PDF, an empty, oversized or non-UTF-8 file, a broken Word file or HTML page) is skipped with one
warning line and counted in the summary; a folder with no usable file is an error.

Long documents are split with LangChain's RecursiveCharacterTextSplitter, sizes counted in tokens of the embedder; a passage id is the document id plus
'#p<n>' (1-based), so every passage, query and qrel points back to its source document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from corpus.beir import Document
from corpus.document_formats import FOLDER_SUFFIXES, MAX_FILE_MB, Unreadable, read_file
from corpus.errors import DataError, RagtuneError
from corpus.jsonl import iter_csv_rows, iter_jsonl, read_text

TABLE_SUFFIXES = (".csv", ".jsonl")
PASSAGE_MARK = "#p"


@dataclass(frozen=True)
class Columns:
    text: str = "text"
    title: str | None = None  # None: 'title' when the file has it
    id: str | None = None  # None: '_id' or 'id' when the file has it, else the line number


MIN_CHUNK_TOKENS = 16


@dataclass(frozen=True)
class SplitterConfig:
    """Passage sizes in tokens of the embedder that will read them: a passage the model cuts off is a passage whose
    end no query can find (MiniLM reads 256 word pieces, its two special tokens included)."""

    chunk_size: int = 224
    chunk_overlap: int = 24
    embedder: str = "base"  # whose tokenizer counts (a model folder, 'base' or 'mpnet')

    def __post_init__(self):
        if self.chunk_size < MIN_CHUNK_TOKENS:
            raise RagtuneError(f"--chunk-size {self.chunk_size}: use at least {MIN_CHUNK_TOKENS} tokens")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise RagtuneError(
                f"--chunk-overlap {self.chunk_overlap} must be ≥ 0 and smaller than --chunk-size {self.chunk_size}"
            )


@dataclass(frozen=True)
class SourceDocument(Document):
    """A document read from a file: where it came from, and (PDF) where each page starts in its text."""

    file: str = ""  # path inside the source folder
    page_starts: tuple[int, ...] = ()

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return max(i for i, start in enumerate(self.page_starts, start=1) if start <= max(offset, 0))


@dataclass(frozen=True)
class Passage:
    id: str
    source_id: str
    title: str
    text: str
    file: str = ""  # the source file inside the folder ('' for table rows)
    page: int | None = None  # PDF: the page the passage starts on

    def as_document(self) -> Document:
        return Document(self.id, self.title, self.text)

    def fields(self) -> dict:
        """The corpus row's own fields beyond _id, title and text (BEIR readers ignore them)."""
        out = {"file": self.file} if self.file else {}
        return out | ({"page": self.page} if self.page is not None else {})


@dataclass(frozen=True)
class SourceSummary:
    path: str
    format: str
    documents: int
    skipped_empty: int  # table rows whose text is blank (exports often have them); files must not be empty
    sha256: str  # of the bytes read, so a card names exactly which input it came from
    skipped_files: int = 0  # folder files with no usable text, each warned about once
    skipped: tuple[dict, ...] = ()  # {"file", "reason"} of each


def passage_id(source_id: str, index: int) -> str:
    return f"{source_id}{PASSAGE_MARK}{index}"


def source_of(pid: str) -> str:
    """The document a passage id points back to."""
    head, mark, tail = pid.rpartition(PASSAGE_MARK)
    return head if mark and tail.isdigit() else pid


def read_documents(
    path: str | Path,
    columns: Columns = Columns(),
    max_docs: int | None = None,
    max_file_mb: float = MAX_FILE_MB,
    warn: bool = True,
) -> tuple[list[Document], SourceSummary]:
    """Documents in source order (files sorted by path); max_docs keeps the first ones, for a quick look. warn:
    a line per skipped file (off for a look ahead whose reader will warn later)."""
    path = Path(path)
    kinds = " ".join(FOLDER_SUFFIXES)
    if not path.exists():
        raise RagtuneError(f"{path}: not found (expected a folder of {kinds} files, a CSV or a JSONL file)")
    if path.is_dir():
        files = _folder_files(path)
        if not files and (path / "corpus.jsonl").is_file():
            return read_documents(path / "corpus.jsonl", columns, max_docs)
        if not files:
            raise RagtuneError(f"{path}: no {kinds} files in this folder (nor a corpus.jsonl)")
        docs, digest, skipped = _read_folder(path, files, max_docs, max_file_mb, warn)
        return docs, SourceSummary(str(path), "folder", len(docs), 0, digest, len(skipped), tuple(skipped))
    suffix = path.suffix.lower()
    if suffix in FOLDER_SUFFIXES:
        docs, digest, skipped = _read_folder(path.parent, [path], None, max_file_mb, warn)
        return docs, SourceSummary(str(path), f"{suffix[1:]} file", 1, 0, digest)
    if suffix not in TABLE_SUFFIXES:
        raise RagtuneError(f"{path}: unsupported file type '{suffix}' (use a folder of {kinds}, a .csv or .jsonl)")
    text = read_text(path)  # empty files and bad encodings are reported here, with the line
    fmt = "csv" if suffix == ".csv" else ("beir corpus.jsonl" if path.name == "corpus.jsonl" else "jsonl")
    rows = iter_csv_rows(path) if suffix == ".csv" else _jsonl_rows(path)
    docs, skipped = _table_documents(path, rows, columns, max_docs)
    return docs, SourceSummary(str(path), fmt, len(docs), skipped, _sha(text.encode()))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _folder_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in FOLDER_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _document_ids(folder: Path, files: list[Path]) -> dict[Path, str]:
    """Path without suffix (as passage ids read best), with it for files that would otherwise share an id."""
    stems = [f.relative_to(folder).with_suffix("").as_posix() for f in files]
    return {
        f: stem if stems.count(stem) == 1 else f.relative_to(folder).as_posix()
        for f, stem in zip(files, stems, strict=True)
    }


def _read_folder(
    folder: Path, files: list[Path], max_docs: int | None, max_file_mb: float, warn: bool = True
) -> tuple[list[Document], str, list[dict]]:
    """Every readable file as a document; an unreadable one is one warning line and a skipped entry. Nothing
    usable at all is one error, naming the first reason."""
    from rich.markup import escape

    from corpus.console import console

    h = hashlib.sha256()
    docs: list[Document] = []
    skipped: list[dict] = []
    ids = _document_ids(folder, files)
    for f in files:
        name = f.relative_to(folder).as_posix()
        try:
            found = read_file(f, max_file_mb)
        except Unreadable as exc:
            skipped.append({"file": name, "reason": str(exc)})
            if warn:
                console.print(f"[yellow]warning:[/] skipped {escape(str(f))}: {escape(str(exc))}", soft_wrap=True)
            continue
        title = f"{name} — {found.heading}" if found.heading else name
        docs.append(SourceDocument(ids[f], title, found.text, name, found.page_starts))
        h.update(ids[f].encode() + b"\x00" + found.text.encode() + b"\x01")
        if max_docs and len(docs) >= max_docs:
            break
    if not docs:
        for entry in skipped if not warn else ():  # no later reader will name them: name them now
            console.print(f"[yellow]warning:[/] skipped {escape(str(folder / entry['file']))}: {escape(entry['reason'])}",
                          soft_wrap=True)  # fmt: skip
        first = skipped[0]
        raise RagtuneError(
            f"{folder / first['file']}: {first['reason']}"
            + (f" (and {len(skipped) - 1} more file(s) skipped)" if len(skipped) > 1 else "")
            + f": no usable document in {folder}"
        )
    return docs, h.hexdigest()[:16], skipped


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


@cache
def token_counter(embedder: str = "base") -> Callable[[str], int]:
    """Tokens the embedder's tokenizer makes of a text (special tokens not counted)."""
    from transformers import AutoTokenizer

    from corpus.models import resolve_model_path

    tokenizer = AutoTokenizer.from_pretrained(str(resolve_model_path(embedder)))
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


def split_passages(docs: list[Document], cfg: SplitterConfig = SplitterConfig()) -> list[Passage]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    count = token_counter(cfg.embedder)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=cfg.chunk_size, chunk_overlap=cfg.chunk_overlap, length_function=count
    )
    passages = []
    for doc in docs:
        pieces = [c.strip() for c in splitter.split_text(doc.text) if c.strip()]
        chunks = merge_fragments(pieces, cfg.chunk_size // 5, count)
        file = doc.file if isinstance(doc, SourceDocument) else ""
        cursor = 0
        for i, chunk in enumerate(chunks, start=1):
            title, page = doc.title, None
            if isinstance(doc, SourceDocument) and doc.page_starts:
                # chunks come in text order and overlap a little: search from just past the previous start
                start = doc.text.find(chunk[:40], cursor)
                start = start if start >= 0 else cursor
                cursor = start + 1
                page = doc.page_at(start)
                title = title.replace(file, f"{file} p. {page}", 1)
            passages.append(Passage(passage_id(doc.id, i), doc.id, title, chunk, file, page))
    return passages


def merge_fragments(chunks: list[str], min_length: int, length: Callable[[str], int] = len) -> list[str]:
    """Join a chunk shorter than min_length (by `length`) to its neighbour: the splitter cuts at paragraph breaks
    first, so a heading line ('Staff Accountant') would otherwise become a passage of its own that no query can
    describe."""
    out: list[str] = []
    carry = ""
    for chunk in chunks:
        chunk = f"{carry}\n\n{chunk}" if carry else chunk
        carry = ""
        if length(chunk) < min_length:
            carry = chunk
        else:
            out.append(chunk)
    if carry:
        if out:
            out[-1] = f"{out[-1]}\n\n{carry}"
        else:
            out.append(carry)
    return out
