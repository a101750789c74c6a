#!/usr/bin/env python
"""Step 4: RAG answers side by side. For each test query, the base and the fine-tuned retriever each fill
the prompt with their top-k passages, an LLM answers from each, and the report shows query by query where
fine-tuning fixed or broke the context (optionally judged by an LLM).

The LLM is ragtune's own local server (Qwen2.5-Coder-1.5B GGUF via llama.cpp, no key, no network) unless
--llm-base-url / OPENAI_BASE_URL names any OpenAI-compatible endpoint (key from OPENAI_API_KEY).
"""

from __future__ import annotations

import argparse

import corpus  # noqa: F401
from corpus.cli import ArgumentParser, exit_with
from corpus.paths import DEFAULT_FINETUNED, REPORTS_DIR
from rag.llm_session import add_endpoint_arguments, check_endpoint_arguments


def parse_args(argv):
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("data and retrieval")
    g.add_argument("--data", help="BEIR folder or flat file (default: O*NET)")
    g.add_argument("--split", default="test", help="split whose queries are answered (default: test)")
    g.add_argument(
        "--pool",
        help="candidate pool JSONL from step 1 (default: <data>/corpus_800.jsonl if it "
        "exists, else the dataset's whole corpus)",
    )
    g.add_argument("--limit", type=int, default=5, help="queries to answer, in id order; 0 = all (default: 5)")
    g.add_argument("--top-k", type=int, default=3, help="passages per prompt (default: 3)")
    g.add_argument("--base", default="base", help="base embedder (default: the shipped MiniLM)")
    g.add_argument(
        "--finetuned",
        default=str(DEFAULT_FINETUNED),
        help="fine-tuned embedder folder (default: runs/finetuned/final from step 2)",
    )
    g = p.add_argument_group("answer generation")
    g.add_argument("--prompt", help="prompt template file with {question} and {context} (default: built-in)")
    g.add_argument("--max-tokens", type=int, default=128, help="answer length cap (default: 128)")
    g.add_argument("--temperature", type=float, default=0.0)
    g.add_argument("--workers", type=int, default=1, help="requests in flight at once (default: 1)")
    g.add_argument("--recompute", action="store_true", help="ask the LLM again even for cached answers")
    add_endpoint_arguments(p)
    g = p.add_argument_group("LLM-as-judge (optional)")
    g.add_argument("--judge", action="store_true", help="score faithfulness and correctness with an LLM")
    g.add_argument("--judge-base-url", help="judge endpoint (default: the answer endpoint)")
    g.add_argument("--judge-model", help="judge model (default: the answer model)")
    g.add_argument("--judge-api-key-env", default=None, help="judge key variable (default: --llm-api-key-env)")
    p.add_argument("--out-dir", default=str(REPORTS_DIR), help="where reports go (default: reports/)")
    args = p.parse_args(argv)
    for name in ("limit", "top_k", "max_tokens", "workers"):
        if getattr(args, name) < (0 if name == "limit" else 1):
            p.error(f"--{name.replace('_', '-')} must be {'≥ 0' if name == 'limit' else 'positive'}")
    check_endpoint_arguments(p, args)
    return args


def main(argv=None):
    args = parse_args(argv)
    from contextlib import ExitStack
    from pathlib import Path

    from rich.table import Table

    from corpus.console import console
    from corpus.datasets import open_dataset
    from corpus.errors import RagtuneError
    from corpus.jsonl import write_json
    from corpus.models import resolve_model_path
    from corpus.paths import default_pool_file
    from harness.embedding_cache import EmbeddingCache
    from rag import compare, reports
    from rag.answer_cache import AnswerCache
    from rag.cached_llm import CachedLLM
    from rag.llm_client import EndpointConfig, LLMClient, endpoint_from_args
    from rag.llm_session import LocalOptions, open_client
    from rag.prompts import load_template

    template = load_template(args.prompt)  # a bad template fails before anything slow
    if args.finetuned == str(DEFAULT_FINETUNED) and not DEFAULT_FINETUNED.exists():
        raise RagtuneError(
            f"{DEFAULT_FINETUNED}: no fine-tuned model yet — run 2_train_embedder.py first "
            "(or pass --finetuned base to compare the base model with itself)"
        )
    base_path, tuned_path = resolve_model_path(args.base), resolve_model_path(args.finetuned)
    if base_path.resolve() == tuned_path.resolve():
        console.print(
            "[yellow]warning:[/] both arms use the same embedder: every verdict will be both_hit or both_miss"
        )

    endpoint = endpoint_from_args(
        args.llm_base_url, args.llm_model, args.llm_api_key_env, timeout_s=args.timeout, max_retries=args.retries
    )
    judge_endpoint = None
    if args.judge and (args.judge_base_url or args.judge_model):
        if endpoint is None and not args.judge_base_url:
            raise RagtuneError("--judge-model needs --judge-base-url when answers come from the local server")
        judge_endpoint = EndpointConfig(
            (args.judge_base_url or endpoint.base_url).rstrip("/"),
            args.judge_model or (endpoint.model if endpoint else ""),
            args.judge_api_key_env or args.llm_api_key_env,
            args.timeout,
            args.retries,
        )
        if not judge_endpoint.model:
            raise RagtuneError("--judge-model is required with --judge-base-url")
    with ExitStack() as stack:
        # an unreachable endpoint fails here, before the embedders are loaded; a local server starts only when
        # the first reply is not in the cache
        client, llm_card, model_key = open_client(
            stack,
            endpoint,
            LocalOptions(args.local_model, args.threads, args.ctx, slots=args.workers),
            args.timeout,
            args.retries,
            lazy=True,
        )
        judge_client = None
        if judge_endpoint is not None:
            judge_client = LLMClient(judge_endpoint)
            judge_client.check()

        ds = open_dataset(args.data)
        pool_arg = args.pool
        if pool_arg is None and default_pool_file(ds.path, 800).exists():
            pool_arg = str(default_pool_file(ds.path, 800))
        elif pool_arg is None:
            console.print(
                f"[yellow]note:[/] no pool file {default_pool_file(ds.path, 800)} (step 1): retrieving "
                "from the dataset's whole corpus"
            )
        docs, pool_source = compare.load_pool(pool_arg, ds)
        queries = compare.select_queries(ds, args.split, args.limit)
        compare.check_pool(queries, docs, pool_source)

        cfg = compare.RunConfig(
            data=str(ds.path),
            split=args.split,
            pool=pool_source,
            limit=args.limit,
            top_k=args.top_k,
            base=str(base_path),
            finetuned=str(tuned_path),
            max_tokens=args.max_tokens,
            temperature=args.temperature,
            prompt=template.source,
            prompt_fingerprint=template.fingerprint,
            workers=args.workers,
            judge=args.judge,
            cache_policy="recompute" if args.recompute else "reuse",
            out_dir=args.out_dir,
            llm=llm_card,
        )
        emb_cache = EmbeddingCache()
        contexts = {
            arm: compare.retrieve_arm(spec, arm, queries, docs, args.top_k, emb_cache)
            for arm, spec in (("base", args.base), ("finetuned", args.finetuned))
        }

        answer_cache = AnswerCache(policy=cfg.cache_policy)
        llm = CachedLLM(
            client,
            answer_cache,
            model_key,
            token_cache=AnswerCache(answer_cache.folder.with_name("tokens"), policy=cfg.cache_policy),
        )
        judge_llm = None
        if args.judge:
            if judge_client is None:
                judge_llm = llm
                cfg.judge_llm = {"same_as": "llm"}
            else:
                judge_llm = CachedLLM(judge_client, answer_cache, f"{judge_endpoint.base_url}|{judge_endpoint.model}")
                cfg.judge_llm = judge_endpoint.describe()
        console.print(
            f"answering {len(queries)} queries × 2 arms with [bold]{cfg.llm['model']}[/] "
            f"(top-{args.top_k}, ≤ {args.max_tokens} tokens, {args.workers} worker(s))"
        )
        answers = compare.generate(llm, judge_llm, cfg, template, queries, contexts, docs)
        if hasattr(client, "started"):  # the local server starts only for replies the cache lacks
            cfg.llm["server_started"] = client.started

    out_dir = Path(args.out_dir)
    rows = compare.build_rows(queries, contexts, answers, args.judge)
    report_path, df = reports.write_report(rows, args.judge, out_dir)
    summary = reports.summarise(df, args.judge)
    summary.to_csv(out_dir / reports.SUMMARY_CSV, index=False)
    card = {
        **cfg.card(),
        "queries": len(queries),
        "pool_documents": len(docs),
        "answer_cache": {"hits": answer_cache.hits, "misses": answer_cache.misses, "folder": str(answer_cache.folder)},
        "embedding_cache": {"hits": emb_cache.hits, "misses": emb_cache.misses},
        "outputs": [reports.REPORT_CSV, reports.SUMMARY_CSV, reports.SUMMARY_MD, reports.PLOT_PNG],
    }
    (out_dir / reports.SUMMARY_MD).write_text(reports.summary_markdown(summary, card), encoding="utf-8")
    reports.plot(df, args.judge, out_dir / reports.PLOT_PNG)
    write_json(out_dir / reports.CARD_JSON, card)

    console.print(reports.summary_table(summary))
    facts = Table(title="run")
    facts.add_column("what")
    facts.add_column("value", justify="right")
    facts.add_row("queries × arms", f"{len(queries)} × 2")
    facts.add_row("LLM requests cached / new", f"{answer_cache.hits} / {answer_cache.misses}")
    facts.add_row("report", str(report_path))
    facts.add_row("summary, picture, card", f"{reports.SUMMARY_MD}, {reports.PLOT_PNG}, {reports.CARD_JSON}")
    console.print(facts)


if __name__ == "__main__":
    exit_with(main)
