"""Training data never holds an evaluation query, and its card finds the dataset from any working folder."""

from __future__ import annotations

import json
import shutil

import pytest

from corpus.beir import load_dataset


@pytest.fixture(scope="module")
def leaky_dataset(tiny_dataset, tmp_path_factory):
    """The tiny set with two test queries leaked into train: one by id, one as a train query with its text."""
    root = tmp_path_factory.mktemp("leaky") / "ds"
    shutil.copytree(tiny_dataset, root)
    ds = load_dataset(root)
    by_id, by_text = sorted(ds.qrels["test"])[:2]
    train_q = sorted(ds.qrels["train"])[0]
    queries = [json.loads(line) for line in (root / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    for q in queries:
        if q["_id"] == train_q:
            q["text"] = "  " + ds.queries[by_text].upper() + " "
    (root / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    doc = next(iter(ds.qrels["test"][by_id]))
    with open(root / "qrels" / "train.tsv", "a", encoding="utf-8") as fh:
        fh.write(f"{by_id}\t{doc}\t1\n")
    return root, by_id, train_q


def test_overlapping_queries_are_dropped_from_training_with_a_warning(
    leaky_dataset, minilm, isolated_cache, tmp_path, capsys
):
    from train.triplet_data import TripletConfig, build_triplets

    root, by_id, by_text = leaky_dataset
    ds = load_dataset(root)
    out, stats, card = build_triplets(ds, minilm, TripletConfig(out=str(tmp_path / "t")))
    trained = {json.loads(line)["query_id"] for line in (out / "train.jsonl").read_text().splitlines()}
    assert by_id not in trained and by_text not in trained
    assert trained == set(ds.qrels["train"]) - {by_id, by_text}
    assert card["dropped_overlapping_queries"] == {"by_id": 1, "by_text": 1}
    warning = capsys.readouterr().out
    assert "warning:" in warning and "2 training queries are also dev/test queries" in " ".join(warning.split())


def test_card_stores_an_absolute_dataset_path_and_step_2_finds_it_from_elsewhere(
    tiny_dataset, minilm, isolated_cache, tmp_path, monkeypatch
):
    from train.examples import load_training_data
    from train.triplet_data import TripletConfig, build_triplets

    monkeypatch.chdir(tiny_dataset.parent)
    relative = tiny_dataset.name
    out, _, card = build_triplets(load_dataset(relative), minilm, TripletConfig(out=str(tmp_path / "t")))
    assert card["dataset"] == str(tiny_dataset.resolve())
    monkeypatch.chdir(tmp_path)
    assert load_training_data(out).dataset_path == str(tiny_dataset.resolve())


def test_an_older_card_with_a_relative_path_is_read_beside_the_card(tiny_triplets, tiny_dataset, tmp_path, monkeypatch):
    from train.examples import load_training_data

    folder = tmp_path / "t"
    shutil.copytree(tiny_triplets, folder)
    shutil.copytree(tiny_dataset, tmp_path / "ds")
    card = json.loads((folder / "card.json").read_text())
    (folder / "card.json").write_text(json.dumps({**card, "dataset": "../ds"}))
    monkeypatch.chdir("/")
    assert load_training_data(folder).dataset_path == str((tmp_path / "ds").resolve())


def test_old_triplets_of_evaluation_queries_are_left_out_at_training_time(
    leaky_dataset, tiny_triplets, tmp_path, capsys
):
    from train.examples import load_training_data

    root, by_id, by_text = leaky_dataset
    folder = tmp_path / "t"
    shutil.copytree(tiny_triplets, folder)
    card = json.loads((folder / "card.json").read_text())
    (folder / "card.json").write_text(json.dumps({**card, "dataset": str(root)}))
    rows = (folder / "train.jsonl").read_text().splitlines()
    leaked = json.loads(rows[0]) | {"query_id": by_id}
    (folder / "train.jsonl").write_text("\n".join(rows + [json.dumps(leaked)]) + "\n")
    data = load_training_data(folder)
    assert by_id not in {t.query_id for t in data.triplets} and by_text not in {t.query_id for t in data.triplets}
    assert "their triplets are left out" in capsys.readouterr().out


def test_a_labelled_document_is_never_an_outside_negative(tiny_dataset, minilm, isolated_cache, tmp_path):
    """Outside documents that repeat the dataset's own (here: every one of them, beside the six own_docs
    postings) could be a row's positive: step 0 drops them and says how many in the card."""
    from corpus.beir import document_text
    from corpus.outside import file_documents
    from tests.conftest import FIXTURES
    from train.triplet_data import TripletConfig, build_triplets

    ds = load_dataset(tiny_dataset)
    others = file_documents(FIXTURES / "own_docs")
    rows = [{"_id": f"copy{i}", "title": d.title, "text": d.text} for i, d in enumerate(ds.corpus.values())]
    rows += [{"_id": d.id.split(":", 1)[1], "title": d.title, "text": d.text} for d in others]
    outside = tmp_path / "outside.jsonl"
    outside.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out, _, card = build_triplets(ds, minilm, TripletConfig(out=str(tmp_path / "t"), outside=str(outside)))
    labelled = {document_text(d) for d in ds.corpus.values()}
    used = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert any(r["outside_negatives"] for r in used)
    assert not labelled & {t for r in used for t in r["outside_negatives"]}
    assert card["outside_negatives"]["dataset_documents_dropped"] == len(ds.corpus)
