#!/usr/bin/env python
"""Retrieval-harness speed figures (printed, never asserted: shared machines are noisy).

1. Cold encoding throughput of harness.encoding.encode vs a plain SentenceTransformer.encode on the same texts.
2. 10,000 documents × 1,000 queries, warm cache, end to end through harness.evaluate (model load, cache
   lookups, exact search, all metrics, 10,000-sample bootstrap and randomization test). The first run of this
   script fills the cache (minutes on 2 cores); the figure is the warm run after it.
3. Scaling to 100,000 documents: the 10k real document embeddings tiled 10× with small perturbations
   (encoding 100k texts on 2 CPU cores would take most of an hour and measures nothing new), searched
   exactly and approximately: time, peak memory (VmHWM), recall@10 of approximate vs exact.

    .venv/bin/python benchmarks/bench_retrieval.py [--docs 10000] [--queries 1000] [--scale 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads


def peak_reset() -> None:
    """Reset the kernel's peak-RSS mark so the next phase's peak is its own (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_dataset(n_docs: int, n_queries: int):
    """All O*NET documents plus outside distractors up to n_docs; n_queries queries from test, dev, train."""
    from corpus.beir import Dataset
    from corpus.datasets import open_dataset
    from corpus.pool import external_distractors
    from corpus.splits import stable_order

    ds = open_dataset(None)
    docs = dict(ds.corpus)
    for d in stable_order(external_distractors(), "bench", key=lambda d: d.id):
        if len(docs) >= n_docs:
            break
        docs.setdefault(d.id, d)
    qrels = {}
    for split in ("test", "dev", "train"):
        for q, rel in ds.qrels.get(split, {}).items():
            if len(qrels) < n_queries:
                qrels[q] = rel
    return Dataset(ds.path, ds.corpus, ds.queries, {"bench": qrels}), docs


def cold_ratio(model, texts: list[str]) -> None:
    import tempfile

    from harness.embedding_cache import EmbeddingCache
    from harness.encoding import encode

    model.model.encode(texts[:32], batch_size=32, show_progress_bar=False)  # thread pools and lazy init, for both
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ours = encode(model, texts, "document", EmbeddingCache(Path(tmp)), batch_size=64)
        t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain = model.model.encode(
        texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    t_plain = time.perf_counter() - t0
    assert np.allclose(ours, plain, atol=1e-4), "harness encoding differs from plain encode"
    print(
        f"[cold encode] {len(texts):,} texts: harness {len(texts) / t_ours:,.0f}/s, plain "
        f"SentenceTransformer.encode {len(texts) / t_plain:,.0f}/s, ratio {t_plain / t_ours:.2f} (>= 1 is as fast)"
    )


def warm_run(ds, docs, latency_queries: int) -> tuple[float, object]:
    from harness.arms import parse_arms
    from harness.evaluate import EvalConfig, evaluate

    cfg = EvalConfig(data=str(ds.path), split="bench", latency_queries=latency_queries)
    t0 = time.perf_counter()
    result = evaluate(ds, [(len(docs), docs)], parse_arms(["base", "again=base"]), cfg)
    return time.perf_counter() - t0, result


def scaling(doc_emb: np.ndarray, q_emb: np.ndarray, target: int, seed: int = 0) -> None:
    from harness.ann import IndexConfig, build_index, recall_vs_exact, search

    rng = np.random.default_rng(seed)
    reps = -(-target // len(doc_emb))
    big = np.concatenate(
        [doc_emb] + [doc_emb + rng.normal(scale=0.03, size=doc_emb.shape).astype(np.float32) for _ in range(reps - 1)]
    )[:target]
    big /= np.linalg.norm(big, axis=1, keepdims=True)
    print(
        f"[scaling] {len(big):,} documents × {len(q_emb):,} queries, dim {big.shape[1]} "
        f"(10k real embeddings + perturbed copies)"
    )
    exact_idx = None
    for cfg in (IndexConfig("exact"), IndexConfig("ivf", nprobe=16), IndexConfig("hnsw", ef_search=128)):
        peak_reset()
        base = peak_mib()
        t0 = time.perf_counter()
        index = build_index(big, cfg)
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        _, idx = search(index, q_emb, 100)
        t_search = time.perf_counter() - t0
        if exact_idx is None:
            exact_idx = idx
        recall = recall_vs_exact(idx, exact_idx, 10)
        print(
            f"  {cfg.kind:5s}: build {t_build:6.2f} s, search top-100 {t_search:6.2f} s "
            f"({t_search / len(q_emb) * 1000:.2f} ms/query), peak +{peak_mib() - base:,.0f} MiB over "
            f"{base:,.0f} MiB, recall@10 vs exact {recall:.3f}"
        )
        del index


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=int, default=10_000)
    p.add_argument("--queries", type=int, default=1_000)
    p.add_argument("--scale", type=int, default=100_000)
    p.add_argument("--cold-texts", type=int, default=1_000, help="texts for the cold throughput comparison")
    args = p.parse_args()
    import torch

    from corpus.beir import document_text
    from corpus.models import load_embedder

    print(
        f"machine: {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, load "
        f"{os.getloadavg()[0]:.1f} (other work on the machine slows every figure)"
    )
    ds, docs = bench_dataset(args.docs, args.queries)
    model = load_embedder("base")
    texts = [document_text(d) for d in docs.values()]
    cold_ratio(model, texts[len(texts) - args.cold_texts :])

    t_fill, _ = warm_run(ds, docs, 0)  # fills the cache on a first run (cold), nearly free afterwards
    print(f"[fill] first pass (cold or already warm): {t_fill:.1f} s")
    t_warm, result = warm_run(ds, docs, 0)
    pr = result.pools[0]
    print(
        f"[warm] {len(docs):,} docs × {len(result.query_ids):,} queries, 2 dense arms, all metrics, "
        f"10k bootstrap: {t_warm:.2f} s end to end (target < 10 s); cache hits {result.cache['hits']}"
    )
    t_lat, result_lat = warm_run(ds, docs, 100)
    lat = result_lat.pools[0].arms[0].latency_ms
    print(
        f"[warm + latency sample of 100 single queries per arm] {t_lat:.2f} s; single-query latency "
        f"p50 {np.percentile(lat, 50):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms"
    )
    hit10 = [r for r in pr.metric_rows if r["kind"] == "arm" and r["metric"] == "hit" and r["k"] == 10]
    print("  Hit@10: " + ", ".join(f"{r['arm']} {r['value']:.3f}" for r in hit10))

    from harness.embedding_cache import EmbeddingCache
    from harness.encoding import encode
    from harness.retrieval import Retriever

    retriever = Retriever(model, docs, cache=EmbeddingCache())
    q_emb = encode(model, list(result.query_texts), "query", EmbeddingCache())
    scaling(retriever.doc_emb, q_emb, args.scale)


if __name__ == "__main__":
    main()
