#!/usr/bin/env python
"""Vector stores side by side, and Ray vs local encoding (printed, never asserted: shared machines are noisy).

1. For each size (default 100,000; add 1,000,000 with --sizes): synthetic clustered unit vectors (384-d,
   n/100 cluster centres plus noise: closer to real embeddings than uniform noise, on which HNSW looks worse than
   it is), indexed by FAISS exact, FAISS HNSW and pgvector HNSW on the embedded PostgreSQL (same m,
   ef_construction, ef_search for both HNSWs). For each: ingest + build time, recall@10 against exact, single-query
   latency p50/p95 over --queries queries, and memory (FAISS: serialised index) or disk (table + index).
2. Ray Data vs harness.encoding.encode on the same real texts (ESCO skills and Wikipedia leads from the registry
   packages): texts/s, Ray with and without its start-up, and the largest cosine gap between the two.

    .venv/bin/python benchmarks/bench_store.py [--sizes 100000 1000000] [--queries 1000] [--texts 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads


def clustered(rng, n: int, dim: int, centres: np.ndarray) -> np.ndarray:
    # noise 0.5 per unit-variance centre: two members of a cluster have cosine ~0.8, like close real neighbours
    x = centres[rng.integers(0, len(centres), n)] + rng.normal(scale=0.5, size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def latencies(search_one, queries: np.ndarray, k: int) -> tuple[np.ndarray, float, float]:
    """Top-k rows of every query, searched one at a time as a service would, and p50/p95 in ms."""
    rows, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        rows.append(search_one(q[None, :], k)[1][0])
        times.append((time.perf_counter() - t0) * 1000)
    return np.stack(rows), float(np.percentile(times, 50)), float(np.percentile(times, 95))


def bench_faiss(x, q, exact_rows, kind, args):
    import faiss

    from harness.ann import IndexConfig, recall_vs_exact
    from harness.stores.memory import FaissStore

    cfg = IndexConfig(kind, hnsw_m=args.hnsw_m, ef_construction=args.ef_construction, ef_search=args.ef_search)
    t0 = time.perf_counter()
    store = FaissStore(x, cfg)
    build = time.perf_counter() - t0
    # one thread per query, like one PostgreSQL backend per query: OpenMP's thread hand-off on a loaded 2-core
    # machine otherwise dominates a single-query search (exact at 100k: p50 108 ms on 2 threads, 31 ms on one)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        rows, p50, p95 = latencies(store.search, q, 10)
    finally:
        faiss.omp_set_num_threads(threads)
    recall = recall_vs_exact(rows, exact_rows, 10) if exact_rows is not None else 1.0
    size = len(faiss.serialize_index(store.index)) / 2**20
    return (f"FAISS {kind}", build, recall, p50, p95, f"{size:,.0f} MiB RAM"), rows


def bench_pgvector(x, q, exact_rows, args, pg_dir: Path):
    from harness.ann import recall_vs_exact
    from harness.stores import StoreKey, open_store
    from harness.stores.pgvector import PgvectorConfig

    cfg = PgvectorConfig(
        hnsw_m=args.hnsw_m,
        ef_construction=args.ef_construction,
        ef_search=args.ef_search,
        batch_rows=10_000,
        maintenance_work_mem=args.maintenance_work_mem,
    )
    ids = [str(i) for i in range(len(x))]
    texts = [f"synthetic document {i}" for i in range(len(x))]
    with open_store("local", pgvector=cfg, postgres_dir=pg_dir) as backend:
        store = backend.store(StoreKey("synthetic", f"bench-{len(x)}-{args.seed}", x.shape[1]))
        t0 = time.perf_counter()
        report = store.ingest(ids, texts, lambda part: x[int(part[0].rsplit(" ", 1)[1]) :][: len(part)])
        build = time.perf_counter() - t0
        rows, p50, p95 = latencies(store.search, q, 10)
        sizes = backend.conn.execute(
            "SELECT pg_table_size(%s), pg_relation_size(%s)", (store.table, store.index_name)
        ).fetchone()
    assert report.rows_added == len(x)
    rate = len(x) / report.copy_seconds
    print(
        f"[{len(x):,} vectors] pgvector: COPY {report.copy_seconds:.1f} s ({rate:,.0f} rows/s), "
        f"HNSW build {report.index_seconds:.1f} s",
        flush=True,
    )
    disk = f"{sizes[0] / 2**20:,.0f}+{sizes[1] / 2**20:,.0f} MiB disk (table+index)"
    return ("pgvector HNSW", build, recall_vs_exact(rows, exact_rows, 10), p50, p95, disk)


def bench_size(n: int, args, pg_dir: Path) -> list[tuple]:
    rng = np.random.default_rng(args.seed)
    centres = rng.normal(size=(max(1, n // 100), args.dim)).astype(np.float32)
    x, q = clustered(rng, n, args.dim, centres), clustered(rng, args.queries, args.dim, centres)
    out = []
    top1 = float(np.mean(np.max(q[:100] @ x.T, axis=1)))
    print(f"[{n:,} vectors] mean top-1 cosine of a query: {top1:.2f}", flush=True)
    exact, exact_rows = bench_faiss(x, q, None, "exact", args)
    out.append(exact)
    out.append(bench_faiss(x, q, exact_rows, "hnsw", args)[0])
    out.append(bench_pgvector(x, q, exact_rows, args, pg_dir))
    return [(n, *row) for row in out]


def bench_encoders(n_texts: int) -> None:
    from corpus.beir import document_text
    from corpus.models import load_embedder
    from corpus.pool import external_distractors
    from corpus.splits import stable_order
    from harness.encoding import encode
    from harness.ray_encoding import RayConfig, RaySession, encode_with_ray

    docs = stable_order(external_distractors(), "bench-store", key=lambda d: d.id)[:n_texts]
    texts = [document_text(d) for d in docs]
    model = load_embedder("base", device="cpu")
    model.encode(texts[:32], "document")  # lazy init outside the timing
    t0 = time.perf_counter()
    local = encode(model, texts, "document")
    t_local = time.perf_counter() - t0
    t0 = time.perf_counter()
    with RaySession("local"):
        t_start = time.perf_counter() - t0
        ray_first = encode_with_ray(model, texts, "document", config=RayConfig())
        t_first = time.perf_counter() - t0
        t1 = time.perf_counter()
        encode_with_ray(model, texts, "document", config=RayConfig())
        t_warm = time.perf_counter() - t1
    gap = float(np.abs((local * ray_first).sum(axis=1) - 1).max())
    print(f"\n[encode] {len(texts):,} real texts (ESCO skills, Wikipedia leads), MiniLM, CPU:")
    print(f"  local harness.encoding.encode : {len(texts) / t_local:7.1f} texts/s ({t_local:.1f} s)")
    print(f"  Ray, incl. start ({t_start:.1f} s) : {len(texts) / t_first:7.1f} texts/s ({t_first:.1f} s)")
    print(
        f"  Ray, cluster already up      : {len(texts) / t_warm:7.1f} texts/s ({t_warm:.1f} s; actors load the "
        f"model per call)"
    )
    print(f"  Ray/local time ratio (warm)  : {t_warm / t_local:.2f}; max |1 - cosine| = {gap:.1e}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    p.add_argument("--queries", type=int, default=1_000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--texts", type=int, default=2_000, help="real texts for Ray vs local encoding (0 = skip)")
    p.add_argument("--hnsw-m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=64)
    p.add_argument("--ef-search", type=int, default=100)
    p.add_argument("--maintenance-work-mem", default="2GB", help="PostgreSQL memory for the HNSW build")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    import torch

    print(
        f"machine: {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, load average "
        f"{os.getloadavg()[0]:.1f} at start (other work on the machine slows every figure)"
    )
    print(
        f"HNSW m={args.hnsw_m} ef_construction={args.ef_construction} ef_search={args.ef_search}, "
        f"{args.queries:,} queries one at a time, top-10"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_store_") as tmp:
        for n in args.sizes:
            rows += bench_size(n, args, Path(tmp) / "postgres")
            print_table(rows)
    if args.texts:
        bench_encoders(args.texts)


def print_table(rows: list[tuple]) -> None:
    print("\n| vectors | engine | ingest + build s | recall@10 vs exact | p50 ms | p95 ms | memory / disk |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for n, engine, build, recall, p50, p95, size in rows:
        print(f"| {n:,} | {engine} | {build:.1f} | {recall:.3f} | {p50:.2f} | {p95:.2f} | {size} |", flush=True)


if __name__ == "__main__":
    main()
