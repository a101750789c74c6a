"""The prompt template: passages cited by number, --prompt files validated with one-line errors."""

from __future__ import annotations

import pytest

from corpus.beir import Document
from corpus.errors import DataError
from rag.prompts import DEFAULT_TEMPLATE, load_template

DOCS = [Document("a", "Chefs", "Cook food."), Document("b", "", "Wash dishes.")]


def test_default_template_numbers_passages_in_rank_order():
    t = load_template(None)
    text = t.render("Who cooks?", DOCS)
    assert "[1] Chefs\nCook food." in text and "[2] Wash dishes." in text
    assert text.index("[1]") < text.index("[2]") and 'A user searched for: "Who cooks?"' in text
    assert t.messages("q", DOCS)[0]["role"] == "user"
    assert t.fingerprint == load_template(None).fingerprint and t.text == DEFAULT_TEMPLATE


def test_custom_template_with_literal_braces(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text('Context:\n{context}\nQ: {question}\nReply as {{"answer": ...}}\n')
    t = load_template(f)
    assert '{"answer": ...}' in t.render("q", DOCS) and t.fingerprint != load_template(None).fingerprint


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Only {question}", "must contain {context}"),
        ("{context} {question} {answer}", "unknown placeholder(s) {answer}"),
        ("{context} {question} {", "not a valid template"),
        ("", "file is empty"),
    ],
)
def test_bad_templates_name_the_file(tmp_path, text, fragment):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(DataError) as exc:
        load_template(f)
    assert fragment in str(exc.value) and str(f) in str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_template_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_template(tmp_path / "nope.txt")
