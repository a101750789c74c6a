"""The one JSONL and CSV reader: lines end at "\\n" only, quoted CSV cells keep their line breaks."""

from __future__ import annotations

import json

import pytest

from corpus.errors import DataError, RagtuneError
from corpus.jsonl import iter_csv_rows, iter_jsonl, read_json_or_none, write_jsonl

ODD_BREAKS = ["line\u2028separator", "next\u0085line", "para\u2029graph", "form\x0cfeed", "vertical\x0btab"]


def test_jsonl_keeps_raw_unicode_line_breaks_inside_strings(tmp_path):
    path = tmp_path / "odd.jsonl"
    # ensure_ascii=False writes the characters raw, as ragtune's own writer does
    write_jsonl(path, ({"_id": str(i), "text": t} for i, t in enumerate(ODD_BREAKS)))
    assert "\u2028" in path.read_text(encoding="utf-8")
    rows = list(iter_jsonl(path))
    assert [obj["text"] for _, obj in rows] == ODD_BREAKS
    assert [n for n, _ in rows] == [1, 2, 3, 4, 5]


def test_jsonl_with_crlf_and_blank_lines_keeps_line_numbers(tmp_path):
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b'{"a": 1}\r\n\r\n{"a": 2}\r\n{"a": \r\n')
    with pytest.raises(DataError, match=r"crlf.jsonl:4: invalid JSON"):
        list(iter_jsonl(path))
    path.write_bytes(b'{"a": 1}\r\n\r\n{"a": 2}\r\n')
    assert list(iter_jsonl(path)) == [(1, {"a": 1}), (3, {"a": 2})]


def test_csv_multi_line_cell_keeps_its_line_break_and_row_numbers_follow(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_bytes(b'query,positive\r\n"q1","Para one line.\r\nPara two line."\r\nq2,plain\r\nq3,"a,b",extra\r\n')
    header, rows = iter_csv_rows(path)
    assert header == ["query", "positive"]
    first, second = next(rows), next(rows)
    assert first == (2, {"query": "q1", "positive": "Para one line.\nPara two line."})
    assert second == (4, {"query": "q2", "positive": "plain"})
    with pytest.raises(DataError, match=r"multi.csv:5: expected 2 columns"):
        next(rows)


def test_csv_cells_keep_unicode_line_separators_and_long_texts(tmp_path):
    path = tmp_path / "long.csv"
    long_text = "word " * 1_100_000  # 5.5 MB in one cell: far over the csv module's default 128 KiB limit
    path.write_text(f'query,positive\nq\u2028x,"{long_text}"\n', encoding="utf-8")
    _, rows = iter_csv_rows(path)
    ((lineno, row),) = list(rows)
    assert lineno == 2 and row["query"] == "q\u2028x" and row["positive"] == long_text


def test_reading_a_long_cell_leaves_the_process_wide_csv_limit_alone(tmp_path):
    import csv

    default = 128 * 1024  # the csv module's own limit: importing or using corpus.jsonl must not raise it for everyone
    assert csv.field_size_limit() == default
    path = tmp_path / "long.csv"
    path.write_text(f"query,positive\nq,{'x' * (2 * default)}\n", encoding="utf-8")
    _, rows = iter_csv_rows(path)
    assert len(next(rows)[1]["positive"]) == 2 * default and csv.field_size_limit() == default


def test_csv_quote_left_open_is_a_data_error(tmp_path):
    path = tmp_path / "open.csv"
    path.write_text('query,positive\nq,"never closed\n', encoding="utf-8")
    _, rows = iter_csv_rows(path)
    with pytest.raises(DataError, match="open.csv"):
        list(rows)


def test_garbled_or_missing_json_record_reads_as_absent(tmp_path):
    assert read_json_or_none(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text('{"sha256": "ab', encoding="utf-8")
    assert read_json_or_none(tmp_path / "bad.json") is None
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    assert read_json_or_none(tmp_path / "bin.json") is None
    (tmp_path / "ok.json").write_text(json.dumps({"a": 1}), encoding="utf-8")
    assert read_json_or_none(tmp_path / "ok.json") == {"a": 1}


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    (tmp_path / "pool.jsonl").mkdir()  # a folder where the file should go
    with pytest.raises(RagtuneError, match=r"pool.jsonl: is a folder, expected a file name"):
        write_jsonl(tmp_path / "pool.jsonl", [{"_id": "d1"}])
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(RagtuneError, match=r"a_file/pool.jsonl: cannot write \(a folder in this path is a file\)"):
        write_jsonl(tmp_path / "a_file" / "pool.jsonl", [{"_id": "d1"}])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "pool.jsonl"]


def test_an_error_about_another_file_is_not_blamed_on_the_output(tmp_path):
    def records():
        yield {"_id": "d1"}
        open(tmp_path / "missing.txt")

    with pytest.raises(FileNotFoundError):
        write_jsonl(tmp_path / "pool.jsonl", records())
    assert list(tmp_path.iterdir()) == []
