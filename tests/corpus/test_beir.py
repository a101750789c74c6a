"""The BEIR loader: every bad input is one DataError naming file, line and field."""

from __future__ import annotations

import json

import pytest

from corpus.beir import load_dataset
from corpus.errors import DataError, RagtuneError
from tests.helpers import assert_one_line_error, run_script


def make_beir(root, corpus=None, queries=None, qrels=None):
    root.mkdir(parents=True, exist_ok=True)
    corpus = (
        corpus
        if corpus is not None
        else [
            {"_id": "d1", "title": "Nurse", "text": "Care for patients."},
            {"_id": "d2", "title": "Chef", "text": "Cook meals."},
        ]
    )
    queries = (
        queries
        if queries is not None
        else [{"_id": "q1", "text": "give medication"}, {"_id": "q2", "text": "prepare sauces"}]
    )
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps(c) + "\n" for c in corpus) if isinstance(corpus, list) else corpus, encoding="utf-8"
    )
    (root / "queries.jsonl").write_text(
        "".join(json.dumps(q) + "\n" for q in queries) if isinstance(queries, list) else queries, encoding="utf-8"
    )
    (root / "qrels").mkdir(exist_ok=True)
    (root / "qrels" / "test.tsv").write_text(
        qrels if qrels is not None else "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\n", encoding="utf-8"
    )
    return root


def test_valid_dataset_loads_with_graded_qrels(tmp_path):
    ds = load_dataset(make_beir(tmp_path / "ok"))
    assert list(ds.corpus) == ["d1", "d2"]
    assert ds.qrels["test"] == {"q1": {"d1": 1}, "q2": {"d2": 2}}
    assert ds.relevant("test") == {"q1": {"d1"}, "q2": {"d2"}}


@pytest.mark.parametrize(
    "case, expected",
    [
        ("bad_json", "corpus.jsonl:2: invalid JSON"),
        ("missing_field", "corpus.jsonl:2: field 'text': missing"),
        ("duplicate_id", "corpus.jsonl:2: field '_id': duplicate id 'd1'"),
        ("unknown_query", "test.tsv:3: field 'query-id': unknown query 'q9'"),
        ("unknown_doc", "test.tsv:2: field 'corpus-id': unknown document 'd7'"),
        ("empty_queries", "queries.jsonl: file is empty"),
        ("not_utf8", "queries.jsonl:2: not UTF-8"),
        ("bad_score", "test.tsv:2: field 'score': expected a number"),
    ],
)
def test_each_bad_input_names_file_line_and_field(tmp_path, case, expected):
    root = tmp_path / case
    if case == "bad_json":
        make_beir(root, corpus='{"_id": "d1", "text": "x"}\n{"_id": "d2", "text": \n')
    elif case == "missing_field":
        make_beir(root, corpus=[{"_id": "d1", "text": "x"}, {"_id": "d2", "title": "t"}])
    elif case == "duplicate_id":
        make_beir(root, corpus=[{"_id": "d1", "text": "x"}, {"_id": "d1", "text": "y"}])
    elif case == "unknown_query":
        make_beir(root, qrels="query-id\tcorpus-id\tscore\nq1\td1\t1\nq9\td2\t1\n")
    elif case == "unknown_doc":
        make_beir(root, qrels="query-id\tcorpus-id\tscore\nq1\td7\t1\n")
    elif case == "empty_queries":
        make_beir(root, queries="")
    elif case == "not_utf8":
        make_beir(root)
        (root / "queries.jsonl").write_bytes(b'{"_id": "q1", "text": "a"}\n{"_id": "q2", "text": "caf\xe9"}\n')
    elif case == "bad_score":
        make_beir(root, qrels="query-id\tcorpus-id\tscore\nq1\td1\thigh\n")
    with pytest.raises(DataError) as err:
        load_dataset(root)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_split_and_empty_split_are_user_errors(tmp_path):
    ds = load_dataset(make_beir(tmp_path / "ok"))
    with pytest.raises(RagtuneError, match="no qrels/dev.tsv"):
        ds.split("dev")
    root = make_beir(tmp_path / "empty", qrels="query-id\tcorpus-id\tscore\n")
    with pytest.raises(RagtuneError, match="split 'test' has no relevant pairs"):
        load_dataset(root).split("test")


def test_script_prints_one_line_and_exits_2_on_bad_data(tmp_path):
    root = make_beir(tmp_path / "bad", qrels="query-id\tcorpus-id\tscore\nq1\td7\t1\n")
    proc = run_script("1_build_corpus.py", "--data", root, "--size", "2", "--no-external")
    assert_one_line_error(proc, "test.tsv:2", "corpus-id", "unknown document 'd7'")


def test_script_reports_missing_folder(tmp_path):
    proc = run_script("1_build_corpus.py", "--data", tmp_path / "nowhere", "--size", "2")
    assert_one_line_error(proc, "dataset folder not found")


def test_title_only_document_loads_but_an_empty_one_is_an_error(tmp_path):
    docs = [{"_id": "d1", "title": "Nurse", "text": "Care for patients."}, {"_id": "d2", "title": "Chef", "text": ""}]
    ds = load_dataset(make_beir(tmp_path / "title_only", corpus=docs))
    assert ds.corpus["d2"].title == "Chef" and ds.corpus["d2"].text == ""
    docs[1]["title"] = " "
    with pytest.raises(DataError, match=r"corpus.jsonl:2: field 'text': is empty \(and so is the title\)"):
        load_dataset(make_beir(tmp_path / "empty_doc", corpus=docs))


@pytest.mark.parametrize("score", ["inf", "-inf", "nan", "1e400", "Infinity", "high", "0x1", ""])
def test_non_finite_or_non_numeric_grades_name_file_line_and_field(tmp_path, score):
    root = make_beir(tmp_path / "g", qrels=f"query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t{score}\n")
    with pytest.raises(DataError, match=r"test.tsv:3: field 'score': expected a (finite )?number"):
        load_dataset(root)


def test_fractional_grades_are_kept_and_whole_ones_stay_integers(tmp_path):
    root = make_beir(tmp_path / "g", qrels="query-id\tcorpus-id\tscore\nq1\td1\t0.7\nq1\td2\t1.0\nq2\td2\t2\n")
    ds = load_dataset(root)
    assert ds.qrels["test"] == {"q1": {"d1": 0.7, "d2": 1}, "q2": {"d2": 2}}
    assert type(ds.qrels["test"]["q1"]["d2"]) is int and type(ds.qrels["test"]["q2"]["d2"]) is int
    assert ds.relevant("test") == {"q1": {"d1", "d2"}, "q2": {"d2"}}  # 0.7 > 0: relevant, no longer truncated
    root = make_beir(tmp_path / "neg", qrels="query-id\tcorpus-id\tscore\nq1\td1\t-0.5\nq2\td2\t1\n")
    assert load_dataset(root).relevant("test") == {"q1": set(), "q2": {"d2"}}
