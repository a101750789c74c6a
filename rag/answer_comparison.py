"""The side-by-side comparison: per test query, what each arm put in the context, the answer an LLM wrote from
it, and measured verdicts.

Arms are the retriever arms of step 3 (`harness.arms`: dense models, BM25, ...) in the order given, then the two
brackets: closed book (the question alone, no retrieval) and oracle (the relevant documents, padded to top-k
with the first arm's best non-relevant ones). Each arm's name is its report column prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus.beir import Document, document_text, read_corpus
from corpus.cache_policy import CachePolicy
from corpus.console import console
from corpus.errors import RagtuneError
from corpus.paths import REPORTS_DIR
from corpus.splits import stable_order
from harness.arms import BM25, DENSE, ArmSpec
from harness.outcomes import hit_at, verdict
from rag.answer_evaluation import ArmAnswer, JudgeScores, judge_answer
from rag.brackets import ClosedBookPrompt, oracle_context
from rag.cached_llm import CachedLLM
from rag.fan_out import fan_out
from rag.judge import JudgePrompt
from rag.prompts import PromptTemplate, format_context

# the two arms of a plain run (report_columns' default, the chatbot's report tab)
ARMS = ("base", "finetuned")
CLOSED_BOOK, ORACLE = "closed_book", "oracle"
BRACKETS = (CLOSED_BOOK, ORACLE)
# how deep to look for the first relevant document: beyond top-k, so a move from rank 7 to 2 is visible
RANK_DEPTH = 100


@dataclass
class RunConfig:
    data: str | None = None
    split: str = "test"
    pool: str | None = None
    limit: int = 10  # 0 = every query of the split
    top_k: int = 3
    arms: list[str] = field(default_factory=list)  # every arm as written (specs, then brackets)
    max_tokens: int = 64
    temperature: float = 0.0
    prompt: str = "built-in"  # template source
    prompt_fingerprint: str = ""
    closed_book_prompt: str = "built-in"
    workers: int = 1
    judge: bool = False
    judge_repeats: int = 1
    judge_max_tokens: int = 300
    judge_prompts: dict = field(default_factory=dict)  # name -> source
    llm: dict = field(default_factory=dict)  # endpoint description (never the key)
    judge_llm: dict = field(default_factory=dict)
    judge2_llm: dict = field(default_factory=dict)
    bootstrap_samples: int = 10_000
    seed: int = 13
    cache_policy: CachePolicy = CachePolicy.REUSE
    out_dir: str = str(REPORTS_DIR)

    def card(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Arm:
    """One column group of the report: a retriever arm (spec set) or a bracket (spec None)."""

    name: str
    spec: ArmSpec | None = None

    @property
    def is_bracket(self) -> bool:
        return self.spec is None


@dataclass
class ArmContext:
    ids: list[str]
    rank: int | None  # rank of the first relevant document within RANK_DEPTH (the context, for a bracket)
    hit: bool  # a relevant document is among the top-k passages
    ranking: list[str] = field(default_factory=list)  # the arm's ranking to RANK_DEPTH (empty for a bracket)


@dataclass
class Query:
    id: str
    text: str
    relevant: set[str]


@dataclass(frozen=True)
class ArmResult:
    """One arm's answer to one query, with its judge scores when judged."""

    answer: ArmAnswer
    fields: dict  # prompt_tokens, context_tokens, ... (ANSWER_METRICS)
    judged: JudgeScores | None = None
    judged2: JudgeScores | None = None  # the second judge's scores of the same answer


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


def dense_ranking(spec: ArmSpec, queries: list[Query], docs: dict[str, Document], depth: int, cache=None, where=None):
    from corpus.models import load_embedder
    from harness.retrieval import dense_retriever
    from harness.retrieval_options import RetrievalOptions

    options, backend = where or (RetrievalOptions(), None)
    model = load_embedder(spec.model)
    retriever = dense_retriever(model, docs, cache, options, backend, show_progress=True, name=spec.name)
    return [[h.doc_id for h in hits] for hits in retriever.search([q.text for q in queries], depth)]


def bm25_ranking(spec: ArmSpec, queries: list[Query], docs: dict[str, Document], depth: int, cache=None, where=None):
    from harness.bm25 import BM25Arm

    bm25 = BM25Arm(docs)
    _, idx = bm25.search([q.text for q in queries], depth)
    return [[bm25.doc_ids[j] for j in row if j >= 0] for row in idx]


def hybrid_ranking(parts: list[list[list[str]]], depth: int, rrf_k: int) -> list[list[str]]:
    """Reciprocal-rank fusion (harness.fusion) of the part arms' rankings, doc ids per query, best first."""
    import numpy as np

    from harness.fusion import Ranking, reciprocal_rank_fusion

    ids = sorted({d for ranking in parts for row in ranking for d in row})
    row_of = {d: i for i, d in enumerate(ids)}
    width = max((len(row) for ranking in parts for row in ranking), default=0)
    runs = []
    for ranking in parts:
        ranked = np.full((len(ranking), width), -1, dtype=np.int64)
        for q, row in enumerate(ranking):
            ranked[q, : len(row)] = [row_of[d] for d in row]
        runs.append(Ranking(np.zeros(ranked.shape, dtype=np.float32), ranked))
    fused = reciprocal_rank_fusion(runs, k=rrf_k, depth=depth)
    return [[ids[j] for j in row if j >= 0] for row in fused.ranked]


# one ranking function per arm kind, (spec, queries, docs, depth, embedding cache, where) -> doc ids per query,
# best first; `where` is (RetrievalOptions, open store backend or None) for arms that search embeddings
RANKERS = {DENSE: dense_ranking, BM25: bm25_ranking}


def rank_arm(
    spec: ArmSpec, queries: list[Query], docs: dict[str, Document], depth: int, cache=None, where=None
) -> list[list[str]]:
    ranker = RANKERS.get(spec.kind)
    if ranker is None:
        raise RagtuneError(f"--arms {spec.text}: step 4 does not answer from {spec.kind} arms yet")
    return ranker(spec, queries, docs, depth, cache, where)


def _first_relevant(ids: Sequence[str], relevant: set[str]) -> int | None:
    return next((r for r, d in enumerate(ids, start=1) if d in relevant), None)


def arm_contexts(rankings: list[list[str]], queries: list[Query], top_k: int) -> list[ArmContext]:
    out = []
    for q, ranking in zip(queries, rankings, strict=True):
        rank = _first_relevant(ranking, q.relevant)
        out.append(ArmContext(ranking[:top_k], rank, hit_at(rank, top_k), ranking))
    return out


def bracket_contexts(
    name: str, queries: list[Query], first: list[ArmContext], docs: dict[str, Document], top_k: int
) -> list[ArmContext]:
    """Closed book: no passages. Oracle: the relevant documents (those in the pool), padded with the first
    retriever arm's best non-relevant ones to top-k."""
    if name == CLOSED_BOOK:
        return [ArmContext([], None, False) for _ in queries]
    out = []
    for q, ctx in zip(queries, first, strict=True):
        ids = oracle_context(q.relevant & docs.keys(), ctx.ranking, top_k)
        rank = _first_relevant(ids, q.relevant)
        out.append(ArmContext(ids, rank, hit_at(rank, top_k)))
    return out


@dataclass(frozen=True)
class Judges:
    llm: CachedLLM
    claims: JudgePrompt
    correctness: JudgePrompt
    repeats: int = 1
    max_tokens: int = 300
    second: CachedLLM | None = None  # a second judge asked the same questions


@dataclass(frozen=True)
class Prompts:
    answer: PromptTemplate
    closed_book: ClosedBookPrompt


def reference_text(q: Query, docs: dict[str, Document], references: dict[str, tuple[str, ...]]) -> str:
    """What the correctness judge compares with: the reference answers, else the relevant documents."""
    if references.get(q.id):
        return "\n".join(references[q.id])
    return "\n\n".join(document_text(docs[d]) for d in sorted(q.relevant) if d in docs)


def _answer_one(
    llm: CachedLLM, cfg: RunConfig, q: Query, ctx: ArmContext, messages: list[dict], context: str, reply=None
):
    """(answer, fields, reply) of one arm for one query; `reply` (completion, came from cache) is the generation of
    an identical prompt already answered for another arm: used as is, not asked again."""
    done, cached = reply if reply is not None else llm.complete(messages, cfg.max_tokens, cfg.temperature)
    fields = {
        "prompt_tokens": done.prompt_tokens,
        "context_tokens": llm.count_tokens(context) if context else 0,
        "answer_tokens": done.completion_tokens,
        "context_chars": len(context),
        "latency_s": round(done.latency_s, 3),
        "finish_reason": done.finish_reason,
        "cached": cached,
    }
    rank = ctx.rank or 0
    answer = ArmAnswer(q.id, q.text, frozenset(q.relevant), tuple(ctx.ids), context, rank, done.text)
    return answer, fields, (done, cached)


def generate(
    llm: CachedLLM,
    judges: Judges | None,
    cfg: RunConfig,
    prompts: Prompts,
    queries: list[Query],
    contexts: dict[Arm, list[ArmContext]],
    docs: dict[str, Document],
    references: dict[str, tuple[str, ...]] | None = None,
) -> dict[tuple[int, str], ArmResult]:
    """{(query index, arm name): result}; every finished answer is in the cache before the next one starts
    waiting, so an endpoint failure or Ctrl-C loses nothing finished.

    Arms whose prompts for a query are identical (the same passages in the same order) are one job: one generation
    (and one judging) serves them all, whatever the number of workers; rag.answer_sharing names the fields that
    mark it and counts the generations saved."""
    from rag.answer_sharing import SHARED, SHARED_WITH, group_jobs, request_key

    arms = {a.name: a for a in contexts}
    jobs = [(i, name) for i in range(len(queries)) for name in arms]
    requests = {}  # job -> (messages, context text)
    for i, name in jobs:
        arm, ctx = arms[name], contexts[arms[name]][i]
        if arm.name == CLOSED_BOOK and arm.is_bracket:
            requests[(i, name)] = (prompts.closed_book.messages(queries[i].text), "")
        else:
            passages = [docs[d] for d in ctx.ids]
            requests[(i, name)] = (prompts.answer.messages(queries[i].text, passages), format_context(passages))
    groups = group_jobs(jobs, lambda job: request_key(requests[job][0], cfg.max_tokens, cfg.temperature))

    def one(group: tuple[tuple[int, str], ...]) -> list[tuple[tuple[int, str], ArmResult]]:
        out, reply, judged, judged2 = [], None, None, None
        for n, (i, name) in enumerate(group):
            messages, context = requests[(i, name)]
            answer, fields, reply = _answer_one(llm, cfg, queries[i], contexts[arms[name]][i], messages, context, reply)
            fields[SHARED_WITH] = ";".join(other for _, other in group if other != name)
            fields[SHARED] = n > 0
            if judges is not None and n == 0:  # same question, context and answer: the same judgement
                reference = reference_text(queries[i], docs, references or {})
                ask = (judges.claims, judges.correctness, answer, reference, judges.repeats, judges.max_tokens)
                judged = judge_answer(judges.llm, *ask)
                judged2 = judge_answer(judges.second, *ask) if judges.second is not None else None
            out.append(((i, name), ArmResult(answer, fields, judged, judged2)))
        return out

    label = "answering" + (" and judging" if judges else "")
    results = {}
    for _, done in fan_out(one, [tuple(g) for g in groups], workers=cfg.workers, label=label, unit="prompts"):
        results.update(done)
    return results


# per-arm columns, grouped so that each group's arms sit side by side
CONTEXT_GROUPS = ("rank", "context_ids", "answer", "context_hit")
CORRECTNESS_FIELDS = ("correct", "f1", "names_wrong")
ANSWER_METRICS = (
    "prompt_tokens",
    "context_tokens",
    "context_chars",
    "answer_tokens",
    "latency_s",
    "finish_reason",
    "cached",
)
# the mean over judge repeats per answer (the repeats themselves are in the summary's statistics)
JUDGE_FIELDS = ("faithfulness", "correctness")


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def verdict_arms(arms: Sequence[Arm]) -> tuple[str, str]:
    """The pair the verdict column compares: the first two retriever arms (the first with itself if alone)."""
    retrievers = [a.name for a in arms if not a.is_bracket] or [a.name for a in arms]
    return retrievers[0], retrievers[min(1, len(retrievers) - 1)]


def build_rows(
    queries: list[Query],
    contexts: dict[Arm, list[ArmContext]],
    results: dict[tuple[int, str], ArmResult],
    scores: dict[str, list],
    judged: bool,
    top_k: int,
) -> list[dict]:
    """One row per query; the verdict is harness.outcomes' fixed/regressed at k = top_k (the prompt's passages)
    between the first two retriever arms; `scores[arm]` are rag.answer_metrics.AnswerScore in query order."""
    names = [a.name for a in contexts]
    ctx_by_name = {a.name: c for a, c in contexts.items()}
    first, second = verdict_arms(list(contexts))
    rows = []
    for i, q in enumerate(queries):
        row = {"query_id": q.id, "query": q.text, "relevant_ids": ";".join(sorted(q.relevant))}
        for name in names:
            ctx, res, score = ctx_by_name[name][i], results[(i, name)], scores[name][i]
            row[f"{name}_rank"] = ctx.rank
            row[f"{name}_context_ids"] = ";".join(ctx.ids)
            row[f"{name}_answer"] = res.answer.answer
            row[f"{name}_context_hit"] = ctx.hit
            row[f"{name}_correct"] = score.correct
            row[f"{name}_f1"] = score.f1
            row[f"{name}_names_wrong"] = score.names_wrong
            row.update({f"{name}_{m}": res.fields[m] for m in ANSWER_METRICS})
            if judged:
                row[f"{name}_faithfulness"] = _mean(res.judged.faithfulness)
                row[f"{name}_correctness"] = _mean(res.judged.correctness)
        row["verdict"] = verdict(ctx_by_name[first][i].rank, ctx_by_name[second][i].rank, top_k)
        rows.append(row)
    return rows


def report_columns(judged: bool, arms: Sequence[str] = ARMS) -> list[str]:
    cols = ["query_id", "query", "relevant_ids"]
    for group in CONTEXT_GROUPS + CORRECTNESS_FIELDS:
        cols += [f"{arm}_{group}" for arm in arms]
    cols.append("verdict")
    for metric in ANSWER_METRICS + (JUDGE_FIELDS if judged else ()):
        cols += [f"{arm}_{metric}" for arm in arms]
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
