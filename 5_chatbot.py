#!/usr/bin/env python
"""Step 5: a local web page where a question goes to the base and the fine-tuned retriever side by side: the
passages each found (rank, score, which ones only one of them found) and the answer an LLM writes from each,
streamed. Tabs browse reports/ and draw a PCA map of the embedding spaces.

The LLM is ragtune's own local server (Qwen2.5-Coder-1.5B GGUF via llama.cpp) unless --llm-base-url /
OPENAI_BASE_URL names any OpenAI-compatible endpoint (key from OPENAI_API_KEY). When the LLM cannot be
started or reached, retrieval still works and the answer areas say what failed.
"""

from __future__ import annotations

import argparse

import corpus  # noqa: F401
from corpus.cli import ArgumentParser, exit_with
from corpus.paths import DEFAULT_FINETUNED, REPORTS_DIR
from rag.llm_session import add_endpoint_arguments, check_endpoint_arguments


def arm_spec(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise argparse.ArgumentTypeError(f"'{text}': expected NAME=MODEL_FOLDER")
    return name.strip(), path.strip()


def parse_args(argv):
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("data and retrieval")
    g.add_argument("--data", help="BEIR folder or flat file (default: O*NET)")
    g.add_argument(
        "--pool",
        help="passages to retrieve from (default: <data>/corpus_800.jsonl if it exists, "
        "else the dataset's whole corpus)",
    )
    g.add_argument("--base", default="base", help="base embedder (default: the shipped MiniLM)")
    g.add_argument(
        "--finetuned",
        default=str(DEFAULT_FINETUNED),
        help="fine-tuned embedder folder (default: runs/finetuned/final; if that is missing the page "
        "shows the base model only)",
    )
    g.add_argument(
        "--arm",
        action="append",
        type=arm_spec,
        default=[],
        metavar="NAME=FOLDER",
        help="an extra embedder shown in its own column (repeatable)",
    )
    g.add_argument("--top-k", type=int, default=3, help="passages per answer, changeable on the page (default: 3)")
    g = p.add_argument_group("answer generation")
    g.add_argument("--prompt", help="prompt template file with {question} and {context} (default: built-in)")
    g.add_argument("--max-tokens", type=int, default=160, help="answer length cap (default: 160)")
    g.add_argument("--temperature", type=float, default=0.0)
    g = add_endpoint_arguments(p, timeout_s=300.0, retries=1)
    g.add_argument(
        "--slots", type=int, default=None, help="answers the local server writes at once (default: one per arm)"
    )
    g = p.add_argument_group("web page")
    g.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    g.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    g.add_argument("--concurrency", type=int, default=4, help="questions answered at once (default: 4)")
    g.add_argument("--reports-dir", default=str(REPORTS_DIR), help="folder the report tab shows (default: reports/)")
    g.add_argument("--cache-dir", help="embedding cache folder (default: cache/embeddings)")
    args = p.parse_args(argv)
    for name in ("top_k", "max_tokens", "concurrency"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if args.slots is not None and args.slots < 1:
        p.error("--slots must be positive")
    check_endpoint_arguments(p, args)
    if not 0 <= args.port <= 65535:
        p.error("--port must be between 0 and 65535")
    return args


def choose_arms(args) -> tuple[dict[str, str], list[str]]:
    """arm name → model folder, and notes for the page."""
    from corpus.errors import RagtuneError
    from corpus.models import resolve_model_path

    arms = {"base": str(resolve_model_path(args.base))}
    notes = []
    if args.finetuned == str(DEFAULT_FINETUNED) and not DEFAULT_FINETUNED.exists():
        notes.append(
            f"No fine-tuned model at `{DEFAULT_FINETUNED}` yet (run `2_train_embedder.py`): the "
            "fine-tuned column is left out."
        )
    else:
        arms["finetuned"] = str(resolve_model_path(args.finetuned))
    for name, spec in args.arm:
        if name in arms:
            raise RagtuneError(f"--arm {name}=…: the name '{name}' is already taken; pick another")
        arms[name] = str(resolve_model_path(spec))
    return arms, notes


def main(argv=None):
    args = parse_args(argv)
    from contextlib import ExitStack

    from rich.table import Table

    from corpus.console import console
    from corpus.datasets import open_dataset
    from corpus.errors import RagtuneError
    from corpus.paths import default_pool_file
    from harness.embedding_cache import EmbeddingCache
    from rag import chat_app
    from rag.chat_engine import ChatConfig, ChatEngine, load_retrievers
    from rag.compare import load_pool
    from rag.llm_client import endpoint_from_args
    from rag.llm_session import LocalOptions, open_client
    from rag.prompts import load_template

    template = load_template(args.prompt)  # a bad template fails before anything slow
    arms, notes = choose_arms(args)
    endpoint = endpoint_from_args(
        args.llm_base_url, args.llm_model, args.llm_api_key_env, timeout_s=args.timeout, max_retries=args.retries
    )

    if args.pool is None:
        ds = open_dataset(args.data)
        pool_file = default_pool_file(ds.path, 800)
        docs, pool_source = load_pool(str(pool_file) if pool_file.exists() else None, ds)
        data = str(ds.path)
    else:
        docs, pool_source = load_pool(args.pool, None)
        data = args.data or ""
    if not docs:
        raise RagtuneError(f"{pool_source}: no passages to retrieve from")
    retrievers = load_retrievers(arms, docs, EmbeddingCache(args.cache_dir))

    cfg = ChatConfig(
        data=data,
        pool=pool_source,
        pool_documents=len(docs),
        arms=arms,
        notes=notes,
        top_k=args.top_k,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        prompt=template.source,
        prompt_fingerprint=template.fingerprint,
        reports_dir=args.reports_dir,
        host=args.host,
        port=args.port,
        concurrency=args.concurrency,
    )
    with ExitStack() as stack:
        llm, problem = None, None
        try:
            llm, cfg.llm, _ = open_client(
                stack,
                endpoint,
                LocalOptions(args.local_model, args.threads, args.ctx, args.slots or len(arms)),
                args.timeout,
                args.retries,
            )
        except RagtuneError as exc:
            # the page is still worth opening: retrieval works without an LLM
            problem = f"LLM unavailable, answers will fail: {exc}"
            console.print(f"[yellow]warning:[/] {problem}")
            cfg.llm = cfg.llm or ({**endpoint.describe()} if endpoint else {"model": args.local_model})

        engine = ChatEngine(docs, retrievers, template, llm, problem)
        app = chat_app.build_app(engine, cfg)

        facts = Table(title="ragtune chatbot")
        facts.add_column("what")
        facts.add_column("value")
        for arm, path in arms.items():
            facts.add_row(f"arm {arm}", path)
        facts.add_row("passages", f"{len(docs):,} from {pool_source}")
        facts.add_row(
            "LLM", f"{cfg.llm.get('model', '')} ({'unavailable' if problem else cfg.llm.get('base_url', '')})"
        )
        facts.add_row("page", f"http://{args.host}:{args.port}  (Ctrl-C to stop)")
        for note in notes:
            facts.add_row("note", note)
        console.print(facts)
        chat_app.serve(app, cfg, block=True)


if __name__ == "__main__":
    exit_with(main)
