"""Each query filter on hand-made inputs, the prompt file checks, and the split by source document."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.documents import Passage
from corpus.errors import DataError, RagtuneError
from rag import query_filters as qf
from rag.query_generation import Candidate, apply_filters, assign_splits, load_prompt

CFG = qf.FilterConfig(
    min_words=2, max_words=8, copy_ngram=4, near_duplicate_cosine=0.9, round_trip_k=1, max_per_doc=None
)


def test_parse_strips_markers_quotes_and_preambles():
    reply = 'Here are two queries:\n\n1. "night shift nurse jobs"\n2) **RN licence requirements**\n- third one'
    assert qf.parse_queries(reply, 2) == ["night shift nurse jobs", "RN licence requirements"]
    assert qf.parse_queries("Query 1: welder jobs\nQ2 - arc welding apprenticeships", 5) == [
        "welder jobs",
        "arc welding apprenticeships",
    ]
    assert qf.parse_queries("   \n\n", 2) == []


@pytest.mark.parametrize(
    "query,problem",
    [
        ("", "empty"),
        ("?!", "empty"),
        ("nurse", "too_short"),
        ("nurse jobs", None),
        ("one two three four five six seven eight", None),
        ("one two three four five six seven eight nine", "too_long"),
    ],
)
def test_length(query, problem):
    assert qf.length_problem(query, CFG) == problem


def test_copies_long_spans_of_the_passage():
    passage = "You will assess patients on admission and record vital signs and symptoms."
    assert qf.longest_common_ngram("How do nurses record vital signs?", passage) == 3
    assert qf.longest_common_ngram("assess patients on admission and record", passage) == 6
    assert not qf.copies_passage("How do nurses record vital signs?", passage, CFG)
    assert qf.copies_passage("jobs where you record Vital Signs and symptoms", passage, CFG)
    assert qf.longest_common_ngram("", passage) == 0


def test_duplicates_up_to_case_space_and_punctuation():
    keys = [qf.duplicate_key(q) for q in ["Night shift nurse jobs?", "night  shift nurse jobs", "nurse jobs"]]
    assert qf.first_occurrences(keys) == [True, False, True]


def test_near_duplicates_only_within_a_document():
    e = np.array([[1, 0, 0], [0.96, 0.28, 0], [0.96, 0.28, 0], [0, 1, 0]], dtype=np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    assert qf.near_duplicates(e, ["a", "a", "b", "a"], 0.9) == [False, True, False, False]
    assert qf.near_duplicates(e, ["a", "a", "b", "a"], 0.99) == [False, False, False, False]


def test_round_trip_and_cap():
    assert qf.round_trip_ok(["p2", "p1"], "p1", 2) and not qf.round_trip_ok(["p2", "p1"], "p1", 1)
    keep = qf.cap_per_group(["a", "a", "a", "b"], [30, 10, 20, 5], 2)
    assert keep == [False, True, True, True]
    assert qf.cap_per_group(["a", "a"], [1, 2], None) == [True, True]


def test_apply_filters_counts_each_filter_with_the_real_base_embedder(minilm, isolated_cache):
    from harness.retrieval import Retriever

    passages = {
        p.id: p
        for p in [
            Passage(
                "nurse#p1",
                "nurse",
                "Registered Nurse",
                "Assess patients, record vital signs and give medications in a hospital ward; twelve-hour shifts.",
            ),
            Passage(
                "chef#p1",
                "chef",
                "Sous Chef",
                "Run the line during dinner service, train cooks and plan "
                "daily specials in a farm-to-table restaurant.",
            ),
            Passage(
                "driver#p1",
                "driver",
                "Truck Driver",
                "Drive tractor-trailers on regional routes, inspect the truck and log hours of service.",
            ),
        ]
    }
    texts = [
        ("nurse#p1", "hospital nursing job with long shifts"),
        ("nurse#p1", "hospital nursing jobs with long shifts"),  # near duplicate of the first
        ("nurse#p1", "Hospital nursing job with long shifts!"),  # exact duplicate
        ("nurse#p1", "record vital signs and give medications"),  # copies 6 words
        ("nurse#p1", "jobs"),  # too short
        ("nurse#p1", "restaurant kitchen job training cooks"),  # points at the chef passage
        ("chef#p1", "cooking job at a farm restaurant"),
        ("driver#p1", "regional trucking job"),
    ]
    cands = [Candidate(f"{pid}#q{i}", pid, pid.split("#")[0], t) for i, (pid, t) in enumerate(texts)]
    retriever = Retriever(minilm, {p.id: p.as_document() for p in passages.values()})
    kept, counts = apply_filters(cands, passages, retriever, CFG, seed=1, missing=2)
    assert [c.text for c in kept] == [
        "hospital nursing job with long shifts",
        "cooking job at a farm restaurant",
        "regional trucking job",
    ]
    assert counts == {
        "empty": 2,
        "too_short": 1,
        "too_long": 0,
        "copies_passage": 1,
        "duplicate": 1,
        "near_duplicate": 1,
        "round_trip": 1,
        "over_cap": 0,
    }
    capped, counts = apply_filters(
        cands, passages, retriever, qf.FilterConfig(2, 8, 4, 0.999, 0, max_per_doc=1), seed=1
    )
    assert counts["over_cap"] == 2 and counts["round_trip"] == 0
    assert sorted(c.source_id for c in capped) == ["chef", "driver", "nurse"]


def test_split_by_source_document_is_seeded_and_never_leaks():
    docs = [f"doc{i}" for i in range(20)]
    splits = assign_splits(docs + docs[:5], seed=3, dev_share=0.1, test_share=0.2)
    assert set(splits) == set(docs)  # one split per document, whatever its number of queries
    sizes = {s: sum(v == s for v in splits.values()) for s in ("train", "dev", "test")}
    assert sizes == {"train": 14, "dev": 2, "test": 4}
    assert assign_splits(list(reversed(docs)), 3, 0.1, 0.2) == splits
    assert assign_splits(docs, 4, 0.1, 0.2) != splits
    assert sorted(assign_splits(["a", "b", "c"], 1, 0.1, 0.2).values()) == ["dev", "test", "train"]
    with pytest.raises(RagtuneError, match="only 2 document"):
        assign_splits(["a", "b"], 1, 0.1, 0.2)


def test_prompt_file_is_checked(tmp_path):
    default = load_prompt(None)
    assert default.source == "built-in" and len(default.sha256) == 64
    hinted = load_prompt(None, 'Examples: "night nurse jobs"')
    assert hinted.sha256 != default.sha256  # the hint is part of what the cache and the card see
    passage = Passage("x#p1", "x", "Welder", "Joins metal.")
    assert 'Examples: "night nurse jobs"' in hinted.messages(passage, 3)[0]["content"]
    f = tmp_path / "prompt.txt"
    f.write_text('Write {n} queries for: {passage} as JSON {{"q": []}}')
    mine = load_prompt(f)
    assert mine.source == str(f) and mine.messages(passage, 3)[0]["content"] == (
        'Write 3 queries for: Joins metal. as JSON {"q": []}'
    )
    f.write_text("Write queries for {passage} about {topic}")
    with pytest.raises(DataError, match=r"unknown placeholder\(s\) \{topic\}"):
        load_prompt(f)
    f.write_text("Write queries for {passage}")
    with pytest.raises(DataError, match=r"must contain \{n\}"):
        load_prompt(f)
