#!/usr/bin/env python
"""The arms table on one dataset: base, fine-tuned, BM25, hybrids and reranked arms (printed, never asserted).

Dense and BM25 runs come from harness.evaluate on the test pool; the convex weight is chosen on dev runs over a
dev pool (every document that is not a training negative), never on test. Reranking scores (query, document)
pairs one query at a time; --rerank-queries takes a seeded sample of the test queries when the CPU cannot afford
all of them, and the table then repeats every arm on that sample.

ms/query: a dense arm encodes one query and searches; BM25 searches; a hybrid pays both of its parts plus the
fusion; a reranked arm pays its first stage plus the cross-encoder over `--rerank-depth` pairs.

    python benchmarks/bench_arms.py --data data/onet --pool data/onet/corpus_800.jsonl \\
        --finetuned runs/finetuned/final --reranker runs/reranker/final [--rerank-queries 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads


@dataclass
class ArmFigures:
    name: str
    ranked: np.ndarray
    ms_per_query: float


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/onet")
    p.add_argument("--pool", default="data/onet/corpus_800.jsonl")
    p.add_argument("--finetuned", default="runs/finetuned/final")
    p.add_argument("--reranker", default="runs/reranker/final")
    p.add_argument("--rerank-depth", type=int, default=50)
    p.add_argument("--rerank-queries", type=int, default=0, help="seeded sample of test queries (0 = all)")
    p.add_argument("--latency-queries", type=int, default=20)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads (0 = torch's default); on a loaded "
        "machine 1 thread is far faster than 2 fighting for the cores",
    )
    return p.parse_args(argv)


def eval_runs(ds, docs, split, args, latency_queries, models):
    from harness.arms import parse_arms
    from harness.evaluate import EvalConfig, evaluate

    cfg = EvalConfig(
        data=str(ds.path),
        split=split,
        k=[10],
        depth=100,
        bootstrap=200,
        latency_queries=latency_queries,
        seed=args.seed,
    )
    arms = parse_arms([f"{name}={path}" for name, path in models] + ["bm25"])
    result = evaluate(ds, [(len(docs), docs)], arms, cfg)
    return result, {r.name: r for r in result.pools[0].arms}


def timed_fusion(fuse, n_queries):
    t0 = time.perf_counter()
    fused = fuse()
    return fused, (time.perf_counter() - t0) * 1000.0 / max(n_queries, 1)


def hybrid_arms(test, dev, dev_result, dense_names, test_n):
    from harness.fusion import choose_weight, convex_fusion, reciprocal_rank_fusion

    def ms(*names):
        return sum(float(np.mean(test[n].latency_ms)) for n in names)

    arms = []
    for dense in dense_names:
        fused, fuse_ms = timed_fusion(lambda d=dense: reciprocal_rank_fusion([test["bm25"], test[d]]), test_n)
        arms.append(ArmFigures(f"rrf(bm25+{dense})", fused.ranked, ms("bm25", dense) + fuse_ms))
    top = dense_names[-1]
    choice = choose_weight((dev["bm25"], dev[top]), dev_result.doc_ids, dev_result.query_ids, dev_result.qrels)
    w = choice.weight
    fused, fuse_ms = timed_fusion(lambda: convex_fusion([test["bm25"], test[top]], (w, 1 - w)), test_n)
    arms.append(ArmFigures(f"convex(bm25+{top}, w_bm25={w:.1f})", fused.ranked, ms("bm25", top) + fuse_ms))
    return arms, choice


def rerank_arms(result, test, docs, rows, args):
    from corpus.beir import document_text
    from corpus.models import load_reranker
    from harness.fusion import Ranking
    from harness.rerank import RerankConfig, rerank

    model = load_reranker(args.reranker)
    doc_texts = [document_text(docs[d]) for d in result.doc_ids]
    texts = [result.query_texts[i] for i in rows]
    arms = []
    for first in [name for name in ("base", "finetuned") if name in test]:
        run = test[first]
        sub = Ranking(run.scores[rows], run.ranked[rows])
        out = rerank(sub, texts, doc_texts, model, RerankConfig(depth=args.rerank_depth))
        ranked = np.full_like(run.ranked, -1)
        ranked[rows] = out.ranking.ranked
        arms.append(
            ArmFigures(
                f"rerank({first}, top {args.rerank_depth})", ranked, float(np.mean(run.latency_ms)) + out.ms_per_query
            )
        )
    return arms


def table(title, arms, result, rows):
    from rich.table import Table

    from harness.metrics import per_query, relevance_matrix

    qids = [result.query_ids[i] for i in rows]
    t = Table(title=title)
    for col in ("arm", "MRR@10", "nDCG@10", "Hit@10", "ms/query"):
        t.add_column(col, justify="left" if col == "arm" else "right")
    for arm in arms:
        values = per_query(relevance_matrix(arm.ranked[rows], result.doc_ids, qids, result.qrels), [10])
        t.add_row(
            arm.name, *(f"{values[m][:, 0].mean():.3f}" for m in ("mrr", "ndcg", "hit")), f"{arm.ms_per_query:.1f}"
        )
    return t


def main(argv=None):
    args = parse_args(argv)
    import torch

    from corpus.beir import load_dataset, read_corpus

    if args.threads:
        torch.set_num_threads(args.threads)
    from corpus.console import console

    ds = load_dataset(Path(args.data))
    docs = read_corpus(Path(args.pool))
    t0 = time.perf_counter()
    models = [["base", "base"]] + ([["finetuned", args.finetuned]] if Path(args.finetuned).exists() else [])
    result, test = eval_runs(ds, docs, "test", args, args.latency_queries, models)
    # only the convex pair's parts are needed on dev: each new pool is a full encoding per model
    from harness.convex_weights import dev_pool

    dev_result, dev = eval_runs(ds, dev_pool(ds), "dev", args, 0, models[-1:])
    n = len(result.query_ids)
    dense_names = [name for name, _ in models]
    arms = [
        ArmFigures(name, test[name].ranked, float(np.mean(test[name].latency_ms))) for name in [*dense_names, "bm25"]
    ]
    hybrids, choice = hybrid_arms(test, dev, dev_result, dense_names, n)
    arms += hybrids
    console.print(
        f"convex weight chosen on dev ({len(dev_result.query_ids)} queries, {choice.metric}): "
        + ", ".join(f"{p.weight:.1f}:{p.score:.3f}" for p in choice.grid)
    )
    console.print(table(f"{ds.path.name} test, {n} queries, {len(docs)}-document pool", arms, result, range(n)))
    if (Path(args.reranker) / "training_card.json").exists():
        rng = np.random.default_rng(args.seed)
        rows = np.sort(rng.permutation(n)[: args.rerank_queries]) if args.rerank_queries else np.arange(n)
        t1 = time.perf_counter()
        reranked = rerank_arms(result, test, docs, rows, args)
        seconds = time.perf_counter() - t1
        console.print(f"reranking: {seconds:.0f} s for {len(reranked) * len(rows)} query rankings")
        console.print(
            table(
                f"{ds.path.name} test, the {len(rows)} reranked queries (seeded sample)", arms + reranked, result, rows
            )
        )
    console.print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
