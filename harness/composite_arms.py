"""Arms built from other arms' runs: hybrids (two runs fused) and reranked runs (a cross-encoder over a run's head).

They are scored exactly like the dense and BM25 arms (same queries, pools, depth and metrics), so the paired
comparison treats them alike. Their latency is what a RAG system pays per question: the parts' single-query
latencies on the same seeded sample of queries, plus the fusion (per query, from one batched fusion) or the
reranking of that query. Their training minutes are those of every trained model behind them.

A convex weight is chosen once, on the dev split, over a dev pool like bench_arms': every document of the dataset
that is not a training negative (dev-relevant ones always kept); never on the test queries it is judged by. A
dataset without a dev split (many public BEIR sets ship only train and test) uses the dev set step 0 carved from its
training queries, which were held out of training for exactly this.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from corpus.beir import Dataset, document_text
from corpus.console import console
from corpus.errors import RagtuneError
from harness.evaluate import ArmRun, EvalConfig, Setting, _score, evaluate, training_minutes
from harness.fusion import FusionConfig, WeightChoice, choose_weight, convex_fusion, reciprocal_rank_fusion

DEV_SPLIT = "dev"


def _latency_rows(cfg: EvalConfig, n_queries: int) -> np.ndarray:
    """The query rows harness.evaluate._latency times, in its order (same seed, same sample)."""
    return np.random.default_rng(cfg.seed).permutation(n_queries)[: max(cfg.latency_queries, 0)]


def dev_pool(ds: Dataset) -> dict:
    from corpus.paths import triplets_dir
    from corpus.triplets import training_negative_ids

    excluded = training_negative_ids(triplets_dir(ds.path))
    relevant = {d for docs in ds.relevant(DEV_SPLIT).values() for d in docs}
    return {d: doc for d, doc in ds.corpus.items() if d not in excluded or d in relevant}


def with_dev_split(ds: Dataset) -> tuple[Dataset, str]:
    """ds with the qrels a weight is chosen on, and their name in notes: its own dev split ('dev'), else the
    training queries step 0 carved out as dev ('carved dev', graded as in qrels/train.tsv)."""
    from corpus.paths import triplets_dir
    from corpus.triplets import carved_dev_ids

    if ds.qrels.get(DEV_SPLIT):
        return ds, "dev"
    folder = triplets_dir(ds.path)
    train = ds.qrels.get("train", {})
    carved = {q: train[q] for q in carved_dev_ids(folder) if q in train}
    if not carved:
        raise RagtuneError(
            f"{ds.path}: convex fusion picks its weight on a dev split, and there is no qrels/dev.tsv nor a dev set "
            f"carved by step 0 in {folder} (add qrels/dev.tsv, run step 0 where there is a train split, or fuse by "
            "rank: NAME=a+b)"
        )
    return replace(ds, qrels={**ds.qrels, DEV_SPLIT: carved}), "carved dev"


def dev_weights(ds: Dataset, s: Setting) -> tuple[dict[str, WeightChoice], str]:
    """Per convex hybrid arm, its first part's weight chosen on the dev split (dense parts encoded on dev), and
    which dev that was (with_dev_split)."""
    cfg = s.cfg
    convex = [h for h in cfg.hybrids if h[3] == "convex"]
    if not convex:
        return {}, ""
    ds, dev_name = with_dev_split(ds)
    parts = {p for h in convex for p in h[1:3]}
    dev_cfg = replace(
        cfg,
        split=DEV_SPLIT,
        models=[m for m in cfg.models if m[0] in parts],
        bm25="bm25" in parts,
        hybrids=[],
        reranks=[],
        order=[],
        latency_queries=0,
        bootstrap_samples=100,
        sizes=[],
    )
    docs = dev_pool(ds)
    with console.status("convex fusion: the parts' runs on the dev split"):
        dev = evaluate(ds, [(len(docs), docs)], dev_cfg, cache=s.cache)
    runs = {r.name: r for r in dev.pools[0].arms}
    fusion = FusionConfig(method="convex", k=10)
    choices = {}
    for h in convex:
        choices[h[0]] = choose_weight((runs[h[1]], runs[h[2]]), dev.doc_ids, dev.query_ids, dev.qrels, fusion)
        c = choices[h[0]]
        console.print(
            f"[bold]{h[0]}[/]: convex weight {c.weight:.1f} on {h[1]}, {1 - c.weight:.1f} on {h[2]} "
            f"({dev_name} {c.metric} {c.score:.3f}, {len(dev.query_ids)} {dev_name} queries, {len(docs)} documents)"
        )
    return choices, dev_name


def _hybrid(
    spec: list[str], parts: list[ArmRun], s: Setting, choice: WeightChoice | None, dev_name: str = "dev"
) -> ArmRun:
    cfg = s.cfg
    t0 = time.perf_counter()
    if choice is None:
        fused = reciprocal_rank_fusion(parts, k=cfg.rrf_k, depth=cfg.depth)
        note = f"RRF k={cfg.rrf_k}"
    else:
        fused = convex_fusion(parts, (choice.weight, 1.0 - choice.weight), depth=cfg.depth)
        note = f"convex, weight {choice.weight:.1f} on {spec[1]} ({dev_name} {choice.metric} {choice.score:.3f})"
    fuse_ms = (time.perf_counter() - t0) * 1000.0 / max(len(s.query_ids), 1)
    run = _score(spec[0], "hybrid", fused.scores, fused.ranked, s)
    run.latency_ms = parts[0].latency_ms + parts[1].latency_ms + fuse_ms
    run.training_minutes = parts[0].training_minutes + parts[1].training_minutes
    run.note = note
    return run


def _reranked(spec: list[str], first: ArmRun, s: Setting, model, doc_texts: list[str]) -> ArmRun:
    from harness.rerank import RerankConfig, rerank

    out = rerank(first, s.query_texts, doc_texts, model.model, RerankConfig(depth=s.cfg.rerank_depth))
    run = _score(spec[0], "rerank", out.ranking.scores, out.ranking.ranked, s)
    timed = _latency_rows(s.cfg, len(s.query_ids))
    run.latency_ms = first.latency_ms + out.latency_ms[timed] if len(first.latency_ms) else out.latency_ms[timed]
    run.training_minutes = first.training_minutes + training_minutes(model.path)
    run.note = f"top {s.cfg.rerank_depth} of {spec[1]} reranked by {model.path}"
    return run


def composite_runs(ds: Dataset, s: Setting, runs_by_pool: list[list[ArmRun]]) -> None:
    """Append every hybrid, then every reranked arm, to each pool's runs (their parts must already be there)."""
    cfg = s.cfg
    weights, dev_name = dev_weights(ds, s)
    for runs in runs_by_pool:
        for spec in cfg.hybrids:
            by_name = {r.name: r for r in runs}
            parts = [by_name[spec[1]], by_name[spec[2]]]
            runs.append(_hybrid(spec, parts, s, weights.get(spec[0]), dev_name))
    if not cfg.reranks:
        return
    from corpus.models import load_reranker

    doc_texts = [document_text(s.union[d]) for d in s.doc_ids]
    for spec in cfg.reranks:
        model = load_reranker(spec[2])
        for i, runs in enumerate(runs_by_pool):
            by_name = {r.name: r for r in runs}
            with console.status(f"{spec[0]}: reranking the top {cfg.rerank_depth} of {spec[1]} (pool {i + 1})"):
                runs.append(_reranked(spec, by_name[spec[1]], s, model, doc_texts))
