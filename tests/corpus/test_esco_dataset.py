"""The ESCO skill-search dataset: the field split on real rows, the labelling rules, byte-identical builds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from corpus.beir import load_dataset, write_dataset
from corpus.esco_dataset import (
    DOC_PREFIX,
    EscoConfig,
    SkillParts,
    build_esco_dataset,
    first_sentence,
    split_skill_field,
)
from corpus.sources.esco import read_esco_skill_fields

ESCO_TINY = Path(__file__).parent.parent / "fixtures" / "esco_tiny" / "skills.csv"
TINY = EscoConfig(test_queries=8, dev_queries=5)


@pytest.fixture(scope="module")
def fields():
    return read_esco_skill_fields(ESCO_TINY)


def test_split_of_plain_and_proper_noun_rows():
    plain = (
        "tend asbestos blower drying asbestos use blower tend blower using blower blower tending tending blower "
        "dry asbestos Tend the blower used to dry asbestos and eliminate fumes from asbestos."
    )
    assert split_skill_field(plain) == SkillParts(
        "tend asbestos blower drying asbestos use blower tend blower using blower blower tending tending blower "
        "dry asbestos",
        "Tend the blower used to dry asbestos and eliminate fumes from asbestos.",
    )
    # 'Hungarian' repeats inside the labels: a proper noun, not where the description starts
    lang = (
        "write Hungarian correspond in written Hungarian show competency in written Hungarian "
        "Compose written texts in Hungarian."
    )
    assert split_skill_field(lang) == SkillParts(
        "write Hungarian correspond in written Hungarian show competency in written Hungarian",
        "Compose written texts in Hungarian.",
    )
    haskell = (
        "Haskell Haskell techniques The techniques and principles of software development, such as analysis, "
        "algorithms, coding, testing and compiling of programming paradigms in Haskell."
    )
    assert split_skill_field(haskell).labels == "Haskell Haskell techniques"


def test_rows_that_cannot_be_split_safely_are_reasons():
    assert split_skill_field("just lower case words here.") == "no_description_start"
    acronyms = split_skill_field("use markup languages use XHTML use HTML Utilise computer languages.")
    assert acronyms == SkillParts("use markup languages use XHTML use HTML", "Utilise computer languages.")
    assert split_skill_field("run the lab Run tests on samples Check results daily.") == "ambiguous_description_start"
    assert split_skill_field("box styles A list of styles") == "description_not_a_sentence"


def test_first_sentence():
    assert first_sentence("Keep the stage organised. Define and label areas.") == "Keep the stage organised."
    assert first_sentence("Set up e.g. radars and more.") == "Set up e.g. radars and more."


def test_dataset_rules(fields):
    ds, stats = build_esco_dataset(fields, TINY)
    assert stats.skills == len(fields) == 41
    unsplit = (
        "no_description_start",
        "ambiguous_description_start",
        "punctuation_in_labels",
        "description_not_a_sentence",
    )
    assert stats.documents + sum(stats.dropped.get(k, 0) for k in unsplit) == 41
    assert stats.dropped.get("ambiguous_description_start", 0) >= 1  # the fixture holds such rows
    assert stats.queries == {"train": len(ds.qrels["train"]), "dev": 5, "test": 8}
    seen = set()
    for qrels in ds.qrels.values():
        assert not seen & set(qrels), "a query in two splits"
        seen |= set(qrels)
        for qid, docs in qrels.items():
            assert list(docs.values()) == [1] and len(docs) == 1
            (doc_id,) = docs
            assert doc_id == DOC_PREFIX + qid.split("#")[0]
            query = ds.queries[qid].lower()
            assert all(query not in d.text.lower() for d in ds.corpus.values())
    for doc in ds.corpus.values():
        assert "." not in doc.text and doc.text == doc.text.strip()


def test_byte_identical_and_input_order_free(fields, tmp_path):
    shuffled = list(fields)
    random.Random(7).shuffle(shuffled)
    digests = []
    for i, rows in enumerate((fields, fields, shuffled)):
        out = tmp_path / f"build{i}"
        ds, _ = build_esco_dataset(rows, TINY, out)
        write_dataset(ds, out)
        files = sorted(p for p in out.rglob("*") if p.is_file())
        digests.append({p.relative_to(out).as_posix(): p.read_bytes() for p in files})
        load_dataset(out)  # a valid BEIR folder
    assert digests[0] == digests[1] == digests[2]


def test_card_table_renders(fields):
    from rich.console import Console

    from corpus.tables import esco_dataset_table

    _, stats = build_esco_dataset(fields, TINY)
    console = Console(width=200, record=True)
    console.print(esco_dataset_table({"name": "esco-skill-search", "stats": stats.as_dict()}))
    text = console.export_text()
    assert "ESCO skills read" in text and "41" in text and "dev (one relevant skill each)" in text
