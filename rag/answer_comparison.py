"""The side-by-side comparison's pieces: per query, what each arm put in the context (from the rankings of
harness.arm_engine) and the answer an LLM wrote from it, one generation per distinct prompt.

Arms are the retriever arms of step 3 (`harness.arms`: any kind) in the order given, then the two
brackets: closed book (the question alone, no retrieval) and oracle (the relevant documents, padded to top-k
with the first arm's best non-relevant ones). Each arm's name is its report column prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from corpus.beir import Document, document_text
from corpus.console import console
from corpus.errors import RagtuneError
from corpus.splits import stable_order
from harness.arms import ArmSpec
from harness.outcomes import hit_at
from rag.answer_evaluation import ArmAnswer, JudgeScores, judge_answer
from rag.brackets import ClosedBookPrompt, oracle_context
from rag.cached_llm import CachedLLM
from rag.fan_out import fan_out
from rag.judge import JudgePrompt
from rag.prompts import PromptTemplate, format_context
from rag.rag_config import RagConfig

# the two arms of a plain run (report_columns' default, the chatbot's report tab)
ARMS = ("base", "finetuned")
CLOSED_BOOK, ORACLE = "closed_book", "oracle"
BRACKETS = (CLOSED_BOOK, ORACLE)
# how deep to look for the first relevant document: beyond top-k, so a move from rank 7 to 2 is visible
RANK_DEPTH = 100


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
    llm: CachedLLM, cfg: RagConfig, q: Query, ctx: ArmContext, messages: list[dict], context: str, reply=None
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
    cfg: RagConfig,
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
