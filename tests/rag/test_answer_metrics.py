"""Deterministic answer correctness: O*NET title match and SQuAD exact match / token F1."""

from __future__ import annotations

import pytest

from corpus.beir import Document, load_dataset
from rag.answer_metrics import (
    TitleIndex,
    exact_match,
    score_answer,
    singular,
    squad_normalise,
    title_names,
    title_words,
    token_f1,
)


def _docs(*titles: str) -> list[Document]:
    return [Document(f"d{i}", t, "text") for i, t in enumerate(titles)]


def test_normalisation_is_the_same_on_both_sides():
    assert title_words("Registered Nurses") == title_words("a registered NURSE.")[1:]
    assert title_words("Ｃｈｅｆｓ") == ["chef"]  # NFKC folds full-width letters
    assert [singular(w) for w in ("secretaries", "coaches", "bosses", "analysis", "business", "bus", "cooks")] == [
        "secretary",
        "coach",
        "boss",
        "analysis",
        "business",
        "bus",
        "cook",
    ]


def test_title_names_split_joined_occupations_but_not_qualifiers():
    assert ("accountant",) in title_names("Accountants and Auditors")
    assert ("auditor",) in title_names("Accountants and Auditors")
    names = title_names("Heavy and Tractor-Trailer Truck Drivers")
    assert ("heavy",) not in names and ("tractor", "trailer", "truck", "driver") in names
    assert title_names("Cooks, Restaurant") == [("cook", "restaurant"), ("cook",)]
    assert all(n[0] != "except" for n in title_names("Elementary School Teachers, Except Special Education"))


def test_whole_words_only_and_longest_occurrence_wins():
    idx = TitleIndex(_docs("Human Resources Managers", "Managers, All Other", "Chemists"))
    assert idx.named("Human resources managers plan hiring [1].") == {"d0"}  # not also "Managers, All Other"
    assert idx.named("The managers of a lab") == {"d1"}
    assert idx.named("biochemists study cells") == set()  # 'chemist' inside a word


def test_score_title_match_correct_wrong_and_other():
    docs = _docs("Registered Nurses", "Dental Assistants", "Electricians")
    idx = TitleIndex(docs)
    right = score_answer("A registered nurse does this [1].", {"d0"}, ["d0", "d1"], titles=idx)
    assert (right.metric, right.correct, right.names_wrong, right.names_other) == ("title_match", True, False, False)
    hedge = score_answer("Registered nurses or dental assistants [1][2].", {"d0"}, ["d0", "d1"], titles=idx)
    assert hedge.correct and hedge.names_wrong and not hedge.names_other
    other = score_answer("An electrician.", {"d0"}, ["d0", "d1"], titles=idx)
    assert (other.correct, other.names_wrong, other.names_other, other.named) == (False, False, True, ("d2",))
    assert score_answer("anything", {"d0"}, ["d0"]).metric == "none"  # no titles known


def test_on_the_tiny_dataset_each_title_names_itself_only(tiny_dataset):
    docs = list(load_dataset(tiny_dataset).corpus.values())
    idx = TitleIndex(docs)
    for doc in docs:
        assert idx.named(f"This is work for {doc.title.lower()}.") == {doc.id}, doc.title


# the official SQuAD v1.1 evaluation's behaviour, worked by hand
@pytest.mark.parametrize(
    "answer, reference, em, f1",
    [
        ("The Eiffel Tower!", "eiffel tower", True, 1.0),
        ("in Paris, France", "Paris", False, 2 * (1 / 3) * 1 / (1 / 3 + 1)),  # P = 1/3, R = 1
        ("a cat sat", "the dog sat", False, 0.5),  # one of two tokens on each side
        ("nothing alike", "Paris", False, 0.0),
    ],
)
def test_squad_exact_match_and_f1(answer, reference, em, f1):
    assert exact_match(answer, reference) is em
    assert token_f1(answer, reference) == pytest.approx(f1)


def test_squad_normalise_and_best_reference():
    assert squad_normalise("  The  Answer, an idea. ") == "answer idea"
    s = score_answer("Paris", set(), [], references=("London", "paris"))
    assert (s.metric, s.correct, s.f1) == ("reference", True, 1.0)
