"""Reference answers file: strings or lists, every bad line located by file, line and field."""

from __future__ import annotations

import pytest

from corpus.answers import load_dataset_answers, read_answers
from corpus.errors import DataError


def _write(tmp_path, text):
    path = tmp_path / "answers.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def test_string_and_list_answers(tmp_path):
    path = _write(tmp_path, '{"query_id": "q1", "answer": "Paris"}\n\n{"query_id": 2, "answer": ["a", "b"]}\n')
    assert read_answers(path) == {"q1": ("Paris",), "2": ("a", "b")}


@pytest.mark.parametrize(
    "text, line, field",
    [
        ('{"query_id": "q1"}\n', 1, "answer"),
        ('{"answer": "x"}\n', 1, "query_id"),
        ('{"query_id": "q1", "answer": "x"}\n{"query_id": "q1", "answer": "y"}\n', 2, "query_id"),
        ('{"query_id": "q1", "answer": []}\n', 1, "answer"),
        ('{"query_id": "q1", "answer": ["ok", 3.5, {"x": 1}]}\n', 1, "answer"),
        ('{"query_id": "q1", "answer": "  "}\n', 1, "answer"),
        ('{"query_id": "q1", "answer": "x"}\nnot json\n', 2, None),
    ],
)
def test_bad_lines_are_located(tmp_path, text, line, field):
    with pytest.raises(DataError) as exc:
        read_answers(_write(tmp_path, text))
    assert (exc.value.line, exc.value.field) == (line, field)


def test_unknown_query_id_and_absent_file(tmp_path):
    _write(tmp_path, '{"query_id": "typo", "answer": "x"}\n')
    with pytest.raises(DataError, match="no query 'typo'"):
        load_dataset_answers(tmp_path, {"q1"})
    assert load_dataset_answers(tmp_path / "elsewhere") == {}
