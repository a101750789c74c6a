"""Write tests/fixtures/answer_design/onet_tiny_answers.csv: a seeded sample of the tiny O*NET fixture's queries (all splits)
answered by SmolLM2 with the base MiniLM's and BM25's top-k passages, scored by step 4's title match.

The stratified-sample test (tests/rag/test_answer_design.py) checks its weighted estimates against this full
enumeration, so the file holds real answers of a real model, not made-up correctness.

    PYTHONPATH=$PWD python benchmarks/answer_design_fixture.py [--max-tokens 24] [--top-k 3]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import corpus  # noqa: F401  (offline before any model loads)

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "answer_design" / "onet_tiny_answers.csv"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--top-k", type=int, default=3)
    ap.add_argument("--queries", type=int, default=100, help="a seeded sample of this many queries (0 = all)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    from corpus.beir import load_dataset, write_dataset
    from corpus.models import load_embedder
    from corpus.onet_dataset import build_onet_dataset
    from corpus.sources.onet import read_occupations, read_tasks
    from harness.bm25 import BM25Arm
    from harness.retrieval import dense_retriever
    from harness.retrieval_options import RetrievalOptions
    from rag.answer_metrics import TitleIndex, score_answer
    from rag.llm_client import EndpointConfig, LLMClient
    from rag.local_model import smollm2
    from rag.local_server import LocalServer, ServerConfig
    from rag.prompts import DEFAULT_TEMPLATE, PromptTemplate
    from tests.conftest import ONET_TINY, tiny_onet_config

    folder = Path(tempfile.mkdtemp())
    records = read_occupations(ONET_TINY / "Occupation Data.txt"), read_tasks(ONET_TINY / "Task_DWA.csv")
    built, _ = build_onet_dataset(*records, tiny_onet_config(), folder)
    write_dataset(built, folder)
    ds = load_dataset(folder)
    docs = ds.corpus
    qids = sorted(q for q in ds.queries if any(ds.relevant(s).get(q) for s in ("train", "dev", "test")))
    if args.queries:
        from corpus.splits import stable_order

        # in the seeded order, not by id (ids cluster by occupation): a partial file is a random subset too
        qids = stable_order(qids, "answer_design_fixture", key=str)[: args.queries]
    relevant = {}
    for split in ("train", "dev", "test"):
        relevant.update({q: set(d) for q, d in ds.relevant(split).items() if d})
    texts = [ds.queries[q] for q in qids]
    depth = 20
    dense = dense_retriever(load_embedder("base"), docs, None, RetrievalOptions())
    base = [[h.doc_id for h in hits] for hits in dense.search(texts, depth)]
    bm25 = BM25Arm(docs)
    _, idx = bm25.search(texts, depth)
    lexical = [[bm25.doc_ids[j] for j in row if j >= 0] for row in idx]

    template, titles = PromptTemplate(DEFAULT_TEMPLATE), TitleIndex(docs.values())
    columns = ["query_id", "relevant_ids"] + [
        f"{arm}_{c}" for arm in ("base", "bm25") for c in ("rank", "context_ids", "correct", "answer")
    ]
    # rows are appended as they finish, and a rerun resumes: a slow, shared machine may stop it at any point, and
    # the rows written are a complete enumeration of the queries they cover
    done = set()
    if args.out.is_file():
        with open(args.out, newline="", encoding="utf-8") as fh:
            done = {row["query_id"] for row in csv.DictReader(fh)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    answers: dict[tuple[str, tuple[str, ...]], str] = {}
    with (
        LocalServer(smollm2(), ServerConfig(threads=1, ctx_per_slot=2048)) as server,
        open(args.out, "a", newline="", encoding="utf-8") as fh,
    ):
        writer = csv.DictWriter(fh, fieldnames=columns)
        if not done:
            writer.writeheader()
        client = LLMClient(EndpointConfig(server.base_url, "smollm2", api_key_env="", max_retries=0, timeout_s=300))
        for n, (q, text) in enumerate(zip(qids, texts, strict=True)):
            if q in done:
                continue
            row = {"query_id": q, "relevant_ids": ";".join(sorted(relevant[q]))}
            for arm, ranking in (("base", base[n]), ("bm25", lexical[n])):
                ids = tuple(ranking[: args.top_k])
                if (text, ids) not in answers:  # identical prompts: one generation (greedy, deterministic)
                    answers[(text, ids)] = client.complete(
                        template.messages(text, [docs[d] for d in ids]), args.max_tokens
                    ).text
                answer = answers[(text, ids)]
                rank = next((r for r, d in enumerate(ranking, start=1) if d in relevant[q]), 0)
                score = score_answer(answer, relevant[q], ids, (), titles)
                row |= {
                    f"{arm}_rank": rank,
                    f"{arm}_context_ids": ";".join(ids),
                    f"{arm}_correct": int(bool(score.correct)),
                    f"{arm}_answer": answer,
                }
            writer.writerow(row)
            fh.flush()
            print(f"{n + 1}/{len(qids)}", flush=True)
    print(f"{len(qids)} queries -> {args.out}")


if __name__ == "__main__":
    main()
