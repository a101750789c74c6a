#!/usr/bin/env python
"""Step 3: does the fine-tuned embedder retrieve better than the base one? Hit@k, P@k, Recall@k, MRR@k,
nDCG@k and MAP@k per arm, paired deltas with bootstrap CIs and randomization p-values, reports under reports/."""

from __future__ import annotations

import corpus  # noqa: F401  (offline before anything loads a model)
from corpus.cli import ArgumentParser, exit_with

DEFAULT_POOL_SIZE = 800


def parse_args(argv):
    from harness.ann import KINDS, IndexConfig
    from harness.evaluate import EvalConfig

    d, ix = EvalConfig(models=[["base", "base"]]), IndexConfig()
    p = ArgumentParser(description=__doc__)
    p.add_argument("--data", help="BEIR folder or flat file (default: the prepared O*NET set)")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--corpus",
        help="candidate pool from 1_build_corpus.py (default: <data>/corpus_800.jsonl "
        "for the default dataset when it exists, else the whole corpus)",
    )
    where.add_argument("--sizes", help="comma-separated pool sizes built on the fly, e.g. 800,3000,10000")
    p.add_argument("--split", default=d.split)
    p.add_argument(
        "--models",
        nargs="+",
        metavar="NAME=PATH",
        help="arms in comparison order (default: base=base finetuned=runs/finetuned/final)",
    )
    p.add_argument("--bm25", action="store_true", help="add a lexical BM25 arm")
    p.add_argument("--k", default=",".join(map(str, d.ks)), help="cut-offs (default %(default)s)")
    p.add_argument(
        "--depth", type=int, default=d.depth, help="ranks kept per query for TREC runs (default %(default)s)"
    )
    p.add_argument("--index", choices=KINDS, default=ix.kind, help="search: exact (default), ivf or hnsw")
    p.add_argument("--nprobe", type=int, default=ix.nprobe, help="IVF cells visited per query")
    p.add_argument("--ef-search", type=int, default=ix.ef_search, help="HNSW candidate list at query time")
    p.add_argument("--bootstrap", type=int, default=d.bootstrap_samples, help="bootstrap / randomization samples")
    p.add_argument("--confidence", type=float, default=d.confidence)
    p.add_argument("--fix-k", type=int, default=d.fix_k, help="cut-off for fixed/regressed counts (Hit@k)")
    p.add_argument(
        "--latency-queries", type=int, default=d.latency_queries, help="queries timed one by one for latency (0 = skip)"
    )
    p.add_argument("--no-external", action="store_true", help="--sizes: only the dataset's own distractors")
    p.add_argument("--triplets", help="--sizes: triplets folder whose negatives are excluded (default <data>/triplets)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument(
        "--ignore-identical-ids",
        action="store_true",
        help="drop a retrieved document whose id is the query's id, as BEIR's evaluator does (ArguAna, "
        "Quora, CQADupStack)",
    )
    p.add_argument("--recompute", action="store_true", help="ignore cached embeddings and encode again")
    p.add_argument("--out", help="report folder (default: reports/)")
    args = p.parse_args(argv)
    try:
        args.ks = [int(k) for k in args.k.split(",") if k.strip()]
        args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()] if args.sizes else []
    except ValueError:
        p.error("--k and --sizes take comma-separated integers")
    if any(k < 1 for k in args.ks) or any(s < 1 for s in args.size_list) or not args.ks:
        p.error("--k and --sizes values must be positive")
    if args.bootstrap < 100 or not 0.5 <= args.confidence < 1:
        p.error("--bootstrap must be >= 100 and --confidence in [0.5, 1)")
    return args


def model_specs(given: list[str] | None) -> list[list[str]]:
    """NAME=PATH pairs; by default base plus the fine-tuned model when script 2 has produced it."""
    from corpus.console import console
    from corpus.errors import RagtuneError
    from corpus.models import resolve_model_path
    from corpus.paths import DEFAULT_FINETUNED, ROOT

    if given is None:
        specs = [["base", "base"]]
        if DEFAULT_FINETUNED.exists():
            specs.append(["finetuned", str(DEFAULT_FINETUNED)])
        else:
            console.print(
                f"[yellow]note:[/] no fine-tuned model at {DEFAULT_FINETUNED.relative_to(ROOT)} "
                f"(run 2_train_embedder.py): evaluating the base model only"
            )
        return specs
    specs = []
    for item in given:
        name, sep, path = item.partition("=")
        if not sep:
            name, path = (item, item) if item == "base" else (item.rstrip("/").split("/")[-1], item)
        if not name or not path:
            raise RagtuneError(f"--models: '{item}' must be NAME=PATH")
        resolve_model_path(path)  # a missing folder fails now, before any other model loads
        specs.append([name, path])
    return specs


def load_pools(args, ds):
    from pathlib import Path

    from corpus.beir import read_corpus
    from corpus.console import console
    from corpus.paths import DEFAULT_DATASET, default_pool_file, triplets_dir

    if args.size_list:
        from corpus.pool import PoolConfig, build_pool, external_distractors
        from corpus.triplets import training_negative_ids

        excluded = training_negative_ids(Path(args.triplets) if args.triplets else triplets_dir(ds.path))
        extra = [] if args.no_external else [("external", external_distractors)]
        pools = []
        with console.status("building candidate pools"):
            for size in sorted(set(args.size_list)):
                pool, _ = build_pool(ds, PoolConfig(size, args.split, args.seed), excluded, extra)
                pools.append((size, {d.id: d for _, d in pool}))
        return pools, ""
    if args.corpus:
        path = Path(args.corpus)
    elif args.data is None and default_pool_file(DEFAULT_DATASET, DEFAULT_POOL_SIZE).exists():
        path = default_pool_file(DEFAULT_DATASET, DEFAULT_POOL_SIZE)
    else:
        if args.data is None:
            console.print(
                f"[yellow]note:[/] no {DEFAULT_POOL_SIZE}-document pool (run 1_build_corpus.py): "
                f"evaluating over the whole corpus"
            )
        return [(len(ds.corpus), ds.corpus)], ""
    docs = read_corpus(path)
    return [(len(docs), docs)], str(path)


def main(argv=None):
    args = parse_args(argv)
    from pathlib import Path

    from corpus.console import console
    from corpus.datasets import open_dataset
    from corpus.paths import REPORTS_DIR
    from harness.ann import IndexConfig
    from harness.evaluate import EvalConfig, evaluate
    from harness.reports import results_table, write_reports

    specs = model_specs(args.models)
    ds = open_dataset(args.data)
    pools, corpus_file = load_pools(args, ds)
    out = Path(args.out) if args.out else REPORTS_DIR
    cfg = EvalConfig(
        data=str(ds.path),
        corpus=corpus_file,
        split=args.split,
        models=specs,
        bm25=args.bm25,
        ks=args.ks,
        depth=args.depth,
        index=IndexConfig(args.index, nprobe=args.nprobe, ef_search=args.ef_search, seed=args.seed),
        batch_size=args.batch_size,
        recompute=args.recompute,
        bootstrap_samples=args.bootstrap,
        confidence=args.confidence,
        seed=args.seed,
        fix_k=args.fix_k,
        latency_queries=args.latency_queries,
        sizes=args.size_list,
        external=not args.no_external,
        ignore_identical_ids=args.ignore_identical_ids,
        out=str(out),
    )
    result = evaluate(ds, pools, cfg)
    with console.status("writing reports"):
        written = write_reports(result, out)
    for pr in result.pools:
        console.print(results_table(result, pr))
    console.print(f"[green]reports written to[/] {out}: " + ", ".join(p.name for p in written.values()))


if __name__ == "__main__":
    exit_with(main)
