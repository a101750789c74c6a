"""Hard-negative mining on a small real example with MiniLM, checked against sentence-transformers' own miner."""

from __future__ import annotations

import json

import pytest

from corpus.beir import document_text, load_dataset
from corpus.triplets import MiningConfig, mine, read_triplets
from harness.encoding import encode


@pytest.fixture(scope="module")
def mined(tiny_dataset, minilm):
    ds = load_dataset(tiny_dataset)
    doc_ids = list(ds.corpus)
    rel = ds.relevant("train")
    qids = sorted(rel)[:60]
    q_emb = encode(minilm, [ds.queries[q] for q in qids], "query")
    d_emb = encode(minilm, [document_text(ds.corpus[d]) for d in doc_ids], "document")
    positives = [[doc_ids.index(next(iter(rel[q])))] for q in qids]
    return ds, doc_ids, qids, q_emb, d_emb, positives


def test_negatives_are_never_positives_and_respect_the_margin(mined):
    ds, doc_ids, qids, q_emb, d_emb, positives = mined
    cfg = MiningConfig(num_negatives=3, relative_margin=0.05, reserve_distractors=0)
    negs, stats = mine(q_emb, d_emb, positives, cfg)
    scores = q_emb @ d_emb.T
    for i, chosen in enumerate(negs):
        assert positives[i][0] not in chosen
        limit = scores[i, positives[i][0]] * 0.95
        assert all(scores[i, d] <= limit + 1e-6 for d in chosen)
        # hard: nothing admissible scores above a chosen negative
        admissible = [d for d in range(len(doc_ids)) if d != positives[i][0] and scores[i, d] <= limit]
        top = sorted(admissible, key=lambda d: -scores[i, d])[: len(chosen)]
        assert sorted(chosen) == sorted(top)
    assert stats.filtered_candidates > 0
    assert stats.triplets == len(qids)


def test_a_tighter_filter_removes_more_candidates(mined):
    _, _, _, q_emb, d_emb, positives = mined
    loose = mine(q_emb, d_emb, positives, MiningConfig(relative_margin=0.0, reserve_distractors=0))[1]
    tight = mine(q_emb, d_emb, positives, MiningConfig(relative_margin=0.3, reserve_distractors=0))[1]
    assert tight.filtered_candidates > loose.filtered_candidates


def test_excluded_documents_are_never_mined(mined):
    _, _, _, q_emb, d_emb, positives = mined
    excluded = set(range(0, 20, 2)) - {p[0] for p in positives}
    negs, _ = mine(q_emb, d_emb, positives, MiningConfig(reserve_distractors=0), excluded=excluded)
    assert not excluded & {d for row in negs for d in row}


@pytest.mark.slow
def test_same_negatives_as_sentence_transformers_miner(mined, minilm):
    from datasets import Dataset as HFDataset
    from sentence_transformers.util import mine_hard_negatives

    ds, doc_ids, qids, q_emb, d_emb, positives = mined
    texts = [document_text(ds.corpus[d]) for d in doc_ids]
    pairs = HFDataset.from_dict({"query": [ds.queries[q] for q in qids], "positive": [texts[p[0]] for p in positives]})
    theirs = mine_hard_negatives(
        pairs,
        minilm.model,
        corpus=texts,
        range_max=len(texts),
        relative_margin=0.05,
        num_negatives=2,
        sampling_strategy="top",
        output_format="n-tuple",
        verbose=False,
    )
    ours, _ = mine(q_emb, d_emb, positives, MiningConfig(num_negatives=2, relative_margin=0.05, reserve_distractors=0))
    theirs_by_query = {row["query"]: {row["negative_1"], row["negative_2"]} for row in theirs}
    compared = 0
    for q, chosen in zip(qids, ours, strict=False):
        if ds.queries[q] in theirs_by_query and len(chosen) == 2:
            assert {texts[d] for d in chosen} == theirs_by_query[ds.queries[q]]
            compared += 1
    assert compared >= len(qids) * 0.9


@pytest.mark.slow
def test_script_writes_triplets_and_reuses_cached_embeddings(tiny_dataset, tmp_path, isolated_cache):
    from corpus.cli import run_cli
    from ragtune.cli import entry

    main = entry("triplets")
    args = [
        "--data",
        str(tiny_dataset),
        "--out",
        str(tmp_path / "t"),
        "--num-negatives",
        "2",
        "--reserve-distractors",
        "3",
        "--outside",
        "none",  # the registry's 4,827 outside documents cost an encode this test does not need
    ]
    assert run_cli(main, args) == 0
    card = json.loads((tmp_path / "t" / "card.json").read_text())
    assert card["embedding_cache"] == {"hits": 0, "misses": 2, "reused_rows": 0}
    rows = read_triplets(tmp_path / "t")
    ds = load_dataset(tiny_dataset)
    assert len(rows) == len(ds.qrels["train"])
    assert all(len(r.negatives) == 2 and r.positive_id not in r.negative_ids for r in rows)
    dev = [json.loads(x) for x in (tmp_path / "t" / "dev.jsonl").read_text().splitlines()]
    assert len(dev) == len(ds.qrels["dev"])
    assert run_cli(main, args) == 0
    card = json.loads((tmp_path / "t" / "card.json").read_text())
    assert card["embedding_cache"] == {"hits": 2, "misses": 0, "reused_rows": 0}
    assert card["reserved_distractors"] == 3


def test_default_reserve_keeps_most_of_a_small_corpus_for_mining(tiny_dataset):
    from corpus.beir import load_dataset
    from corpus.triplets import MiningConfig, default_reserve
    from train.triplet_data import reserve_distractors

    assert default_reserve(1016) == 400  # O*NET: half of the 800-document pool
    assert default_reserve(50_000) == 400 and default_reserve(22) == 8
    ds = load_dataset(tiny_dataset)
    evaluated = {d for s in ("dev", "test") for docs in ds.relevant(s).values() for d in docs}
    reserved = reserve_distractors(ds, MiningConfig())
    assert len(reserved) == min(default_reserve(len(ds.corpus)), len(ds.corpus) - len(evaluated))
    assert not set(reserved) & evaluated
    assert reserve_distractors(ds, MiningConfig(reserve_distractors=0)) == []


def test_outside_negatives_come_from_the_registry_only_for_the_built_in_datasets():
    from ragtune.steps.triplets import TripletsConfig, outside_source

    assert outside_source(TripletsConfig()) == outside_source(TripletsConfig(dataset="esco")) == "registry"
    assert outside_source(TripletsConfig(data="my/beir")) == "none", "job-market texts are not a user's neighbours"
    assert outside_source(TripletsConfig(data="my/beir", outside="registry")) == "registry"
    assert outside_source(TripletsConfig(data="my/beir", outside="docs.jsonl")) == "docs.jsonl"
