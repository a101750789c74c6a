#!/usr/bin/env python
"""Where an answer's seconds go on this CPU: prompt processing vs generation, from llama.cpp's own timings
(prompt_n / prompt_ms, predicted_n / predicted_ms in each reply), for step 4's default prompt with top-k passages.

Then two cuts measured on the same queries, without a second run where none is needed:
  * answer tokens: a greedy answer capped at M tokens is the first M tokens of the uncapped one, so correctness
    at a smaller --max-tokens is scored on the tokenized prefix of each answer (no new generation);
  * passage tokens: each passage cut to its first W words, answered again, correctness and answer compared.
Correctness is step 4's title match (the answer names a relevant occupation).

    PYTHONPATH=$PWD python benchmarks/bench_answer_time.py --queries 4 --data /work/baseline/data/onet
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere: the packages live at the root

import corpus  # noqa: E402,F401
from corpus.cli import exit_with  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--local-model", default="qwen2.5-coder-1.5b")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--queries", type=int, default=4, help="timed queries (one more warms the server up)")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=48, help="step 4's default answer cap")
    p.add_argument("--short-answer", type=int, default=24, help="the smaller answer cap scored on prefixes")
    p.add_argument("--passage-words", type=int, default=40, help="words kept of each passage in the cut variant")
    p.add_argument("--data", help="BEIR folder (default: the tiny O*NET test fixture)")
    return p.parse_args(argv)


def _dataset(path: str | None):
    from benchmarks.bench_answer_length import _dataset as tiny_or_given

    return tiny_or_given(path)


def _cut(doc, words: int):
    return dataclasses.replace(doc, text=" ".join(doc.text.split()[:words]))


def main(argv=None):
    args = parse_args(argv)
    import httpx

    from corpus.console import console
    from rag.answer_metrics import TitleIndex, score_answer
    from rag.local_model import resolve_local_model
    from rag.local_server import LocalServer, ServerConfig
    from rag.prompts import DEFAULT_TEMPLATE, PromptTemplate

    ds = _dataset(args.data)
    relevant = ds.relevant("test")
    qids = sorted(relevant)[:: max(1, len(relevant) // (args.queries + 1))][: args.queries + 1]
    template, titles, doc_ids = PromptTemplate(DEFAULT_TEMPLATE), TitleIndex(ds.corpus.values()), list(ds.corpus)
    model = resolve_local_model(args.local_model)
    rows = []
    with LocalServer(model, ServerConfig(threads=args.threads, ctx_per_slot=4096)) as server:
        http = httpx.Client(base_url=server.address, timeout=900)

        def ask(passages, question, max_tokens):
            body = {"model": model.name, "messages": template.messages(question, passages), "max_tokens": max_tokens}
            r = http.post("/v1/chat/completions", json={**body, "temperature": 0.0}).json()
            return r["choices"][0]["message"]["content"] or "", r["timings"]

        def prefix(text: str, tokens: int) -> str:
            ids = http.post("/tokenize", json={"content": text}).json()["tokens"]
            return http.post("/detokenize", json={"tokens": ids[:tokens]}).json()["content"]

        for n, q in enumerate(qids):
            first = min(relevant[q])
            i = doc_ids.index(first)
            ids = ([first] + doc_ids[i + 1 :] + doc_ids[:i])[: args.top_k]  # a good retriever: relevant first
            passages = [ds.corpus[d] for d in ids]
            if n == 0:
                ask(passages, ds.queries[q], 4)  # warm-up, untimed
                continue
            answer, t = ask(passages, ds.queries[q], args.max_tokens)
            cut_answer, tc = ask([_cut(p, args.passage_words) for p in passages], ds.queries[q], args.max_tokens)

            def correct(text: str, q=q, ids=ids) -> bool:
                return bool(score_answer(text, relevant[q], ids, (), titles).correct)

            rows.append(
                {
                    "prompt_n": t["prompt_n"],
                    "prompt_s": t["prompt_ms"] / 1000,
                    "gen_n": t["predicted_n"],
                    "gen_s": t["predicted_ms"] / 1000,
                    "correct": correct(answer),
                    "correct_short": correct(prefix(answer, args.short_answer)),
                    "cut_prompt_n": tc["prompt_n"],
                    "cut_s": (tc["prompt_ms"] + tc["predicted_ms"]) / 1000,
                    "cut_correct": correct(cut_answer),
                    "cut_same_answer": cut_answer == answer,
                }
            )
            r = rows[-1]
            console.print(
                f"{q}: prompt {r['prompt_n']} tok {r['prompt_s']:.1f} s, answer {r['gen_n']} tok {r['gen_s']:.1f} s; "
                f"cut passages: prompt {r['cut_prompt_n']} tok, {r['cut_s']:.1f} s, same answer {r['cut_same_answer']}"
            )

    def mean(key):
        return statistics.mean(float(r[key]) for r in rows)

    total = mean("prompt_s") + mean("gen_s")
    console.print(
        f"{model.name}, {args.threads} thread(s), {len(rows)} answers, top-{args.top_k}: "
        f"prompt {mean('prompt_n'):.0f} tokens in {mean('prompt_s'):.1f} s ({mean('prompt_n') / mean('prompt_s'):.0f} "
        f"tok/s, {mean('prompt_s') / total:.0%} of the time), answer {mean('gen_n'):.0f} tokens in {mean('gen_s'):.1f} s "
        f"({mean('gen_n') / mean('gen_s'):.1f} tok/s, {mean('gen_s') / total:.0%})"
    )
    console.print(
        f"correct: {sum(r['correct'] for r in rows)}/{len(rows)} at ≤ {args.max_tokens} answer tokens, "
        f"{sum(r['correct_short'] for r in rows)}/{len(rows)} at ≤ {args.short_answer}; passages cut to "
        f"{args.passage_words} words: {sum(r['cut_correct'] for r in rows)}/{len(rows)} correct, "
        f"{sum(r['cut_same_answer'] for r in rows)} identical answers, prompt {mean('cut_prompt_n'):.0f} tokens, "
        f"{mean('cut_s'):.1f} s per answer (vs {total:.1f} s)"
    )


if __name__ == "__main__":
    exit_with(main)
