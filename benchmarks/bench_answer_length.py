#!/usr/bin/env python
"""How long a job-search answer is: answer tokens and seconds per answer from the local LLM with the default
prompt, top-k passages (the relevant one first, as a good retriever returns them), and a generous token cap.

The figure to read is the largest answer length with finish_reason 'stop': a --max-tokens a little above it
cuts no answer, and anything beyond is waiting time on a CPU. Writes every answer to --out (JSONL) so the
answers can be scored afterwards (rag.answer_metrics).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere: the packages live at the root

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads

from corpus.cli import exit_with  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--local-model", default="qwen2.5-coder-1.5b")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--queries", type=int, default=5, help="timed queries (default: 5)")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=128, help="cap, set above any expected answer")
    p.add_argument("--data", help="BEIR folder (default: the tiny O*NET test fixture)")
    p.add_argument("--prompt", help="prompt template file (default: the built-in one)")
    p.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "answer_length.jsonl"))
    return p.parse_args(argv)


def _dataset(path: str | None):
    from corpus.beir import load_dataset, write_dataset

    if path:
        return load_dataset(Path(path))
    from corpus.onet_dataset import build_onet_dataset
    from corpus.sources.onet import read_occupations, read_tasks
    from tests.conftest import ONET_TINY, tiny_onet_config

    out = Path(tempfile.mkdtemp())
    ds, _ = build_onet_dataset(
        read_occupations(ONET_TINY / "Occupation Data.txt"),
        read_tasks(ONET_TINY / "Task_DWA.csv"),
        tiny_onet_config(),
        out,
    )
    write_dataset(ds, out)
    return load_dataset(out)


def main(argv=None):
    args = parse_args(argv)
    from corpus.console import console
    from rag.llm_client import EndpointConfig, LLMClient
    from rag.local_model import resolve_local_model
    from rag.local_server import LocalServer, ServerConfig
    from rag.prompts import load_template

    ds = _dataset(args.data)
    relevant = ds.relevant("test")
    qids = sorted(relevant)[: args.queries + 1]  # the first one warms the server up, untimed
    template = load_template(args.prompt)
    doc_ids = list(ds.corpus)
    model = resolve_local_model(args.local_model)
    rows = []
    with LocalServer(model, ServerConfig(threads=args.threads, ctx_per_slot=4096)) as server:
        client = LLMClient(EndpointConfig(server.base_url, model.name, api_key_env=""))
        for n, q in enumerate(qids):
            first = min(relevant[q])
            i = doc_ids.index(first)
            ids = ([first] + [d for d in doc_ids[i + 1 :] + doc_ids[:i]])[: args.top_k]
            done = client.complete(
                template.messages(ds.queries[q], [ds.corpus[d] for d in ids]), args.max_tokens if n else 4
            )
            if n:
                rows.append(
                    {
                        "query_id": q,
                        "query": ds.queries[q],
                        "relevant_title": ds.corpus[first].title,
                        "context_ids": ids,
                        "answer": done.text,
                        "answer_tokens": done.completion_tokens,
                        "prompt_tokens": done.prompt_tokens,
                        "seconds": round(done.latency_s, 2),
                        "finish_reason": done.finish_reason,
                    }
                )
                console.print(f"{q}: {done.completion_tokens} tokens, {done.latency_s:.1f} s, {done.finish_reason}")
    Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    toks = [r["answer_tokens"] for r in rows]
    secs = [r["seconds"] for r in rows]
    console.print(
        f"prompt {template.source}; {model.name}, {args.threads} thread(s), {len(rows)} answers: answer tokens mean "
        f"{statistics.mean(toks):.0f}, max {max(toks)}; seconds per answer mean {statistics.mean(secs):.1f}, "
        f"max {max(secs):.1f}; stopped before the cap: {sum(r['finish_reason'] == 'stop' for r in rows)}"
    )
    console.print(f"answers: {args.out}")


if __name__ == "__main__":
    exit_with(main)
