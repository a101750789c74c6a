#!/usr/bin/env python
"""Step 3's encoding with and without rows taken from other cache entries (printed, never asserted).

A convex arm fits its weight on a dev pool (every document that is not a training negative) before the test
queries search the whole corpus; with mined negatives on, the two lists differ, so without row reuse the
fine-tuned model encodes most documents twice. Step 0's corpus encode with the base model holds every row the
base arm needs. Both runs start from an empty cache folder: step 0's base-model corpus encode first (as a real
pipeline has it), then step 3 with base, fine-tuned, BM25 and the convex hybrid. Printed per run: documents the
models encoded in step 3, its seconds, and whether the two runs' per-query results agree exactly.

    python benchmarks/bench_row_reuse.py --data data/manpages --finetuned runs/finetuned/final [--pool FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/manpages")
    ap.add_argument("--finetuned", default="runs/finetuned/final")
    ap.add_argument(
        "--pool", default=None, help="a step-1 pool file (default: the whole corpus, as step 3 without one)"
    )
    args = ap.parse_args()

    from corpus.beir import document_text
    from corpus.datasets import open_dataset, resolve_pool
    from corpus.models import load_embedder
    from harness.arms import parse_arms
    from harness.embedding_cache import EmbeddingCache
    from harness.encoding import encode
    from harness.evaluate import EvalConfig, evaluate

    class WithoutReuse(EmbeddingCache):
        def stored_rows(self, group, digests, dim):
            return np.zeros((len(digests), dim), dtype=np.float32), np.zeros(len(digests), dtype=bool)

    ds = open_dataset(args.data)
    pool = resolve_pool(args.pool, ds).docs
    arms = parse_arms(["base", f"finetuned={args.finetuned}", "bm25", "hybrid=bm25+finetuned:convex"], None)
    cfg = EvalConfig(data=args.data, bootstrap=1000)
    corpus_texts = [document_text(d) for d in ds.corpus.values()]
    base = load_embedder("base")
    results = {}
    for label, kind in (("without row reuse", WithoutReuse), ("with row reuse", EmbeddingCache)):
        with tempfile.TemporaryDirectory() as folder:
            encode(base, corpus_texts, "document", kind(Path(folder) / "embeddings"))  # step 0's encode
            cache = kind(Path(folder) / "embeddings")
            with _counting_documents() as encoded:
                start = time.perf_counter()
                result = evaluate(ds, [(len(pool), pool)], arms, cfg, cache=cache)
                seconds = time.perf_counter() - start
            results[label] = (seconds, encoded[0], cache.reused_rows, result)
    print(f"\nstep 3 on {args.data}: {len(pool):,} documents, {len(result.query_ids):,} test queries, arms "
          f"{', '.join(a.name for a in arms)}")  # fmt: skip
    print(f"{'':>20} {'documents encoded':>18} {'rows reused':>12} {'seconds':>8}")
    for label, (seconds, encoded_n, reused, _) in results.items():
        print(f"{label:>20} {encoded_n:>18,} {reused:>12,} {seconds:>8.1f}")
    a, b = (r[3] for r in results.values())
    same = all(
        np.array_equal(x.ranked, y.ranked)
        for pa, pb in zip(a.pools, b.pools, strict=True)
        for x, y in zip(pa.arms, pb.arms, strict=True)
    )
    print(f"rankings identical: {same}")


@contextmanager
def _counting_documents():
    """[n]: the document texts sent to any model's encode inside the block."""
    from corpus.models import Embedder

    seen = [0]
    real = Embedder.encode

    def counting(self, texts, kind, *args, **kwargs):
        if kind == "document":
            seen[0] += len(texts)
        return real(self, texts, kind, *args, **kwargs)

    Embedder.encode = counting
    try:
        yield seen
    finally:
        Embedder.encode = real


if __name__ == "__main__":
    main()
