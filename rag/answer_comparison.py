"""The side-by-side comparison: per test query, what each retriever arm put in the context, the answer an LLM
wrote from it, and measured verdicts.

Arms are named 'base' and 'finetuned' (the report's column prefixes); their models are any embedder spec.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus.beir import Document, document_text, read_corpus
from corpus.cache_policy import CachePolicy
from corpus.console import console
from corpus.errors import RagtuneError
from corpus.paths import DEFAULT_FINETUNED, REPORTS_DIR
from corpus.splits import stable_order
from harness.outcomes import hit_at, verdict
from rag.cached_llm import CachedLLM
from rag.fan_out import fan_out
from rag.judge import Judgement, judge
from rag.prompts import PromptTemplate, format_context

ARMS = ("base", "finetuned")
# how deep to look for the first relevant document: beyond top-k, so a move from rank 7 to 2 is visible
RANK_DEPTH = 100


@dataclass
class RunConfig:
    data: str | None = None
    split: str = "test"
    pool: str | None = None
    limit: int = 5  # 0 = every query of the split
    top_k: int = 3
    base: str = "base"
    finetuned: str = str(DEFAULT_FINETUNED)
    max_tokens: int = 128
    temperature: float = 0.0
    prompt: str = "built-in"  # template source
    prompt_fingerprint: str = ""
    workers: int = 1
    judge: bool = False
    judge_max_tokens: int = 200
    llm: dict = field(default_factory=dict)  # endpoint description (never the key)
    judge_llm: dict = field(default_factory=dict)
    cache_policy: CachePolicy = CachePolicy.REUSE
    out_dir: str = str(REPORTS_DIR)

    def card(self) -> dict:
        return asdict(self)


@dataclass
class ArmContext:
    ids: list[str]
    rank: int | None  # rank of the first relevant document within RANK_DEPTH, None if deeper
    hit: bool  # a relevant document is among the top-k passages


@dataclass
class Query:
    id: str
    text: str
    relevant: set[str]


def select_queries(ds, split: str, limit: int) -> list[Query]:
    """A seeded sample of `limit` queries of the split, listed in id order.

    Ids cluster by topic (O*NET's start with the occupation group), so the first N by id would all be
    managers; a fixed hash order samples the whole split, stays the same on every machine, and a larger
    --limit extends a smaller one, so a rerun with more queries reuses every cached answer.
    """
    relevant = ds.relevant(split)
    qids = stable_order((q for q, docs in relevant.items() if docs), "rag/queries", key=str)
    if limit:
        qids = qids[:limit]
    return [Query(q, ds.queries[q], relevant[q]) for q in sorted(qids)]


def load_pool(pool: str | None, ds) -> tuple[dict[str, Document], str]:
    if pool is None:
        return ds.corpus, str(ds.path / "corpus.jsonl")
    return read_corpus(Path(pool)), str(pool)


def retrieve_arm(
    spec: str, name: str, queries: list[Query], docs: dict[str, Document], top_k: int, cache=None
) -> list[ArmContext]:
    from corpus.models import load_embedder
    from harness.retrieval import Retriever

    model = load_embedder(spec)
    retriever = Retriever(model, docs, cache, show_progress=True, name=name)
    depth = max(top_k, min(RANK_DEPTH, len(docs)))
    out = []
    for q, hits in zip(queries, retriever.search([q.text for q in queries], depth), strict=False):
        rank = next((h.rank for h in hits if h.doc_id in q.relevant), None)
        ids = [h.doc_id for h in hits[:top_k]]
        out.append(ArmContext(ids, rank, hit_at(rank, top_k)))
    return out


def _answer_one(
    llm: CachedLLM,
    judge_llm: CachedLLM | None,
    cfg: RunConfig,
    template: PromptTemplate,
    q: Query,
    ctx: ArmContext,
    docs: dict[str, Document],
) -> dict:
    passages = [docs[d] for d in ctx.ids]
    done, cached = llm.complete(template.messages(q.text, passages), cfg.max_tokens, cfg.temperature)
    context = format_context(passages)
    out = {
        "answer": done.text,
        "prompt_tokens": done.prompt_tokens,
        "context_tokens": llm.count_tokens(context),
        "answer_tokens": done.completion_tokens,
        "context_chars": len(context),
        "latency_s": round(done.latency_s, 3),
        "finish_reason": done.finish_reason,
        "cached": cached,
    }
    if judge_llm is not None:
        reference = "\n\n".join(document_text(docs[d]) for d in sorted(q.relevant) if d in docs)
        j: Judgement = judge(judge_llm, q.text, context, reference, done.text, cfg.judge_max_tokens)
        out.update(
            {
                "faithfulness": j.faithfulness,
                "faithfulness_reason": j.faithfulness_reason,
                "correctness": j.correctness,
                "correctness_reason": j.correctness_reason,
                "judge_status": j.status,
                "judge_raw": j.raw,
            }
        )
    return out


def generate(
    llm: CachedLLM,
    judge_llm: CachedLLM | None,
    cfg: RunConfig,
    template: PromptTemplate,
    queries: list[Query],
    contexts: dict[str, list[ArmContext]],
    docs: dict[str, Document],
) -> dict:
    """{(query index, arm): answer fields}; every finished answer is in the cache before the next one starts
    waiting, so an endpoint failure or Ctrl-C loses nothing finished."""
    jobs = [(i, arm) for i in range(len(queries)) for arm in ARMS]
    results: dict[tuple[int, str], dict] = {}

    def one(job: tuple[int, str]) -> dict:
        i, arm = job
        return _answer_one(llm, judge_llm, cfg, template, queries[i], contexts[arm][i], docs)

    label = "answering" + (" and judging" if judge_llm else "")
    for job, answer in fan_out(one, jobs, workers=cfg.workers, label=label, unit="answers"):
        results[job] = answer
    return results


def build_rows(
    queries: list[Query], contexts: dict[str, list[ArmContext]], answers: dict, judged: bool, top_k: int
) -> list[dict]:
    """One row per query; the verdict is harness.outcomes' fixed/regressed at k = top_k (the prompt's passages)."""
    rows = []
    for i, q in enumerate(queries):
        row = {"query_id": q.id, "query": q.text, "relevant_ids": ";".join(sorted(q.relevant))}
        ctx = {arm: contexts[arm][i] for arm in ARMS}
        ans = {arm: answers[(i, arm)] for arm in ARMS}
        for arm in ARMS:
            row[f"{arm}_rank"] = ctx[arm].rank
        for arm in ARMS:
            row[f"{arm}_context_ids"] = ";".join(ctx[arm].ids)
        for arm in ARMS:
            row[f"{arm}_answer"] = ans[arm]["answer"]
        for arm in ARMS:
            row[f"{arm}_context_hit"] = ctx[arm].hit
        row["verdict"] = verdict(ctx["base"].rank, ctx["finetuned"].rank, top_k)
        for metric in ANSWER_METRICS + (JUDGE_FIELDS if judged else ()):
            for arm in ARMS:
                row[f"{arm}_{metric}"] = ans[arm][metric]
        rows.append(row)
    return rows


ANSWER_METRICS = (
    "prompt_tokens",
    "context_tokens",
    "context_chars",
    "answer_tokens",
    "latency_s",
    "finish_reason",
    "cached",
)
JUDGE_FIELDS = ("faithfulness", "correctness", "faithfulness_reason", "correctness_reason", "judge_status", "judge_raw")


def report_columns(judged: bool) -> list[str]:
    cols = ["query_id", "query", "relevant_ids"]
    for group in ("rank", "context_ids", "answer", "context_hit"):
        cols += [f"{arm}_{group}" for arm in ARMS]
    cols.append("verdict")
    for metric in ANSWER_METRICS + (JUDGE_FIELDS if judged else ()):
        cols += [f"{arm}_{metric}" for arm in ARMS]
    return cols


def check_pool(queries: list[Query], docs: dict[str, Document], source: str) -> None:
    missing = sum(1 for q in queries if not (q.relevant & docs.keys()))
    if missing == len(queries):
        raise RagtuneError(
            f"{source}: none of the selected queries has a relevant document in this pool "
            "(was the pool built from the same dataset and split?)"
        )
    if missing:
        console.print(
            f"[yellow]note:[/] {missing} of {len(queries)} queries have no relevant document in "
            f"{source}: they can only be 'both_miss'"
        )
