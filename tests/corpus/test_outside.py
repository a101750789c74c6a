"""Outside documents: one seeded split into a training side and a pool side, and the mining of outside negatives."""

from __future__ import annotations

import numpy as np

from corpus.beir import Document, document_text, load_dataset
from corpus.outside import POOL, TRAIN, OutsideSplit, file_documents, split_card, training_side
from corpus.triplets import MiningConfig, mine_outside
from harness.encoding import encode
from tests.conftest import FIXTURES


def docs(n: int, prefix: str = "wiki") -> list[Document]:
    return [Document(f"{prefix}:D{i}", "", f"text {i}") for i in range(n)]


def test_split_is_by_id_alone_disjoint_and_near_its_share():
    split = OutsideSplit()
    many = docs(5000)
    train, pool = split.take(many, TRAIN), split.take(many, POOL)
    assert not {d.id for d in train} & {d.id for d in pool}
    assert len(train) + len(pool) == len(many)
    assert abs(len(train) / len(many) - split.train_share) < 0.03
    # the side of a document does not depend on what else is loaded, nor on the order
    assert [d.id for d in split.take(list(reversed(many[:100])), TRAIN)] == [
        d.id for d in reversed(split.take(many[:100], TRAIN))
    ]
    other = OutsideSplit(seed="another")
    assert {d.id for d in other.take(many, TRAIN)} != {d.id for d in train}


def test_a_file_of_own_documents_is_all_training_side_with_prefixed_ids():
    own = file_documents(FIXTURES / "own_docs")
    assert len(own) == 6 and all(d.id.startswith("outside:") for d in own)
    assert [d.id for d in training_side(str(FIXTURES / "own_docs"))] == [d.id for d in own]
    assert training_side("none") == []
    assert "train_share" in split_card("registry") and "whole file" in split_card(str(FIXTURES / "own_docs"))["rule"]


def test_outside_negatives_are_the_hardest_that_pass_the_false_negative_filter(tiny_dataset, minilm):
    ds = load_dataset(tiny_dataset)
    rel = ds.relevant("train")
    qids = sorted(rel)[:30]
    q_emb = encode(minilm, [ds.queries[q] for q in qids], "query")
    pos_emb = encode(minilm, [document_text(ds.corpus[sorted(rel[q])[0]]) for q in qids], "document")
    outside = file_documents(FIXTURES / "own_docs") + [
        Document(f"x:{i}", "", document_text(d)) for i, d in enumerate(ds.corpus.values())
    ]
    out_emb = encode(minilm, [document_text(d) for d in outside], "document")
    cfg = MiningConfig(num_outside=2, relative_margin=0.05)
    chosen, stats = mine_outside(q_emb, pos_emb, out_emb, cfg)
    scores = q_emb @ out_emb.T
    limit = (q_emb * pos_emb).sum(axis=1) * 0.95
    for i, row in enumerate(chosen):
        admissible = [d for d in range(len(outside)) if scores[i, d] <= limit[i]]
        assert row == sorted(admissible, key=lambda d: (-scores[i, d], d))[:2]
    # the corpus copies include each query's own positive: the filter must have removed those
    assert stats.filtered_candidates >= len(qids)
    assert stats.rows_with_outside == sum(1 for r in chosen if r) and stats.documents == len(outside)
    none, _ = mine_outside(q_emb, pos_emb, out_emb, MiningConfig(num_outside=0))
    assert none == [[] for _ in qids]
    assert np.isfinite(scores).all()


def test_the_datasets_own_documents_are_never_outside(tmp_path):
    from types import SimpleNamespace

    from corpus.outside import without_dataset_documents

    (tmp_path / "dataset_card.json").write_text('{"name": "esco-skill-search"}', encoding="utf-8")
    corpus = {"esco-skill:a": Document("esco-skill:a", "", "plan budgets"), "d2": Document("d2", "Nurse", "care")}
    ds = SimpleNamespace(path=tmp_path, corpus=corpus)
    outside = [
        Document("esco-skill:b", "", "another skill"),  # the registry source this dataset was built from
        Document("d2", "", "same id, other text"),
        Document("outside:n", "Nurse", " care "),  # a labelled document's text again (normalised)
        Document("isco:1", "", "managers"),
        Document("wiki:x", "", "plan budgets and more"),
    ]
    kept, dropped = without_dataset_documents(outside, ds)
    assert [d.id for d in kept] == ["isco:1", "wiki:x"] and dropped == 3
    # a dataset built from no registry source keeps the ESCO skills that are not its own
    (tmp_path / "dataset_card.json").write_text('{"name": "onet-job-search"}', encoding="utf-8")
    assert [d.id for d in without_dataset_documents(outside, ds)[0]] == ["esco-skill:b", "isco:1", "wiki:x"]
