"""JSONL and TSV reading that locates every problem by file and line."""

from __future__ import annotations

import csv
import json
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from corpus.errors import DataError


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


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-blank line."""
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
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
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(path, "file is empty") from None

    def rows() -> Iterator[tuple[int, dict]]:
        for row in reader:
            lineno = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise DataError(
                    path, f"expected {len(header)} columns ({', '.join(header)}), found {len(row)}", line=lineno
                )
            yield lineno, dict(zip(header, row, strict=False))

    return header, rows()


def temp_sibling(path: Path, suffix: str = ".tmp") -> Path:
    """A temporary name beside ``path`` that no other process or thread writing the same file uses.

    Two workers may finish the same cache entry at once (e.g. both arms share an embedder and
    send the same prompt); with a shared temporary name one replace would find it gone.
    """
    path = Path(path)
    return path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}{suffix}")


def write_jsonl(path: Path, records: Iterable[dict]) -> None:
    """Write atomically so a killed run never leaves half a file that looks finished."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")
    os.replace(tmp, path)


def write_json(path: Path, obj) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
