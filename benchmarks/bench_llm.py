#!/usr/bin/env python
"""Local LLM speed for RAG answers: prompt and generation tokens/s and seconds per query, per thread count.

Runs the default model (or --local-model) through ragtune's own server with the default prompt template and
top-k real passages, as 4_rag_compare.py does. On a shared 2-core machine compare 1 and 2 threads: the
faster one is what --threads should be.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere: the packages live at the root

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads

from corpus.cli import exit_with  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--local-model", default="qwen2.5-coder-1.5b")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--queries", type=int, default=3, help="timed queries per thread count (default: 3)")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--data", help="dataset for real queries and passages (default: O*NET test split)")
    return p.parse_args(argv)


def chat(base_url: str, model: str, messages: list[dict], max_tokens: int) -> tuple[dict, float]:
    # raw HTTP rather than the openai client: llama.cpp's 'timings' split prompt from generation speed
    body = json.dumps(
        {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0, "cache_prompt": False}
    ).encode()
    req = urllib.request.Request(f"{base_url}/chat/completions", body, {"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=1800) as r:
        reply = json.loads(r.read())
    return reply, time.perf_counter() - t0


def main(argv=None):
    args = parse_args(argv)
    from rich.table import Table

    from corpus.console import console
    from corpus.datasets import open_dataset
    from rag.local_model import resolve_local_model
    from rag.local_server import LocalServer, ServerConfig
    from rag.prompts import load_template

    ds = open_dataset(args.data)
    relevant = ds.relevant("test")
    qids = sorted(relevant)[: args.queries + 1]  # the first one warms the server up, untimed
    template = load_template(None)
    # passages: the relevant document first, then neighbours in id order, as a retriever might return them
    doc_ids = list(ds.corpus)
    prompts = []
    for q in qids:
        first = sorted(relevant[q])[0]
        i = doc_ids.index(first)
        passages = [ds.corpus[d] for d in ([first] + doc_ids[i + 1 : i + args.top_k])[: args.top_k]]
        prompts.append(template.messages(ds.queries[q], passages))
    model = resolve_local_model(args.local_model)
    table = Table(title=f"{model.name}: top-{args.top_k} RAG prompts, ≤ {args.max_tokens} answer tokens")
    for col in (
        "threads",
        "queries",
        "prompt tokens (mean)",
        "prompt tok/s",
        "answer tokens (mean)",
        "generation tok/s",
        "s / query (mean)",
        "s / query (max)",
    ):
        table.add_column(col, justify="right")
    for threads in args.threads:
        with console.status(f"{model.name} with {threads} thread(s)"):
            with LocalServer(model, ServerConfig(threads=threads, ctx_per_slot=4096)) as server:
                chat(server.base_url, model.name, prompts[0], 8)
                runs = [chat(server.base_url, model.name, m, args.max_tokens) for m in prompts[1:]]
        tim = [r["timings"] for r, _ in runs]
        secs = [s for _, s in runs]
        table.add_row(
            str(threads),
            str(len(runs)),
            f"{statistics.mean(t['prompt_n'] for t in tim):.0f}",
            f"{sum(t['prompt_n'] for t in tim) / sum(t['prompt_ms'] for t in tim) * 1000:.1f}",
            f"{statistics.mean(t['predicted_n'] for t in tim):.0f}",
            f"{sum(t['predicted_n'] for t in tim) / sum(t['predicted_ms'] for t in tim) * 1000:.1f}",
            f"{statistics.mean(secs):.1f}",
            f"{max(secs):.1f}",
        )
        console.print(f"{threads} thread(s): done")
    console.print(table)


if __name__ == "__main__":
    exit_with(main)
