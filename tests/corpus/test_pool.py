"""The candidate pool: exact size, relevant documents first, no training negatives, byte-identical output."""

from __future__ import annotations

import hashlib
import json

import pytest

from corpus.beir import Document, load_dataset
from corpus.errors import RagtuneError
from corpus.pool import PoolConfig, build_pool
from tests.helpers import assert_one_line_error, run_script


def external():
    return [Document(f"wiki:T{i}", f"Topic {i}", f"General text number {i}.") for i in range(50)]


def test_pool_has_all_relevant_documents_and_exact_size(tiny_dataset):
    ds = load_dataset(tiny_dataset)
    relevant = {d for docs in ds.relevant("test").values() for d in docs}
    excluded = {d for d in ds.corpus if d not in relevant}
    excluded = set(sorted(excluded)[:5])
    pool, counts = build_pool(ds, PoolConfig(size=30), excluded, [("external", external)])
    ids = [d.id for _, d in pool]
    assert len(ids) == len(set(ids)) == 30
    assert relevant <= set(ids)
    assert not excluded & set(ids)
    assert counts["relevant"] == len(relevant)
    assert counts["dataset"] == len(ds.corpus) - len(relevant) - 5
    assert counts["wiki"] == 30 - counts["relevant"] - counts["dataset"]


def test_size_limits_are_clear_errors(tiny_dataset):
    ds = load_dataset(tiny_dataset)
    with pytest.raises(RagtuneError, match="smaller than the 8 documents relevant"):
        build_pool(ds, PoolConfig(size=5), set(), [])
    with pytest.raises(RagtuneError, match="larger than the 70 documents available"):
        build_pool(ds, PoolConfig(size=71), set(), [("external", external)])


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_script_output_is_byte_identical_across_hash_seeds(tiny_dataset, tmp_path):
    outs = []
    for seed in ("0", "12345"):
        out = tmp_path / f"pool_{seed}.jsonl"
        proc = run_script(
            "1_build_corpus.py", "--data", tiny_dataset, "--size", "600", "--out", out, env={"PYTHONHASHSEED": seed}
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    assert digest(outs[0]) == digest(outs[1])
    rows = [json.loads(x) for x in outs[0].read_text().splitlines()]
    sources = {r["source"] for r in rows}
    assert len(rows) == 600 and {"relevant", "dataset"} <= sources and sources & {"wiki", "esco-skill", "isco"}
    assert not any(r["_id"].startswith("esco-occupation") for r in rows)


def test_script_rejects_impossible_sizes(tiny_dataset):
    proc = run_script("1_build_corpus.py", "--data", tiny_dataset, "--size", "3", "--no-external")
    assert_one_line_error(proc, "--size 3 is smaller than the 8 documents relevant")
    proc = run_script("1_build_corpus.py", "--data", tiny_dataset, "--size", "25", "--no-external")
    assert_one_line_error(proc, "--size 25 is larger than the 20 documents available")


def test_outside_training_negatives_never_enter_a_pool(tiny_dataset):
    """Belt and braces beside the split: an excluded id is left out whichever stage offers it."""
    ds = load_dataset(tiny_dataset)
    outside = external()
    excluded = {d.id for d in outside[::3]}
    pool, _ = build_pool(ds, PoolConfig(size=40), excluded, [("external", lambda: outside)])
    assert not excluded & {d.id for _, d in pool}


def test_external_distractors_are_the_pool_side_only():
    from corpus.outside import DEFAULT_SPLIT, POOL, REGISTRY, load_outside
    from corpus.pool import external_distractors

    pool_docs = external_distractors()
    everything = load_outside(REGISTRY)
    assert pool_docs and all(DEFAULT_SPLIT.side_of(d.id) == POOL for d in pool_docs)
    assert len(pool_docs) < len(everything) and len(pool_docs) >= 19_000, "pools of 20,000 must stay possible"


def test_a_dataset_built_from_an_outside_source_never_draws_it(tiny_dataset, tmp_path):
    import shutil

    from corpus.provenance import DATASET_CARD

    def mixed():
        return [
            Document(f"{src}:X{i}", f"{src} {i}", f"Text {i}.") for src in ("esco-skill", "wiki") for i in range(30)
        ]

    ds = load_dataset(tiny_dataset)
    pool, counts = build_pool(ds, PoolConfig(size=40), set(), [("external", mixed)])
    assert counts["esco-skill"] > 0  # an O*NET-like dataset may draw both sources
    pool, counts = build_pool(ds, PoolConfig(size=40, skip_sources=("esco-skill",)), set(), [("external", mixed)])
    assert counts["esco-skill"] == 0 and counts["wiki"] == 40 - counts["relevant"] - counts["dataset"]

    esco_like = tmp_path / "esco_like"
    shutil.copytree(tiny_dataset, esco_like)
    (esco_like / DATASET_CARD).write_text(json.dumps({"name": "esco-skill-search"}))
    pool, counts = build_pool(load_dataset(esco_like), PoolConfig(size=40), set(), [("external", mixed)])
    assert counts["esco-skill"] == 0 and len(pool) == 40
