"""The flat seed format (query, positive[, negative]) converts once to a valid BEIR folder."""

from __future__ import annotations

import json

import pytest

from corpus.beir import load_dataset
from corpus.errors import DataError
from corpus.flat import convert_flat, read_given_negatives
from tests.helpers import assert_one_line_error, run_script

ROWS = [
    ("How do I file expense reports?", "Accountants prepare and review expense reports.", "Chefs plan menus."),
    ("Who repairs car brakes?", "Automotive technicians repair brakes and engines.", ""),
    ("Who repairs car brakes?", "Brake specialists replace pads and rotors.", ""),
    ("teach algebra to teenagers", "Secondary school teachers instruct students in mathematics.", ""),
]


def write_csv(path, rows=ROWS, header="query,positive,negative"):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header.split(","))
        w.writerows(rows)
    return path


def test_csv_converts_to_beir_with_grouped_queries_and_negatives(tmp_path):
    out = convert_flat(write_csv(tmp_path / "seed.csv"), tmp_path / "beir")
    ds = load_dataset(out)
    assert len(ds.queries) == 3 and len(ds.corpus) == 5
    allq = {q: d for split in ds.qrels.values() for q, d in split.items()}
    brakes = next(q for q, t in ds.queries.items() if t == "Who repairs car brakes?")
    assert len(allq[brakes]) == 2
    negs = read_given_negatives(out)
    assert [ds.corpus[d].text for ds_ in negs.values() for d in ds_] == ["Chefs plan menus."]


def test_jsonl_converts_and_conversion_is_reused_until_the_file_changes(tmp_path):
    src = tmp_path / "seed.jsonl"
    src.write_text("".join(json.dumps({"query": q, "positive": p}) + "\n" for q, p, _ in ROWS), encoding="utf-8")
    out = convert_flat(src, tmp_path / "beir")
    stamp = (out / "corpus.jsonl").stat().st_mtime_ns
    assert convert_flat(src, tmp_path / "beir") == out and (out / "corpus.jsonl").stat().st_mtime_ns == stamp
    src.write_text(src.read_text() + json.dumps({"query": "new q", "positive": "new doc"}) + "\n", encoding="utf-8")
    convert_flat(src, tmp_path / "beir")
    assert "new doc" in (out / "corpus.jsonl").read_text()


def test_missing_column_and_empty_cell_name_file_line_field(tmp_path):
    with pytest.raises(DataError, match=r"seed.csv:1: field 'positive': missing column"):
        convert_flat(write_csv(tmp_path / "seed.csv", [("q", "p")], header="query,answer"), tmp_path / "o1")
    with pytest.raises(DataError, match=r"bad.csv:3: field 'query': is empty"):
        convert_flat(write_csv(tmp_path / "bad.csv", [("q", "p", ""), ("", "p2", "")]), tmp_path / "o2")
    src = tmp_path / "bad.jsonl"
    src.write_text('{"query": "q", "positive": "p"}\n{"query": "q2"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.jsonl:2: field 'positive': missing"):
        convert_flat(src, tmp_path / "o3")


def test_script_accepts_a_flat_file_as_data(tmp_path, monkeypatch):
    src = write_csv(tmp_path / "bad.csv", [("q", "p", ""), ("", "p2", "")])
    proc = run_script("1_build_corpus.py", "--data", src, "--size", "3", "--no-external")
    assert_one_line_error(proc, "bad.csv:3", "field 'query'")


def test_optional_answer_column_becomes_answers_jsonl(tmp_path):
    from corpus.answers import load_dataset_answers

    rows = [(q, p, n, a) for (q, p, n), a in zip(ROWS, ["Accountants", "A mechanic", "a brake specialist", ""])]
    out = convert_flat(write_csv(tmp_path / "seed.csv", rows, "query,positive,negative,answer"), tmp_path / "beir")
    ds = load_dataset(out)
    answers = load_dataset_answers(out, set(ds.queries))
    by_text = {ds.queries[q]: a for q, a in answers.items()}
    assert by_text == {
        "How do I file expense reports?": ("Accountants",),
        "Who repairs car brakes?": ("A mechanic", "a brake specialist"),
    }
    out = convert_flat(write_csv(tmp_path / "seed.csv"), tmp_path / "beir")  # the column removed: no answers
    assert load_dataset_answers(out) == {}


def test_same_name_different_content_gets_its_own_folder(tmp_path):
    from corpus.flat import flat_dataset_dir

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = write_csv(tmp_path / "a" / "seed.csv"), write_csv(tmp_path / "b" / "seed.csv", ROWS[:2])
    da, db = flat_dataset_dir(a, tmp_path / "data"), flat_dataset_dir(b, tmp_path / "data")
    assert da != db and da.name.startswith("seed-") and db.name.startswith("seed-")
    assert flat_dataset_dir(a, tmp_path / "data") == da  # the same content, the same folder
    assert len(load_dataset(convert_flat(a, da)).queries) == 3
    assert len(load_dataset(convert_flat(b, db)).queries) == 2
    assert len(load_dataset(da).queries) == 3  # the first conversion is untouched


def test_reconversion_replaces_the_folder_whole_so_no_stale_split_survives(tmp_path, monkeypatch):
    import corpus.flat

    src = write_csv(tmp_path / "seed.csv")
    out = convert_flat(src, tmp_path / "beir")
    (out / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq0\td0\t1\n", encoding="utf-8")
    (out / "triplets").mkdir()
    (out / "corpus_5.jsonl").write_text("{}\n", encoding="utf-8")
    # a file whose queries all land in train: an in-place conversion used to leave the old test.tsv behind
    monkeypatch.setattr(corpus.flat, "stable_hash", lambda seed, text: 2**64 - 1)
    write_csv(src, ROWS[:2])
    convert_flat(src, out)
    assert sorted(p.name for p in (out / "qrels").iterdir()) == ["train.tsv"]
    assert not (out / "triplets").exists() and not (out / "corpus_5.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_garbled_source_record_means_convert_again(tmp_path):
    src = write_csv(tmp_path / "seed.csv")
    out = convert_flat(src, tmp_path / "beir")
    (out / "flat_source.json").write_text('{"sha256": "12', encoding="utf-8")
    (out / "stale.txt").write_text("from before", encoding="utf-8")
    assert convert_flat(src, out) == out
    assert json.loads((out / "flat_source.json").read_text())["sha256"] and not (out / "stale.txt").exists()


def test_a_failed_conversion_leaves_the_previous_folder_whole(tmp_path, monkeypatch):
    import corpus.flat

    src = write_csv(tmp_path / "seed.csv")
    out = convert_flat(src, tmp_path / "beir")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write_csv(src, [("q", "p", ""), ("", "p2", "")])
    with pytest.raises(DataError):
        convert_flat(src, out)
    write_csv(src, ROWS[:2])

    def disk_full(*args, **kwargs):  # fails after the dataset files are written, before the record
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(corpus.flat, "write_json", disk_full)
    with pytest.raises(OSError):
        convert_flat(src, out)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beir", "seed.csv"]


def test_multi_line_csv_cells_keep_their_newlines(tmp_path):
    src = tmp_path / "multi.csv"
    src.write_text('query,positive\n"who cooks\nmeals","Para one line.\nPara two line."\n', encoding="utf-8")
    ds = load_dataset(convert_flat(src, tmp_path / "beir"))
    assert list(ds.queries.values()) == ["who cooks\nmeals"]
    assert [d.text for d in ds.corpus.values()] == ["Para one line.\nPara two line."]
