"""JSONL, CSV/TSV and JSON reading that locates every problem by file and line; atomic writes.

Every JSONL and CSV file ragtune reads goes through this module, so all of them split lines the same way:
- JSONL records end at "\n" only (a trailing "\r" is dropped, so CRLF files work). U+2028, U+2029, U+0085 and
  other characters ``str.splitlines`` treats as breaks are valid raw inside a JSON string and stay in the text.
- CSV/TSV files are parsed by the csv module over the whole text: a quoted cell may span several lines and keeps
  its line breaks, as "\n" (so a document's or query's text may contain newlines). The line number reported for
  a row is the line where the row starts.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import DataError, RagtuneError

# the default 128 KiB cell limit would reject a long document (a 5 MB report in one cell is a fair input); the
# limit is process-wide, so it is raised only while ragtune reads a row and put back after (never on import)
CSV_CELL_LIMIT = 2**31 - 1
_CSV_LIMIT_LOCK = threading.Lock()
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # raised by a write, with no file name attached


def read_text(path: Path) -> str:
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found")
    if path.is_dir():
        raise DataError(path, "is a folder, expected a file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(path, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", line=line) from None
    if not text.strip():
        raise DataError(path, "file is empty")
    return text


def jsonl_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) split on "\n" only; JSON escapes a real newline, so "\n" always ends a record."""
    for lineno, line in enumerate(text.split("\n"), start=1):
        yield lineno, line.removesuffix("\r")


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-blank line."""
    for lineno, line in jsonl_lines(read_text(path)):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(path, f"invalid JSON ({exc.msg} at column {exc.colno})", line=lineno) from None
        if not isinstance(obj, dict):
            raise DataError(path, f"expected a JSON object, got {type(obj).__name__}", line=lineno)
        yield lineno, obj


def require_str(path: Path, lineno: int, obj: dict, field: str, allow_empty: bool = False) -> str:
    if field not in obj:
        raise DataError(path, "missing", line=lineno, field=field)
    value = obj[field]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise DataError(path, f"expected a string, got {type(value).__name__}", line=lineno, field=field)
    if not allow_empty and not value.strip():
        raise DataError(path, "is empty", line=lineno, field=field)
    return value


def iter_csv_rows(path: Path, delimiter: str = ",") -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """Header and (line number, row dict) pairs; line numbers count the header as line 1."""
    text = read_text(path)
    # newline="": the csv module sees the line endings and so keeps a quoted cell's line breaks;
    # strict: a quote left open is an error, not a cell that silently swallows the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip() for h in _csv_next(path, reader)]
    except StopIteration:
        raise DataError(path, "file is empty") from None

    def rows() -> Iterator[tuple[int, dict]]:
        while True:
            start = reader.line_num + 1
            try:
                row = _csv_next(path, reader)
            except StopIteration:
                return
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise DataError(
                    path, f"expected {len(header)} columns ({', '.join(header)}), found {len(row)}", line=start
                )
            yield (
                start,
                {h: cell.replace("\r\n", "\n").replace("\r", "\n") for h, cell in zip(header, row, strict=False)},
            )

    return header, rows()


def _csv_next(path: Path, reader) -> list[str]:
    with _CSV_LIMIT_LOCK:
        previous = csv.field_size_limit(CSV_CELL_LIMIT)
        try:
            return next(reader)
        except csv.Error as exc:  # e.g. a NUL byte, or a quote left open at the end of the file
            raise DataError(path, f"unreadable CSV ({exc})", line=reader.line_num) from None
        finally:
            csv.field_size_limit(previous)


def read_json_or_none(path: Path):
    """A JSON file ragtune wrote itself (a marker, a card): absent, unreadable or garbled counts as absent."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def temp_sibling(path: Path, suffix: str = ".tmp") -> Path:
    """A temporary name beside ``path`` that no other process or thread writing the same file uses.

    Two workers may finish the same cache entry at once (e.g. both arms share an embedder and
    send the same prompt); with a shared temporary name one replace would find it gone.
    """
    path = Path(path)
    return path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}{suffix}")


@contextmanager
def replacing(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary sibling to write; it replaces `path` on success and is removed on any failure (a failed
    replace, e.g. onto a folder, used to leave the *.tmp behind)."""
    path = Path(path)
    tmp = temp_sibling(path, suffix)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        if exc.filename not in (str(path), str(tmp), str(path.parent)) and exc.errno not in _DISK_FULL:
            raise  # about some other file: not ours to explain
        raise RagtuneError(f"{path}: {_write_problem(exc)}") from None
    except BaseException:
        _discard(tmp)
        raise


def _write_problem(exc: OSError) -> str:
    """The same words as corpus.output_location, which says it before the work instead of after."""
    if exc.errno == errno.EISDIR:
        return "is a folder, expected a file name"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "cannot write (a folder in this path is a file)"
    return f"cannot write ({exc.strerror or type(exc).__name__})"


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError:  # e.g. its folder is a file: then there is nothing to remove
        pass


def write_jsonl(path: Path, records: Iterable[dict]) -> None:
    """Write atomically so a killed run never leaves half a file that looks finished."""
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")


def write_json(path: Path, obj) -> None:
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
