"""Training queries that are also evaluation queries are found by id and by normalised text."""

from __future__ import annotations

from corpus.splits import split_overlap


def test_overlap_by_id_and_by_normalised_text():
    queries = {
        "q1": "Who repairs brakes?",
        "q2": "teach  ALGEBRA",
        "q3": "cook meals",
        "t1": "Teach algebra.",
        "t2": "plan menus",
        "d1": "cook Meals",
    }
    qrels = {"train": {"q1": {}, "q2": {}, "q3": {}, "t2": {}}, "test": {"t1": {}, "t2": {}}, "dev": {"d1": {}}}
    overlap = split_overlap(queries, qrels)
    assert overlap.by_id == ("t2",) and overlap.by_text == ("q2", "q3")
    assert overlap.train_ids == {"t2", "q2", "q3"} and overlap.held_out == ("dev", "test")
    assert "3 training queries are also dev/test queries (1 by id, 2 by normalised text" in overlap.describe()


def test_no_overlap_is_falsy_and_missing_splits_are_fine():
    queries = {"q1": "a", "t1": "b"}
    assert not split_overlap(queries, {"train": {"q1": {}}, "test": {"t1": {}}})
    assert not split_overlap(queries, {"test": {"t1": {}}})
    assert not split_overlap(queries, {"train": {"q1": {}}})
