"""The O*NET dataset: clean labels, deterministic splits, no leakage of test text into training."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

from corpus.onet_dataset import build_onet_dataset
from corpus.splits import normalise
from tests.conftest import ONET_TINY, tiny_onet_config
from tests.helpers import ROOT


def split_texts(ds, split):
    return {normalise(ds.queries[q]) for q in ds.qrels[split]}


def test_queries_are_never_document_text_and_splits_are_disjoint(tiny_onet_records):
    ds, stats = build_onet_dataset(*tiny_onet_records, tiny_onet_config())
    doc_text = "\n".join(d.text.lower() for d in ds.corpus.values())
    for q in ds.queries.values():
        assert normalise(q) not in doc_text
    train, dev, test = (split_texts(ds, s) for s in ("train", "dev", "test"))
    assert not (train & test) and not (dev & test) and not (train & dev)
    assert sum(len(ds.qrels[s]) for s in ds.qrels) == len(ds.queries)
    # every query is relevant to exactly its own occupation
    assert all(
        len(docs) == 1 and q.startswith(next(iter(docs)) + "#")
        for split in ds.qrels.values()
        for q, docs in split.items()
    )
    assert stats.queries["test"] == 10 and stats.relevant_documents["test"] == 8
    assert stats.dropped["text_of_several_occupations"] > 0


def test_texts_shared_by_occupations_are_dropped_and_counted(tiny_onet_records):
    occupations, tasks = tiny_onet_records
    shared = replace(tasks[0], code=occupations[-1].code, task_id="999999")
    ds, stats = build_onet_dataset(occupations, tasks + [shared], tiny_onet_config())
    assert normalise(tasks[0].text) not in {normalise(t) for t in ds.queries.values()}
    base, base_stats = build_onet_dataset(occupations, tasks, tiny_onet_config())
    assert stats.dropped["text_of_several_occupations"] >= base_stats.dropped["text_of_several_occupations"] + 1


def test_split_by_occupation_keeps_test_occupations_out_of_training(tiny_onet_records):
    ds, stats = build_onet_dataset(*tiny_onet_records, replace(tiny_onet_config(), split_by="occupation"))
    test_docs = {d for docs in ds.qrels["test"].values() for d in docs}
    train_docs = {d for docs in ds.qrels["train"].values() for d in docs}
    dev_docs = {d for docs in ds.qrels["dev"].values() for d in docs}
    assert test_docs and not (test_docs & train_docs) and not (dev_docs & test_docs)
    assert stats.dropped["unused_in_test_occupations"] > 0


SNIPPET = """
import json, sys
sys.path.insert(0, {root!r})
from corpus.sources.onet import read_occupations, read_tasks
from corpus.onet_dataset import build_onet_dataset, OnetConfig
from pathlib import Path
d = Path({fixtures!r})
ds, _ = build_onet_dataset(read_occupations(d / "Occupation Data.txt"), read_tasks(d / "Task_DWA.csv"),
                           OnetConfig(doc_tasks=4, test_occupations=8, test_queries=10, dev_occupations=6, dev_queries=8))
print(json.dumps({{"qrels": ds.qrels, "fp": ds.fingerprint(), "q": ds.queries}}, sort_keys=True))
"""


def test_split_is_identical_across_processes_and_hash_seeds():
    code = SNIPPET.format(root=str(ROOT), fixtures=str(ONET_TINY))
    outs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout
        for seed in ("1", "999")
    ]
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["qrels"]["test"]


def test_seed_changes_the_split(tiny_onet_records):
    a, _ = build_onet_dataset(*tiny_onet_records, tiny_onet_config())
    b, _ = build_onet_dataset(*tiny_onet_records, replace(tiny_onet_config(), seed=7))
    assert a.qrels["test"] != b.qrels["test"]
