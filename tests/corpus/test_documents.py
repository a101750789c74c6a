"""Reading a user's own documents (folder, CSV, JSONL, BEIR corpus.jsonl) and cutting them into passages."""

from __future__ import annotations

import json

import pytest

from corpus.documents import (
    Columns,
    SplitterConfig,
    merge_fragments,
    passage_id,
    read_documents,
    source_of,
    split_passages,
    token_counter,
)
from corpus.errors import RagtuneError
from tests.conftest import FIXTURES

OWN_DOCS = FIXTURES / "own_docs"


def test_folder_of_texts_in_path_order_titled_by_their_path(tmp_path):
    docs, summary = read_documents(OWN_DOCS)
    assert [d.id for d in docs] == [
        "accountant",
        "chef",
        "electrician",
        "registered_nurse",
        "software_developer",
        "truck_driver",
    ]
    assert docs[3].title == "registered_nurse.txt" and docs[3].text.startswith("Registered Nurse, Medical-Surgical")
    assert summary.format == "folder" and summary.documents == 6 and len(summary.sha256) == 16
    assert [d.id for d in read_documents(OWN_DOCS, max_docs=2)[0]] == ["accountant", "chef"]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "guide.md").write_text("# Onboarding guide\n\nBadges are collected at the front desk.\n")
    (tmp_path / ".hidden.txt").write_text("editor backup")
    (tmp_path / "notes.csv").write_text("not,a,text file\n")
    docs, _ = read_documents(tmp_path)
    assert [(d.id, d.title, d.text) for d in docs] == [
        ("sub/guide", "sub/guide.md — Onboarding guide", "Badges are collected at the front desk.")
    ]


def test_csv_with_named_columns_skips_blank_texts(tmp_path):
    f = tmp_path / "export.csv"
    f.write_text(
        "ref,headline,body\nA-1,Welder,Joins metal parts with arc welding.\nA-2,Baker,\n"
        "A-3,Baker,Bakes bread and pastries before dawn.\n"
    )
    docs, summary = read_documents(f, Columns(text="body", title="headline", id="ref"))
    assert [(d.id, d.title) for d in docs] == [("A-1", "Welder"), ("A-3", "Baker")]
    assert summary.format == "csv" and summary.skipped_empty == 1
    # without an id column, the line number is the id
    docs, _ = read_documents(f, Columns(text="body"))
    assert [d.id for d in docs] == ["line2", "line4"] and docs[0].title == ""


def test_csv_cells_spanning_lines_keep_their_line_breaks(tmp_path):
    f = tmp_path / "export.csv"
    f.write_bytes(b'title,text\r\nGuide,"Para one line.\r\n\r\nPara two line."\r\nNote,Short one.\r\n')
    docs, _ = read_documents(f)
    assert [(d.id, d.text) for d in docs] == [("line2", "Para one line.\n\nPara two line."), ("line5", "Short one.")]
    # the splitter cuts at the kept paragraph break, instead of at a word merged across it ("line.Para")
    assert "line.Para" not in " ".join(
        p.text for p in split_passages(docs, SplitterConfig(chunk_size=16, chunk_overlap=0))
    )


def test_jsonl_and_beir_corpus_defaults(tmp_path):
    beir = tmp_path / "beir"
    beir.mkdir()
    rows = [
        {"_id": "d1", "title": "Pilot", "text": "Flies commercial aircraft."},
        {"_id": "d2", "title": "Nurse", "text": "Cares for patients."},
    ]
    (beir / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for source in (beir / "corpus.jsonl", beir):  # the file, or the folder holding it
        docs, summary = read_documents(source)
        assert [(d.id, d.title, d.text) for d in docs] == [
            ("d1", "Pilot", "Flies commercial aircraft."),
            ("d2", "Nurse", "Cares for patients."),
        ]
        assert summary.format == "beir corpus.jsonl"
    dump = tmp_path / "dump.jsonl"
    dump.write_text(json.dumps({"id": 7, "content": "Repairs bicycles."}) + "\n")
    docs, _ = read_documents(dump, Columns(text="content"))
    assert (docs[0].id, docs[0].text) == ("7", "Repairs bicycles.")


@pytest.mark.parametrize(
    "name,content,columns,fragments",
    [
        ("empty.txt", b"  \n", Columns(), ["empty.txt", "no text", "no usable document"]),
        ("latin1.txt", "Caf\u00e9 cook\n".encode("latin-1"), Columns(), ["latin1.txt", "not UTF-8", "line 1"]),
        (
            "jobs.csv",
            b"title,description\nWelder,Joins metal\n",
            Columns(),
            ["jobs.csv:1", "field 'text'", "missing column", "--text-column"],
        ),
        ("jobs.csv", b"text\nJoins metal\n", Columns(title="name"), ["field 'name'", "--title-column"]),
        ("dup.csv", b"id,text\n1,Joins metal\n1,Bakes bread\n", Columns(), ["dup.csv:3", "duplicate id '1'"]),
        ("dump.jsonl", b'{"text": "Joins metal"}\n{"body": "x"}\n', Columns(), ["dump.jsonl:2", "field 'text'"]),
        ("blank.csv", b'text\n""\n', Columns(), ["no row has text"]),
    ],
)
def test_bad_input_names_file_line_and_field(tmp_path, name, content, columns, fragments):
    f = tmp_path / name
    f.write_bytes(content)
    source = tmp_path if name.endswith(".txt") else f
    with pytest.raises(RagtuneError) as exc:
        read_documents(source, columns)
    for frag in fragments:
        assert frag in str(exc.value)


def test_unusable_sources(tmp_path):
    with pytest.raises(RagtuneError, match="not found"):
        read_documents(tmp_path / "missing")
    with pytest.raises(RagtuneError, match="no .pdf .html .htm .docx .md .txt files"):
        read_documents(tmp_path)
    (tmp_path / "a.odt").write_bytes(b"PK")
    with pytest.raises(RagtuneError, match="unsupported file type '.odt'"):
        read_documents(tmp_path / "a.odt")


def test_passages_point_back_to_their_document_and_overlap():
    docs, _ = read_documents(OWN_DOCS)
    whole = split_passages(docs)  # every posting fits in the default 224 tokens
    assert [p.id for p in whole] == [passage_id(d.id, 1) for d in docs]
    assert all(p.text == d.text and p.title == d.title for p, d in zip(whole, docs, strict=False))
    cut = split_passages(docs, SplitterConfig(chunk_size=64, chunk_overlap=12))
    nurse = [p for p in cut if p.source_id == "registered_nurse"]
    assert len(nurse) >= 3 and [p.id for p in nurse] == [f"registered_nurse#p{i}" for i in range(1, len(nurse) + 1)]
    # sizes count the embedder's tokens: a passage is at most a chunk and a merged heading
    count = token_counter("base")
    assert all(count(p.text) <= 64 + 64 // 5 + 2 for p in nurse)
    assert all(source_of(p.id) == "registered_nurse" for p in nurse)
    # neighbours share words thanks to the overlap
    assert any(set(a.text.split()[-4:]) & set(b.text.split()[:12]) for a, b in zip(nurse, nurse[1:], strict=False))
    # the heading line is not a passage of its own
    assert all(count(p.text) >= 64 // 5 for p in cut)
    assert source_of("report#2024#p3") == "report#2024" and source_of("plain") == "plain"


def test_short_fragments_join_a_neighbour():
    assert merge_fragments(["Title", "a" * 50, "b" * 50], 20) == ["Title\n\n" + "a" * 50, "b" * 50]
    assert merge_fragments(["a" * 50, "end"], 20) == ["a" * 50 + "\n\nend"]
    assert merge_fragments(["tiny"], 20) == ["tiny"]


def test_splitter_settings_are_checked():
    with pytest.raises(RagtuneError, match="--chunk-overlap"):
        SplitterConfig(chunk_size=200, chunk_overlap=200)
    with pytest.raises(RagtuneError, match="--chunk-size"):
        SplitterConfig(chunk_size=8, chunk_overlap=0)
