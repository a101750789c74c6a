"""Plain text out of the files people keep documents in, one parser per format, each a maintained library:

    .pdf            pypdf, page by page (the page each passage starts on is kept); the title from the metadata
    .html / .htm    Beautiful Soup with Python's own parser (lenient with broken markup); scripts and styles
                    dropped; the title from <title>, else the first <h1>
    .docx           python-docx, paragraphs and tables in body order; the title from the file's properties, else
                    the first Title/Heading paragraph
    .md / .txt      UTF-8 text; a leading '# heading' is a Markdown file's title

A file that yields no text is `Unreadable` with a one-line reason (encrypted, no text layer, not UTF-8, empty, too
large, not a valid file of its kind); the folder reader skips it with a warning and counts it, so one bad file
among hundreds never stops a run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

FOLDER_SUFFIXES = (".pdf", ".html", ".htm", ".docx", ".md", ".txt")
# Checked on the file's size before any byte is read: a 200 MB export would otherwise fill memory three times over
# (bytes, parsed tree, text) for a file whose passages would swamp everyone else's in query writing anyway.
MAX_FILE_MB = 100


class Unreadable(Exception):
    """A file with no usable text; str() is the one-line reason."""


@dataclass(frozen=True)
class FileText:
    text: str
    heading: str = ""  # the document's own title, '' when it has none
    page_starts: tuple[int, ...] = ()  # PDF: offset in `text` where page 1, 2, ... begins


def read_file(path: Path, max_mb: float = MAX_FILE_MB) -> FileText:
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise Unreadable("file is empty (0 bytes)")
    if size > max_mb * 1_000_000:
        raise Unreadable(f"{size / 1e6:,.0f} MB is over the {max_mb:g} MB limit for one document")
    suffix = path.suffix.lower()
    reader = {".pdf": _pdf, ".html": _html, ".htm": _html, ".docx": _docx, ".md": _markdown}.get(suffix, _plain)
    found = reader(path)
    if not found.text.strip():
        raise Unreadable("no text in the file")
    return found


def _clean(text: str) -> str:
    """Trailing spaces off, runs of blank lines down to one paragraph break (extracted text is full of both)."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise Unreadable(f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}, line {line})") from None


def _plain(path: Path) -> FileText:
    return FileText(_clean(_decode(path)))


def _markdown(path: Path) -> FileText:
    text = _clean(_decode(path))
    first, _, rest = text.partition("\n")
    if first.startswith("# ") and rest.strip():
        return FileText(rest.strip(), first[2:].strip())
    return FileText(text)


def _pdf(path: Path) -> FileText:
    from pypdf import PdfReader

    # pypdf logs every repaired cross-reference table as a warning: noise beside our one line per bad file
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("encrypted PDF (it needs a password; save an unlocked copy)")
        pages = [_clean(page.extract_text() or "") for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Unreadable:
        raise
    except Exception as exc:  # a damaged file can fail anywhere inside the parser; it is the file's fault
        raise Unreadable(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not any(pages):
        raise Unreadable(f"PDF without a text layer ({len(pages)} page(s) of images?): run OCR on it first")
    parts, starts, offset = [], [], 0
    for text in pages:
        starts.append(offset)
        parts.append(text)
        offset += len(text) + 2
    return FileText("\n\n".join(parts), _clean(str(title)), tuple(starts))


def _html(path: Path) -> FileText:
    from bs4 import BeautifulSoup

    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise Unreadable("not an HTML text file (binary bytes)")
    try:
        soup = BeautifulSoup(raw, "html.parser")  # detects the encoding from the bytes and the <meta> tag
    except Exception as exc:
        raise Unreadable(f"not readable HTML ({type(exc).__name__}: {str(exc)[:120]})") from None
    heading = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    if not heading and soup.h1:
        heading = soup.h1.get_text(" ", strip=True)
    text = _clean((soup.body or soup).get_text("\n"))
    if not text:
        raise Unreadable("no text in the HTML (broken markup or a script-only page)")
    return FileText(text, _clean(heading))


def _docx(path: Path) -> FileText:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        blocks, heading = [], document.core_properties.title or ""
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                rows = (" | ".join(cell.text.strip() for cell in row.cells) for row in block.rows)
                blocks.append("\n".join(r for r in rows if r.strip(" |")))
                continue
            text = block.text.strip()
            style = (block.style.name if block.style is not None else "") or ""
            if text and not heading and (style == "Title" or style.startswith("Heading")):
                heading = text
            blocks.append(text)
    except Exception as exc:  # not a zip, a zip without word/document.xml, broken XML: the file's fault
        raise Unreadable(f"not a readable Word .docx file ({type(exc).__name__}: {str(exc)[:120]})") from None
    return FileText(_clean("\n\n".join(b for b in blocks if b)), _clean(heading))
