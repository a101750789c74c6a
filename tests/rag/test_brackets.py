"""Closed-book and oracle brackets."""

from __future__ import annotations

import pytest

from corpus.errors import DataError
from rag.brackets import load_closed_book_prompt, oracle_context


def test_oracle_puts_relevant_first_and_pads_with_the_first_arms_best_non_relevant():
    ranking = ["d5", "d2", "d9", "d1", "d7"]
    assert oracle_context({"d1"}, ranking, 3) == ["d1", "d5", "d2"]
    assert oracle_context({"d1", "d9", "d0"}, ranking, 3) == ["d9", "d1", "d0"]  # rank order, unretrieved last
    assert oracle_context({"d1", "d9", "d0"}, ranking, 2) == ["d9", "d1"]  # more relevant than k
    assert oracle_context({"d1"}, ["d5", "d5", "d1"], 3) == ["d1", "d5"]  # short ranking: no repeats
    assert len(oracle_context({"x"}, ranking, 4)) == 4


def test_closed_book_prompt_has_the_question_only(tmp_path):
    p = load_closed_book_prompt()
    content = p.messages("Repair pipes.")[0]["content"]
    assert "Repair pipes." in content and "passage" in content.lower()
    bad = tmp_path / "cb.txt"
    bad.write_text("{question}\n{context}")
    with pytest.raises(DataError, match="exactly one placeholder"):
        load_closed_book_prompt(bad)
