#!/usr/bin/env python
"""How far a convex fusion of step 3's runs could go at best: an upper bound, never an arm's figure.

Reads the run folder step 3 writes (`<out>/runs`: one `NAME.trec` per arm and `qrels.<split>.txt`), then scores
every convex weighting of the named runs on a grid (weights of all but the last run from --grid; the last run
weighs 1) on the very queries the qrels judge. Fitting weights to the figures they are judged by flatters, so
this answers only "could any fixed weighting of these runs reach X?": if the best grid point falls short, no
dev-picked weight will reach it either.

A run given as NAME:DEPTH keeps only its top DEPTH documents before normalising: for a reranked run that is the
reranked head (`rerank_ft:20`), fused with its first stage = interpolating reranker and first-stage scores.

    python benchmarks/bench_fusion_ceiling.py reports/arms_onet/runs base bm25 finetuned
    python benchmarks/bench_fusion_ceiling.py reports/arms_rerank/runs rerank_ft:20 finetuned
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads

from harness.fusion import Ranking, convex_fusion  # noqa: E402
from harness.metrics import per_query, relevance_matrix  # noqa: E402


def read_trec(path: Path, query_ids: list[str], doc_row: dict[str, int], depth: int | None) -> Ranking:
    """A TREC run as rows of document indices in rank order (`qid Q0 docid rank score tag`), -1 padded."""
    per_query_docs: dict[str, list[tuple[int, float]]] = {q: [] for q in query_ids}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        qid, _, did, rank, score, _ = line.split()
        if qid in per_query_docs:
            per_query_docs[qid].append((int(rank), doc_row.setdefault(did, len(doc_row)), float(score)))
    width = max((len(v) for v in per_query_docs.values()), default=1)
    if depth:
        width = min(width, depth)
    scores = np.full((len(query_ids), width), np.nan, dtype=np.float32)
    ranked = np.full((len(query_ids), width), -1, dtype=np.int64)
    for i, q in enumerate(query_ids):
        top = sorted(per_query_docs[q])[:width]
        ranked[i, : len(top)] = [d for _, d, _ in top]
        scores[i, : len(top)] = [s for _, _, s in top]
    return Ranking(scores, ranked)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs_dir", type=Path, help="step 3's <out>/runs folder")
    p.add_argument("runs", nargs="+", help="run names (NAME or NAME:DEPTH), two or three")
    p.add_argument("--split", default="test")
    p.add_argument("--grid", type=float, nargs="+", default=[round(0.1 * i, 1) for i in range(11)])
    p.add_argument("--k", type=int, default=10, help="MRR cut-off")
    p.add_argument("--show", type=int, default=5, help="best grid points printed")
    args = p.parse_args(argv)

    qrels: dict[str, dict[str, int]] = {}
    for line in (args.runs_dir / f"qrels.{args.split}.txt").read_text(encoding="utf-8").splitlines():
        q, _, d, g = line.split()
        qrels.setdefault(q, {})[d] = int(g)
    query_ids = sorted(qrels)
    doc_row: dict[str, int] = {}
    runs = []
    for spec in args.runs:
        name, _, depth = spec.partition(":")
        runs.append(read_trec(args.runs_dir / f"{name}.trec", query_ids, doc_row, int(depth) if depth else None))
    doc_ids = [d for d, _ in sorted(doc_row.items(), key=lambda kv: kv[1])]

    def mrr(run: Ranking) -> float:
        judged = relevance_matrix(run.ranked, doc_ids, query_ids, qrels)
        return float(per_query(judged, [args.k])["mrr"][:, 0].mean())

    for spec, run in zip(args.runs, runs):
        print(f"{spec:>24}  MRR@{args.k} {mrr(run):.4f}")
    points = []
    for head in itertools.product(args.grid, repeat=len(runs) - 1):
        weights = (*head, 1.0)
        points.append((mrr(convex_fusion(runs, weights)), weights))
    points.sort(key=lambda t: -t[0])
    print(f"best convex weightings of {' + '.join(args.runs)} on {len(query_ids)} {args.split} queries (upper bound):")
    for score, weights in points[: args.show]:
        print(f"  MRR@{args.k} {score:.4f}  weights {', '.join(f'{w:.1f}' for w in weights)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
