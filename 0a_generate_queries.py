#!/usr/bin/env python
"""Step 0a (own documents only): turn documents without queries into a BEIR dataset with LLM-written queries.

Then run the usual steps on it: 0_build_triplets.py --data DIR, 1_build_corpus.py --data DIR, and so on.
"""

from __future__ import annotations

import corpus  # noqa: F401  (offline before anything loads a model)
from corpus.cli import ArgumentParser, exit_with
from rag.llm_session import add_endpoint_arguments, check_endpoint_arguments


def parse_args(argv):
    from corpus.documents import SplitterConfig
    from rag.query_filters import FilterConfig
    from rag.query_generation import GenerationConfig

    s, f, g = SplitterConfig(), FilterConfig(), GenerationConfig()
    p = ArgumentParser(description=__doc__)
    a = p.add_argument_group("documents")
    a.add_argument(
        "--from-docs",
        required=True,
        metavar="PATH",
        help="folder of .txt/.md files, a CSV or JSONL file, or a BEIR corpus.jsonl",
    )
    a.add_argument(
        "--data", help="output dataset folder (default: data/<name of PATH>, data/<name>_generated for a BEIR corpus)"
    )
    a.add_argument("--text-column", default="text", help="CSV/JSONL: column with the text (default: text)")
    a.add_argument("--title-column", help="CSV/JSONL: column with a title (default: 'title' if present)")
    a.add_argument(
        "--id-column",
        help="CSV/JSONL: column with a document id (default: '_id' or 'id' if present, else the line number)",
    )
    a.add_argument("--chunk-size", type=int, default=s.chunk_size, help="passage length in characters")
    a.add_argument("--chunk-overlap", type=int, default=s.chunk_overlap, help="characters shared by neighbours")
    a.add_argument("--max-docs", type=int, help="only the first N documents, for a quick look")
    q = p.add_argument_group("queries")
    q.add_argument("--queries-per-passage", "-n", type=int, default=g.queries_per_passage)
    q.add_argument(
        "--query-prompt",
        metavar="FILE",
        help="prompt template with {passage} and {n} (optional {title}, {hint}); default: built-in",
    )
    q.add_argument("--domain-hint", help="one line of style for the domain, e.g. example queries of your users")
    q.add_argument(
        "--max-per-doc",
        type=int,
        default=f.max_per_doc,
        help=f"queries kept per source document (default: {f.max_per_doc}; 0 = no cap)",
    )
    q.add_argument("--min-words", type=int, default=f.min_words)
    q.add_argument("--max-words", type=int, default=f.max_words)
    q.add_argument(
        "--copy-ngram",
        type=int,
        default=f.copy_ngram,
        help="drop a query sharing this many consecutive words with its passage",
    )
    q.add_argument(
        "--near-duplicate",
        type=float,
        default=f.near_duplicate_cosine,
        help="drop a query this similar (cosine) to another of the same document",
    )
    q.add_argument(
        "--round-trip-k",
        type=int,
        default=f.round_trip_k,
        help="keep a query only if the base embedder ranks its passage in this top-k (0 = off)",
    )
    q.add_argument("--embedder", default="base", help="embedder for those two checks (default: shipped MiniLM)")
    q.add_argument("--dev-share", type=float, default=g.dev_share, help="share of documents for dev")
    q.add_argument("--test-share", type=float, default=g.test_share, help="share of documents for test")
    q.add_argument("--seed", type=int, default=g.seed)
    m = add_endpoint_arguments(p, ctx=2048)
    m.add_argument("--max-tokens", type=int, default=g.max_tokens, help="reply length cap per passage")
    m.add_argument("--temperature", type=float, default=g.temperature)
    m.add_argument("--workers", type=int, default=g.workers, help="requests in flight at once")
    m.add_argument("--recompute", action="store_true", help="ask the LLM again even for cached replies")
    args = p.parse_args(argv)
    if args.max_docs is not None and args.max_docs < 1:
        p.error("--max-docs must be positive")
    check_endpoint_arguments(p, args)
    if args.workers < 1 or args.max_tokens < 8:
        p.error("--workers must be positive and --max-tokens at least 8")
    if min(args.max_per_doc, args.round_trip_k, args.min_words) < 0 or args.max_words < max(args.min_words, 1):
        p.error("--max-per-doc, --round-trip-k and --min-words must be ≥ 0, --max-words ≥ --min-words")
    return args


def default_out(source):
    from pathlib import Path

    from corpus.paths import DATA_DIR

    source = Path(source)
    if source.name == "corpus.jsonl" or (source / "corpus.jsonl").is_file():
        # the folder around a BEIR corpus is that dataset itself: never write into it
        folder = source.parent if source.name == "corpus.jsonl" else source
        return DATA_DIR / f"{folder.resolve().name}_generated"
    return DATA_DIR / (source.stem if source.is_file() else source.resolve().name)


def main(argv=None):
    args = parse_args(argv)
    from contextlib import ExitStack
    from dataclasses import asdict
    from pathlib import Path

    from rich.table import Table

    from corpus.console import console
    from corpus.documents import Columns, SplitterConfig, read_documents, split_passages
    from corpus.models import load_embedder
    from harness.embedding_cache import EmbeddingCache
    from rag.answer_cache import AnswerCache
    from rag.llm_client import endpoint_from_args
    from rag.llm_session import LocalOptions, open_llm
    from rag.query_filters import FILTERS, FilterConfig
    from rag.query_generation import GenerationConfig, check_output_folder, generate_dataset, load_prompt, previous_card

    # everything a user can get wrong fails here, before a model loads
    prompt = load_prompt(args.query_prompt, args.domain_hint)
    columns = Columns(args.text_column, args.title_column, args.id_column)
    splitter = SplitterConfig(args.chunk_size, args.chunk_overlap)
    out = Path(args.data) if args.data else default_out(args.from_docs)
    check_output_folder(out)
    before = previous_card(out).get("fingerprint")
    docs, summary = read_documents(args.from_docs, columns, args.max_docs)
    passages = split_passages(docs, splitter)
    cfg = GenerationConfig(
        source=str(args.from_docs),
        out=str(out),
        columns=asdict(columns),
        splitter=splitter,
        queries_per_passage=args.queries_per_passage,
        max_docs=args.max_docs,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        workers=args.workers,
        filters=FilterConfig(
            args.min_words,
            args.max_words,
            args.copy_ngram,
            args.near_duplicate,
            args.round_trip_k,
            args.max_per_doc or None,
        ),
        embedder=args.embedder,
        dev_share=args.dev_share,
        test_share=args.test_share,
        seed=args.seed,
        prompt=prompt.source,
        prompt_sha256=prompt.sha256,
        cache_policy="recompute" if args.recompute else "reuse",
    )
    endpoint = endpoint_from_args(
        args.llm_base_url, args.llm_model, args.llm_api_key_env, timeout_s=args.timeout, max_retries=args.retries
    )
    embedder = load_embedder(args.embedder)
    console.print(
        f"{summary.documents} documents ({summary.format}) → {len(passages)} passages of ≤ "
        f"{splitter.chunk_size} characters; {args.queries_per_passage} queries each"
    )
    answer_cache = AnswerCache(policy=cfg.cache_policy)
    with ExitStack() as stack:
        llm, cfg.llm = open_llm(
            stack,
            endpoint,
            LocalOptions(args.local_model, args.threads, args.ctx, args.workers),
            answer_cache,
            args.timeout,
            args.retries,
        )
        ds, card = generate_dataset(llm, prompt, passages, summary, embedder, cfg, EmbeddingCache())

    t = Table(title=f"queries from {summary.documents} documents ({cfg.llm.get('model')})")
    t.add_column("stage")
    t.add_column("queries", justify="right")
    counts = card["counts"]
    t.add_row("asked (passages × n)", f"{counts['queries_asked']:,}")
    for name in FILTERS:
        t.add_row(f"  dropped: {name.replace('_', ' ')}", f"{card['filters'][name]:,}")
    t.add_row("[bold]kept", f"[bold]{counts['queries_kept']:,}")
    for split, c in counts["splits"].items():
        t.add_row(f"  {split}", f"{c['queries']:,} ({c['documents']} documents)")
    calls = card["llm_calls"]
    t.add_row("LLM replies cached / new", f"{calls['cached']} / {calls['asked']}")
    if calls["asked"]:
        t.add_row("seconds per new reply", f"{calls['seconds'] / calls['asked']:.1f}")
    console.print(t)
    stale = [p.name for p in (*out.glob("corpus_*.jsonl"), out / "triplets") if p.exists()]
    if stale and before != card["fingerprint"]:
        console.print(f"[yellow]note:[/] {', '.join(stale)} in {out} came from an earlier run: rerun steps 0 and 1")
    console.print(f"[green]dataset written to[/] {out}; next: python 0_build_triplets.py --data {out}")


if __name__ == "__main__":
    exit_with(main)
