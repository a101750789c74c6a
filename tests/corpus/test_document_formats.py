"""PDF, HTML, Word, Markdown and text files, written by their own libraries, through the folder reader: text,
titles that name the source (and the PDF page), corpus fields, and bad files skipped with one warning each."""

from __future__ import annotations

import pytest

from corpus.document_formats import Unreadable, read_file
from corpus.documents import SplitterConfig, read_documents, split_passages
from corpus.errors import RagtuneError
from tests import document_files as files


def test_a_mixed_folder_reads_every_format_with_its_source_in_the_title(tmp_path):
    folder = files.mixed_folder(tmp_path / "docs")
    docs, summary = read_documents(folder)
    by_id = {d.id: d for d in docs}
    assert sorted(by_id) == ["accountant", "driver", "electrician", "manuals/nursing", "web/sous-chef"]
    assert summary.format == "folder" and summary.documents == 5 and summary.skipped_files == 0
    assert by_id["manuals/nursing"].title == "manuals/nursing.pdf — Ward handbook"
    assert "surgical ward" in by_id["manuals/nursing"].text and "Day shifts" in by_id["manuals/nursing"].text
    html = by_id["web/sous-chef"]
    assert html.title == "web/sous-chef.html — Sous chef" and "kitchen line" in html.text
    assert "tracking" not in html.text and "color" not in html.text  # scripts and styles are not text
    word = by_id["electrician"]
    assert word.title == "electrician.docx — Electrician" and "breaker panels" in word.text
    assert "multimeter | tests" in word.text  # tables are read, row by row
    assert by_id["driver"].title == "driver.md — Truck driver" and not by_id["driver"].text.startswith("#")
    assert by_id["accountant"].title == "accountant.txt"


def test_pdf_passages_carry_the_page_they_start_on(tmp_path):
    pdf = files.write_pdf(tmp_path / "d" / "guide.pdf", [files.NURSE, files.CHEF, files.DRIVER])
    docs, summary = read_documents(pdf)  # one file on its own is a source too
    assert summary.format == "pdf file" and [d.id for d in docs] == ["guide"]
    passages = split_passages(docs, SplitterConfig(chunk_size=28, chunk_overlap=0))
    pages = [p.page for p in passages]
    assert pages == sorted(pages) and set(pages) == {1, 2, 3}
    for p in passages:
        assert p.title == f"guide.pdf p. {p.page}" and p.fields() == {"file": "guide.pdf", "page": p.page}
    chef = [p for p in passages if "sous chef" in p.text]
    assert chef and all(p.page == 2 for p in chef)


def test_files_that_share_a_name_keep_their_suffix_in_the_id(tmp_path):
    files.write_pdf(tmp_path / "manual.pdf", [files.NURSE])
    files.write_docx(tmp_path / "manual.docx", "Manual", [files.CHEF])
    (tmp_path / "notes.md").write_text(files.DRIVER)
    docs, _ = read_documents(tmp_path)
    assert [d.id for d in docs] == ["manual.docx", "manual.pdf", "notes"]


def put(folder, name: str, data: bytes | str):
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def sparse(folder, name: str, size: int):
    """A file of `size` bytes on paper and nothing on disk."""
    path = folder / name
    with open(path, "wb") as f:
        f.truncate(size)
    return path


BAD_FILES = {
    "encrypted PDF": (lambda d: files.write_encrypted_pdf(d / "locked.pdf", files.NURSE), "encrypted"),
    "PDF without text": (lambda d: files.write_image_only_pdf(d / "scan.pdf"), "without a text layer"),
    "damaged PDF": (lambda d: put(d, "cut.pdf", b"%PDF-1.4\n1 0 obj << /Type /Cat"), "not a readable PDF"),
    "binary HTML": (lambda d: put(d, "page.html", b"\x00\x01<html>\xff\xfe"), "binary"),
    "script-only HTML": (
        lambda d: put(d, "app.htm", '<html><head><script>render()</script></head><body><div id="app"></div>'),
        "no text in the HTML",
    ),
    "not a Word file": (lambda d: put(d, "report.docx", b"this is not a zip"), "not a readable Word"),
    "zero bytes": (lambda d: put(d, "blank.md", b""), "file is empty"),
    "blank text": (lambda d: put(d, "blank.txt", " \n\n "), "no text"),
    "not UTF-8": (lambda d: put(d, "latin1.txt", "Caf\u00e9 menu\n".encode("latin-1")), "not UTF-8"),
    "200 MB": (lambda d: sparse(d, "huge.txt", 200_000_000), "over the 100 MB limit"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_skipped_with_one_warning_and_counted(case, tmp_path, capsys):
    make, reason = BAD_FILES[case]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(files.ACCOUNTANT)
    bad = make(folder)
    with pytest.raises(Unreadable, match=reason):
        read_file(bad)
    capsys.readouterr()
    docs, summary = read_documents(folder)
    assert [d.id for d in docs] == ["good"]
    assert summary.skipped_files == 1 and summary.skipped[0]["file"] == bad.name
    assert reason in summary.skipped[0]["reason"]
    warned = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert len(warned) == 1 and warned[0].startswith("warning: skipped") and bad.name in warned[0], warned


def test_mildly_broken_html_still_gives_its_text(tmp_path):
    page = tmp_path / "old.html"
    page.write_text("<html><body><p>Unclosed paragraph about <b>welding</b> safety<p>and goggles", encoding="utf-8")
    assert read_file(page).text.split() == ["Unclosed", "paragraph", "about", "welding", "safety", "and", "goggles"]


def test_a_folder_of_bad_files_is_one_error_naming_the_first(tmp_path):
    files.write_encrypted_pdf(tmp_path / "a_locked.pdf", files.NURSE)
    (tmp_path / "b_blank.txt").write_bytes(b"")
    with pytest.raises(RagtuneError) as exc:
        read_documents(tmp_path)
    message = str(exc.value)
    assert "a_locked.pdf: encrypted" in message and "1 more file(s) skipped" in message
    assert "no usable document" in message
