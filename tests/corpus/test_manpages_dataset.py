"""The manual-page set: what a rendered page is cut into, and which pages and queries the rules keep."""

from __future__ import annotations

import gzip
import shutil

import pytest

from corpus.manpages_dataset import MIN_WORDS, ManpagesConfig, build_manpages_dataset, page_parts, sections

RENDERED = """open(2)                 System Calls Manual                 open(2)

NAME
       open, openat, creat - open and possibly create a file

SYNOPSIS
       #include <fcntl.h>

DESCRIPTION
       The open() system call opens the file
       specified by pathname.

       A second paragraph.

RETURN VALUE
       On success, the new file descriptor is returned.

SEE ALSO
       chmod(2), close(2)

Linux man-pages 6.03              2023-02-05                       open(2)
"""


def test_sections_split_a_rendered_page_at_its_headings():
    parts = sections(RENDERED)
    assert list(parts) == ["NAME", "SYNOPSIS", "DESCRIPTION", "RETURN VALUE", "SEE ALSO"]
    assert parts["DESCRIPTION"] == "The open() system call opens the file specified by pathname. A second paragraph."


def test_a_page_gives_its_summary_and_the_text_from_description_on_without_the_references():
    summary, text = page_parts(RENDERED)
    assert summary == "open and possibly create a file"
    assert text.startswith("The open() system call")
    assert "new file descriptor is returned" in text
    assert "chmod(2)" not in text and "#include" not in text


def test_a_page_without_a_summary_or_description_gives_nothing():
    assert page_parts(RENDERED.replace(" - open and", " open and")) is None
    assert page_parts(RENDERED.replace("DESCRIPTION", "DETAILS")) is None


def _page(folder, name, summary, words):
    body = " ".join(f"word{i}" for i in range(words))
    source = f".TH {name.upper()} 2\n.SH NAME\n{name} \\- {summary}\n.SH DESCRIPTION\n{body}\n"
    (folder / f"{name}.2.gz").write_bytes(gzip.compress(source.encode()))


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff renders the pages (Debian: apt-get install groff)")
def test_the_rules_keep_long_pages_with_their_own_summary(tmp_path):
    man2 = tmp_path / "man2"
    man2.mkdir()
    _page(man2, "long", "make a long thing", MIN_WORDS + 50)
    _page(man2, "short", "make a short thing", MIN_WORDS - 50)
    _page(man2, "twin1", "do the same thing twice", MIN_WORDS)
    _page(man2, "twin2", "do the same thing twice", MIN_WORDS)
    _page(man2, "terse", "frob", MIN_WORDS)
    (man2 / "alias.2.gz").symlink_to(man2 / "long.2.gz")
    ds, stats = build_manpages_dataset(tmp_path, ManpagesConfig(test=1, dev=0), tmp_path / "out")
    assert sorted(ds.corpus) == ["man:long.2", "man:terse.2", "man:twin1.2", "man:twin2.2"]
    assert ds.corpus["man:long.2"].title == "long(2)"
    assert ds.queries == {"q:long.2": "make a long thing"}
    assert ds.qrels["test"] == {"q:long.2": {"man:long.2": 1}}
    assert stats.dropped == {
        "summary shared by several pages": 2,
        "summary under 3 words": 1,
        f"under {MIN_WORDS} words from DESCRIPTION on": 1,
    }


def test_a_folder_this_command_did_not_write_is_refused_before_anything_is_fetched(tmp_path, monkeypatch):
    import corpus.manpages_dataset as manpages
    from corpus.errors import RagtuneError

    def fetch(dest):
        raise AssertionError("nothing is downloaded for a folder that is refused")

    monkeypatch.setattr(manpages, "fetch_packages", fetch)
    (tmp_path / "corpus.jsonl").write_text('{"_id": "mine", "text": "my own document"}\n')
    with pytest.raises(RagtuneError, match="did not write"):
        manpages.prepare_manpages(tmp_path)
    assert (tmp_path / "corpus.jsonl").read_text() == '{"_id": "mine", "text": "my own document"}\n'


@pytest.mark.skipif(shutil.which("apt-get") is None or shutil.which("groff") is None, reason="Debian's apt-get")
def test_a_pin_debian_no_longer_serves_is_one_line_naming_the_package(tmp_path, monkeypatch, capsys):
    import corpus.manpages_dataset as manpages
    from corpus.cli import EXIT_USER_ERROR, run_cli

    monkeypatch.setattr(manpages, "PACKAGES", {"manpages": ("0.0-no-such-version", "0" * 64)})
    assert run_cli(manpages.main, ["--out", str(tmp_path / "man")]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "manpages=0.0-no-such-version" in err and "Traceback" not in err
    assert not (tmp_path / "man").exists(), "nothing is written when a package is missing"
