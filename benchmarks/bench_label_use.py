#!/usr/bin/env python
"""Other ways to spend the same labels and models, scored beside the fine-tuned model they start from.

Step 3's arms answer "fine-tune, fuse with BM25, or rerank?". This benchmark measures three cheap alternatives
that need no further training, on the split's queries against a pool (default: step 1's pool, test split):

- weight interpolation (WiSE-FT): every weight is base + a x (fine-tuned - base); a < 1 pulls back toward the base
  model, a > 1 extrapolates the fine-tuning direction;
- a uniform soup: the mean of the weights of several fine-tuned folders of the same base model (--soup);
- documents expanded with their training queries: a document's score is (1 - w) x its own cosine plus w x the
  best cosine of one of its training queries ("max") or the cosine of the mean of their embeddings ("centroid").
  A document without training queries keeps its own cosine in both places.

Every figure is fitted on nothing: the grids are printed whole, so read them as "does any setting help?", and pick a
setting on dev (--split dev --pool <data>/corpus.jsonl) before believing a test figure.

    python benchmarks/bench_label_use.py --finetuned runs/finetuned/final
    python benchmarks/bench_label_use.py --finetuned runs/a/final --soup runs/a/final runs/b/final
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads

from corpus.beir import Dataset, document_text  # noqa: E402
from corpus.datasets import open_dataset, resolve_pool  # noqa: E402
from corpus.models import load_embedder, resolve_model_path  # noqa: E402
from harness.encoding import encode  # noqa: E402
from harness.metrics import per_query, relevance_matrix  # noqa: E402

WEIGHTS = "model.safetensors"


def mixed_folder(parts: list[tuple[float, Path]], base: Path, scratch: Path, name: str) -> Path:
    """A copy of the first part's folder whose weights are base + sum(c x (part - base))."""
    from safetensors.torch import load_file, save_file

    b = load_file(base / WEIGHTS)
    loaded = [(c, load_file(p / WEIGHTS)) for c, p in parts]
    first = loaded[0][1]
    mixed = {}
    for key, value in first.items():
        if not value.is_floating_point() or key not in b:
            mixed[key] = value
            continue
        delta = sum(c * (w[key].float() - b[key].float()) for c, w in loaded)
        mixed[key] = (b[key].float() + delta).to(value.dtype)
    out = scratch / name
    shutil.copytree(parts[0][1], out)
    save_file(mixed, out / WEIGHTS, metadata={"format": "pt"})
    return out


def mrr_hit(scores: np.ndarray, doc_ids: list[str], query_ids: list[str], qrels: dict) -> tuple[float, float]:
    """MRR@10 and Hit@10 of a dense score matrix (queries x documents), ties broken by document order."""
    ranked = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    values = per_query(relevance_matrix(ranked, doc_ids, query_ids, qrels), [10])
    return float(values["mrr"][:, 0].mean()), float(values["hit"][:, 0].mean())


def training_query_keys(ds: Dataset, doc_ids: list[str]) -> tuple[list[str], np.ndarray]:
    """The train split's query texts whose relevant document is in the pool, and that document's column."""
    column = {d: i for i, d in enumerate(doc_ids)}
    texts, owners = [], []
    for qid, docs in sorted(ds.split("train").items()):
        for did, grade in sorted(docs.items()):
            if grade > 0 and did in column:
                texts.append(ds.queries[qid])
                owners.append(column[did])
    return texts, np.asarray(owners, dtype=np.int64)


def expanded_scores(q: np.ndarray, d: np.ndarray, keys: np.ndarray, owners: np.ndarray) -> dict[str, np.ndarray]:
    """Per document: the best key cosine ('max') and the cosine of the keys' mean ('centroid'), own cosine when none."""
    own = q @ d.T
    best = own.copy()
    seen = np.zeros(d.shape[0], dtype=bool)
    key_scores = q @ keys.T
    for j, col in enumerate(owners):
        best[:, col] = key_scores[:, j] if not seen[col] else np.maximum(best[:, col], key_scores[:, j])
        seen[col] = True
    sums = np.zeros_like(d)
    np.add.at(sums, owners, keys)
    centroid = d.copy()
    centroid[seen] = sums[seen] / np.linalg.norm(sums[seen], axis=1, keepdims=True)
    return {"own": own, "max": best, "centroid": q @ centroid.T}


def print_interpolations(score, base: Path, finetuned: Path, alphas: list[float], soup: list[str]) -> None:
    """MRR@10 / Hit@10 of base + a x (fine-tuned - base) for each a, then of the uniform soup of `soup`."""
    print("\nweight interpolation base + a x (fine-tuned - base)      MRR@10  Hit@10")
    with tempfile.TemporaryDirectory() as scratch:
        for a in alphas:
            folder = finetuned if a == 1.0 else mixed_folder([(a, finetuned)], base, Path(scratch), f"a{a}")
            m, h = score(folder)
            print(f"  a = {a:<5}{'':46}{m:.3f}   {h:.3f}")
        if soup:
            parts = [(1.0 / len(soup), resolve_model_path(f)) for f in soup]
            m, h = score(mixed_folder(parts, base, Path(scratch), "soup"))
            print(f"\nuniform soup of {len(parts)} fine-tuned folders{'':26}{m:.3f}   {h:.3f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="dataset folder (default: the prepared O*NET set)")
    p.add_argument("--pool", default=None, help="pool file (default: step 1's pool, else the whole corpus)")
    p.add_argument("--split", default="test")
    p.add_argument("--finetuned", required=True, help="fine-tuned model folder (from the shipped base model)")
    p.add_argument("--alphas", type=float, nargs="+", default=[0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.5])
    p.add_argument("--soup", nargs="*", default=[], help="fine-tuned folders averaged into one model")
    p.add_argument("--expansion-weights", type=float, nargs="+", default=[0.0, 0.3, 0.5, 0.7, 1.0])
    args = p.parse_args(argv)

    ds = open_dataset(args.data)
    docs = resolve_pool(args.pool, ds).docs
    doc_ids = sorted(docs)
    doc_texts = [document_text(docs[d]) for d in doc_ids]
    qrels = ds.relevant(args.split)
    query_ids = sorted(q for q in qrels if qrels[q] & set(docs))
    judged = ds.split(args.split)
    query_texts = [ds.queries[q] for q in query_ids]
    finetuned = resolve_model_path(args.finetuned)

    def embed(folder: Path, texts: list[str], kind: str) -> np.ndarray:
        return encode(load_embedder(folder), texts, kind)

    def score(folder: Path) -> tuple[float, float]:
        scores = embed(folder, query_texts, "query") @ embed(folder, doc_texts, "document").T
        return mrr_hit(scores, doc_ids, query_ids, judged)

    print(f"{len(query_ids)} {args.split} queries, {len(doc_ids)} documents")
    print_interpolations(score, resolve_model_path("base"), finetuned, args.alphas, args.soup)

    keys, owners = training_query_keys(ds, doc_ids)
    q = embed(finetuned, query_texts, "query")
    d = embed(finetuned, doc_texts, "document")
    # query-to-query similarity, as FAQ search matches a new question to answered ones
    s = expanded_scores(q, d, embed(finetuned, keys, "query"), owners)
    labelled = len(set(owners.tolist()))
    print(f"\ndocuments expanded with training queries ({len(keys)} queries on {labelled} of {len(doc_ids)} documents)")
    for w in args.expansion_weights:
        for kind in ("max", "centroid"):
            m, h = mrr_hit((1 - w) * s["own"] + w * s[kind], doc_ids, query_ids, judged)
            print(f"  (1 - {w}) x own + {w} x {kind:<8}{'':30}{m:.3f}   {h:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
