"""Step 4's pipeline: RAG answers side by side. For each test query, every retriever arm (as step 3: base, fine-tuned, bm25, ...)
fills the prompt with its top-k passages, and two brackets answer too: oracle (the relevant documents) and, with
--closed-book, the question alone. Answers are scored without a judge where the data allows (O*NET: the answer names
the relevant occupation; own data: SQuAD EM/F1 against answers.jsonl), optionally by an LLM judge (claim
faithfulness, answer correctness; --judge-repeats for its noise), and every pair of arms gets paired CIs,
p-values and the retrieval × answer join: the headline of rag_compare_summary.md.

The LLM is ragtune's own local server (Qwen2.5-Coder-1.5B GGUF via llama.cpp, no key, no network) unless
--llm-base-url / OPENAI_BASE_URL names any OpenAI-compatible endpoint (key from OPENAI_API_KEY).
The default answers 10 queries × base, fine-tuned and the oracle (4.2 minutes on 2 idle CPU cores, measured):
intervals on 10 queries are wide.
The whole test split against an OpenAI-compatible endpoint (vLLM, Ollama, OpenAI), resumable from the answer cache:

    4_rag_compare.py --limit 0 --workers 8 --llm-base-url http://HOST:8000/v1 --llm-model MODEL \\
        --arms base=base finetuned=runs/finetuned/final bm25 --closed-book --judge
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from corpus.errors import RagtuneError
from rag import answer_report
from rag.rag_config import RagConfig

REPORT_MINUTES = 0.3  # scoring, statistics and writing the reports after the last answer (measured ~15 s)


@dataclass
class RagResult:
    out: Path
    report: Path  # rag_compare_report.csv
    queries: int
    summary: object  # pandas DataFrame: the summary CSV's rows
    cache_hits: int  # LLM replies reused
    cache_misses: int  # LLM replies asked
    card: dict  # rag_compare_card.json
    evaluation: object = None  # rag.answer_evaluation.AnswerEvaluation: means, paired deltas, joins, agreement


def _arms(cfg: RagConfig) -> list:
    """Retriever arms in the order given, then the brackets; every arm's name is its report column prefix."""
    from corpus.console import console
    from corpus.datasets import dataset_dir
    from corpus.models import resolve_model_path
    from corpus.paths import finetuned_dir
    from harness.arms import DENSE, parse_arms
    from rag.answer_comparison import BRACKETS, CLOSED_BOOK, ORACLE, Arm

    specs = parse_arms(cfg.arms, finetuned_dir(dataset_dir(cfg.data)))
    if not specs:
        raise RagtuneError("step 4 needs at least one retriever arm, e.g. --arms base=base")
    clash = [s.name for s in specs if s.name in BRACKETS]
    if clash:
        raise RagtuneError(f"--arms: {', '.join(clash)} is a bracket's name (--closed-book, --oracle); rename the arm")
    if cfg.arms is None and len(specs) < 2:
        raise RagtuneError(
            "step 4 compares the fine-tuned retriever with the base one, and there is no fine-tuned model "
            "(train one with step 2, or pass --arms base=base finetuned=base to compare the base model with itself)"
        )
    dense = [resolve_model_path(s.model).resolve() for s in specs if s.kind == DENSE]
    if len(dense) >= 2 and len(set(dense)) < len(dense):
        console.print(
            "[yellow]warning:[/] two arms use the same embedder: their verdicts will be both_hit or both_miss"
        )
    brackets = [name for name, on in ((CLOSED_BOOK, cfg.closed_book), (ORACLE, cfg.oracle)) if on]
    return [Arm(s.name, s) for s in specs] + [Arm(name) for name in brackets]


def _judge2_endpoint(cfg: RagConfig):
    from rag.llm_client import EndpointConfig

    if not cfg.judge2_base_url and not cfg.judge2_model:
        return None
    if not (cfg.judge2_base_url and cfg.judge2_model):
        raise RagtuneError("--judge2-base-url and --judge2-model go together")
    if not cfg.judge:
        raise RagtuneError("--judge2-base-url needs --judge (the second judge checks the first)")
    return EndpointConfig(
        cfg.judge2_base_url.rstrip("/"),
        cfg.judge2_model,
        cfg.judge_api_key_env or cfg.endpoint.llm_api_key_env,
        cfg.endpoint.timeout,
        cfg.endpoint.retries,
    )


def _judge_endpoint(cfg: RagConfig, endpoint):
    from rag.llm_client import EndpointConfig

    if not cfg.judge or not (cfg.judge_base_url or cfg.judge_model):
        return None
    if endpoint is None and not cfg.judge_base_url:
        raise RagtuneError("--judge-model needs --judge-base-url when answers come from the local server")
    judge = EndpointConfig(
        (cfg.judge_base_url or endpoint.base_url).rstrip("/"),
        cfg.judge_model or (endpoint.model if endpoint else ""),
        cfg.judge_api_key_env or cfg.endpoint.llm_api_key_env,
        cfg.endpoint.timeout,
        cfg.endpoint.retries,
    )
    if not judge.model:
        raise RagtuneError("--judge-model is required with --judge-base-url")
    return judge


@dataclass
class _Llms:
    client: object  # LLMClient, or the lazy local client (its .started says whether the server ran)
    llm: object
    judge_llm: object | None
    answer_cache: object
    llm_card: dict
    judge_card: dict
    judge2_llm: object | None = None
    judge2_card: dict = field(default_factory=dict)


def _judge2(cfg: RagConfig, answer_cache, llms: _Llms) -> _Llms:
    from rag.cached_llm import CachedLLM
    from rag.llm_client import LLMClient

    endpoint = _judge2_endpoint(cfg)
    if endpoint is None:
        return llms
    client = LLMClient(endpoint)
    client.check()
    llms.judge2_llm = CachedLLM(client, answer_cache, f"{endpoint.base_url}|{endpoint.model}")
    llms.judge2_card = endpoint.describe()
    return llms


def _llms(stack: ExitStack, cfg: RagConfig, endpoint, judge_endpoint) -> _Llms:
    """The answer LLM (and judge) behind the answer cache; an unreachable endpoint fails here, before the embedders
    load, and the local server starts only on the first reply the cache lacks."""
    from rag.answer_cache import AnswerCache
    from rag.cached_llm import CachedLLM
    from rag.llm_client import LLMClient
    from rag.llm_session import open_client

    client, llm_card, model_key = open_client(
        stack,
        endpoint,
        cfg.endpoint.local(cfg.workers, deterministic=True),
        cfg.endpoint.timeout,
        cfg.endpoint.retries,
        lazy=True,
    )
    judge_client = None
    if judge_endpoint is not None:
        judge_client = LLMClient(judge_endpoint)
        judge_client.check()
    answer_cache = AnswerCache(policy=cfg.cache)
    token_cache = AnswerCache(answer_cache.folder.with_name("tokens"), policy=cfg.cache)
    llm = CachedLLM(client, answer_cache, model_key, token_cache=token_cache)
    if not cfg.judge:
        return _Llms(client, llm, None, answer_cache, llm_card, {})
    if judge_client is None:
        return _judge2(cfg, answer_cache, _Llms(client, llm, llm, answer_cache, llm_card, {"same_as": "llm"}))
    judge_llm = CachedLLM(judge_client, answer_cache, f"{judge_endpoint.base_url}|{judge_endpoint.model}")
    return _judge2(cfg, answer_cache, _Llms(client, llm, judge_llm, answer_cache, llm_card, judge_endpoint.describe()))


def _judges(cfg: RagConfig, llms: _Llms):
    from rag.answer_comparison import Judges
    from rag.judge import load_judge_prompt

    if llms.judge_llm is None:
        return None
    return Judges(
        llms.judge_llm,
        load_judge_prompt("judge_claims", cfg.judge_claims_prompt),
        load_judge_prompt("judge_correctness", cfg.judge_correctness_prompt),
        cfg.judge_repeats,
        second=llms.judge2_llm,
    )


def compare(cfg: RagConfig) -> RagResult:
    """Answer the split's queries from every arm and the brackets, score and compare the answers, write the report
    set and the review page."""
    from corpus.answers import load_dataset_answers
    from corpus.console import console
    from corpus.datasets import open_dataset, resolve_pool
    from corpus.output_location import check_output_dir
    from corpus.paths import REPORTS_DIR
    from harness.embedding_cache import EmbeddingCache
    from rag import answer_comparison
    from rag.brackets import load_closed_book_prompt
    from rag.prompts import load_template

    started = time.perf_counter()
    template = load_template(cfg.prompt)  # bad prompts and outputs fail before anything slow
    closed_book = load_closed_book_prompt(cfg.closed_book_prompt)
    out = check_output_dir(cfg.out or REPORTS_DIR)
    arms = _arms(cfg)
    endpoint = cfg.endpoint.endpoint()
    judge_endpoint = _judge_endpoint(cfg, endpoint)
    _judge2_endpoint(cfg)  # a half-given second judge fails now, before anything slow
    with ExitStack() as stack:
        llms = _llms(stack, cfg, endpoint, judge_endpoint)
        judges = _judges(cfg, llms)
        ds = open_dataset(cfg.data)
        pool = resolve_pool(cfg.pool, ds)
        split = answer_comparison.select_queries(ds, cfg.split, 0)
        answer_comparison.check_pool(split, pool.docs, pool.source)
        references = load_dataset_answers(ds.path, {q.id for q in split})
        emb_cache = EmbeddingCache()
        split_contexts, fitted = _contexts(cfg, arms, split, ds, pool.docs, emb_cache)
        prompts = answer_comparison.Prompts(template, closed_book)
        ask = partial(answer_comparison.generate, llms.llm, judges, cfg, prompts, docs=pool.docs, references=references)
        design = _design(cfg, arms, split, split_contexts)
        sample, plan = _sample(cfg, arms, design, split, split_contexts, ask, started)
        drawn = set(sample.query_ids)
        chosen = [i for i, q in enumerate(split) if q.id in drawn]  # listed in id order
        queries = [split[i] for i in chosen]
        contexts = {arm: [ctxs[i] for i in chosen] for arm, ctxs in split_contexts.items()}
        console.print(
            f"answering {len(queries)} of {len(split)} queries × {len(arms)} arms ({sample.prompts} distinct prompts) "
            f"with [bold]{llms.llm_card.get('model', '')}[/] (top-{cfg.top_k}, ≤ {cfg.max_tokens} tokens, "
            f"{cfg.workers} worker(s))"
        )
        results = ask(queries, contexts)
        if hasattr(llms.client, "started"):  # the local server starts only for replies the cache lacks
            llms.llm_card["server_started"] = llms.client.started
    card = {
        **cfg.card(),
        "data": str(ds.path),
        "pool": pool.source,
        "arms": [a.spec.text if a.spec else a.name for a in arms],
        "fitted": fitted,
        "prompt": template.source,
        "prompt_fingerprint": template.fingerprint,
        "closed_book_prompt": closed_book.source,
        "out": str(out),
        "llm": llms.llm_card,
        "judge_llm": llms.judge_card,
        "judge2_llm": llms.judge2_card,
        "design": _design_card(design, sample, plan, results),
    }
    ev, scores = _evaluate(cfg, arms, queries, results, pool.docs, references)
    ev.design = _design_summary(cfg, arms, sample, queries, scores)
    rows = answer_report.build_rows(queries, contexts, results, scores, cfg.judge, cfg.top_k)
    counts = (len(queries), len(pool.docs))
    result = _write(out, rows, [a.name for a in arms], ev, card, counts, llms.answer_cache, emb_cache)
    _write_page(out, pool.docs)
    return result


def _design(cfg: RagConfig, arms: list, split: list, contexts: dict):
    """The split's queries stratified by each retriever pair's verdict at --top-k and whether their contexts are the
    same (rag.answer_design), in the order the allocation draws them."""
    from rag.answer_design import design, strata_from_ranks

    retrievers = [a for a in arms if not a.is_bracket]
    pairs = [(retrievers[0].name, b.name) for b in retrievers[1:]]
    strata = strata_from_ranks(
        [q.id for q in split],
        {a.name: [c.rank for c in contexts[a]] for a in retrievers},
        {a.name: [tuple(c.ids) for c in contexts[a]] for a in retrievers},
        pairs,
        cfg.top_k,
        brackets=len(arms) - len(retrievers),
    )
    return design(strata, seed=cfg.seed)


def _sample(cfg: RagConfig, arms: list, design, split: list, contexts: dict, ask, started: float):
    """(the sample to answer, the plan or None): --limit queries of the draw order, or what --budget minutes buy at
    the seconds per answer measured on the design's first query (a cached reply keeps its measured seconds, so a
    rerun plans the same sample)."""
    from corpus.console import console
    from rag.answer_power import plan

    if cfg.budget is None:
        return design.sample(n_queries=cfg.limit or None), None
    first = next(i for i, q in enumerate(split) if q.id == design.draw[0])
    warm = ask([split[first]], {arm: [ctxs[first]] for arm, ctxs in contexts.items()})
    seconds = [r.fields["latency_s"] for r in warm.values() if not r.fields.get("shared")]
    per_answer = max(sum(seconds) / max(len(seconds), 1), 0.01)
    spent = (time.perf_counter() - started) / 60 + REPORT_MINUTES
    p = plan(design, cfg.budget, per_answer, arms=len(arms), overhead_minutes=spent)
    for line in p.lines():
        console.print(line)
    if p.sample.n == 0:  # the budget is spent before the first answer: report the one already written
        console.print(f"[yellow]note:[/] --budget {cfg.budget:g} covers only the query answered to measure the speed")
        return design.sample(n_queries=1), p
    return p.sample, p


def _design_card(design, sample, plan, results: dict) -> dict:
    from rag.answer_sharing import generations_saved

    shared = generations_saved(r.fields for r in results.values())
    return {
        "seed": design.seed,
        "strata": dict(sorted(design.sizes.items())),
        "answered": dict(sorted(sample.drawn.items())),
        "queries": sample.n,
        "generations": len(results) - shared,
        "answers_shared": shared,
        "plan": None
        if plan is None
        else {
            "budget_minutes": plan.budget_minutes,
            "seconds_per_answer": plan.seconds_per_answer,
            "expected_minutes": plan.minutes,
            "expected_mde": plan.expected_mde,
        },
    }


def _design_summary(cfg: RagConfig, arms: list, sample, queries: list, scores: dict):
    """Each arm's correctness and each pair's difference estimated for the whole split from the stratified sample,
    with what the run could detect (None when the answers have no judge-free correctness)."""
    from rag.answer_power import summarise

    values = {}
    for arm in arms:
        correct = [s.correct for s in scores[arm.name]]
        if any(c is None for c in correct):
            return None
        values[arm.name] = {q.id: float(c) for q, c in zip(queries, correct, strict=True)}
    names = [a.name for a in arms]
    pairs = [(names[0], b) for b in names[1:]]
    return summarise(sample, values, pairs, effect=cfg.effect)


def _contexts(cfg: RagConfig, arms: list, queries, ds, docs: dict, emb_cache) -> tuple[dict, dict]:
    """Every arm's contexts from the arm engine (retriever arms first: the oracle pads from the first one's
    ranking), and what the engine fitted (convex weights) for the card."""
    from harness.arm_engine import ArmEngine
    from harness.retrieval import retrieval_backend
    from rag import answer_comparison as ac

    retrievers = [a for a in arms if not a.is_bracket]
    depth = max(cfg.top_k, min(ac.RANK_DEPTH, len(docs)))
    with retrieval_backend(cfg.retrieval) as backend:
        engine = ArmEngine(
            [a.spec for a in retrievers], docs, dataset=ds, options=cfg.arm_options, retrieval=cfg.retrieval,
            cache=emb_cache, backend=backend,
        )  # fmt: skip
        (rankings,) = engine.rank([q.text for q in queries], depth)
        fitted = engine.fitted()
    contexts = {
        arm: ac.arm_contexts(run.ids(engine.doc_ids), queries, cfg.top_k)
        for arm, run in zip(retrievers, rankings, strict=True)
    }
    first = next(iter(contexts.values()))
    for arm in arms:
        if arm.is_bracket:
            contexts[arm] = ac.bracket_contexts(arm.name, queries, first, docs, cfg.top_k)
    return contexts, fitted


def _evaluate(cfg: RagConfig, arms: list, queries, results: dict, docs: dict, references: dict):
    """Every arm's scores, then the paired statistics and joins over all of them."""
    from rag.answer_evaluation import evaluate_answers, metric_values, score_arm
    from rag.answer_metrics import TitleIndex

    titles = TitleIndex(docs.values())
    answers, values, second, scores = {}, {}, {}, {}
    for arm in arms:
        res = [results[(i, arm.name)] for i in range(len(queries))]
        answers[arm.name] = [r.answer for r in res]
        scores[arm.name] = score_arm(answers[arm.name], titles, references)
        values[arm.name] = metric_values(scores[arm.name], [r.judged for r in res] if cfg.judge else None)
        if res and res[0].judged2 is not None:
            second[arm.name] = metric_values([], [r.judged2 for r in res])
    ev = evaluate_answers(
        answers, values, k=cfg.top_k, second_judge=second or None, samples=cfg.bootstrap, seed=cfg.seed
    )
    return ev, scores


def _write_page(out: Path, docs: dict) -> None:
    """reports/index.html reads both steps' published sets: written last."""
    from rag.report_page import write_page

    write_page(out, docs)


def _write(out: Path, rows, arms: list[str], ev, run_card: dict, counts, answer_cache, emb_cache) -> RagResult:
    import pandas as pd

    from corpus.jsonl import write_json
    from corpus.report_set import report_set

    n_queries, n_docs = counts
    with report_set(out, "rag_compare") as staging:
        report_path, df = answer_report.write_report(rows, run_card["judge"], staging, arms)
        summary = pd.concat(
            [
                answer_report.summarise(df, run_card["judge"]),
                answer_report.evidence_rows(ev),
                answer_report.design_rows(ev),
            ]
        )
        summary.to_csv(staging / answer_report.SUMMARY_CSV, index=False)
        answer_report.write_join_csv(ev, staging)
        answer_report.plot_join(ev, staging)
        card = {
            **run_card,
            "queries": n_queries,
            "pool_documents": n_docs,
            "answer_cache": {
                "hits": answer_cache.hits, "misses": answer_cache.misses, "folder": str(answer_cache.folder)
            },
            "embedding_cache": {"hits": emb_cache.hits, "misses": emb_cache.misses, "reused_rows": emb_cache.reused_rows},
            "outputs": sorted(p.name for p in staging.iterdir())
            + [answer_report.SUMMARY_MD, answer_report.PLOT_PNG, answer_report.CARD_JSON],
        }  # fmt: skip
        evidence = answer_report.evidence_markdown(ev, samples=run_card["bootstrap"])
        (staging / answer_report.SUMMARY_MD).write_text(
            answer_report.summary_markdown(summary, card, evidence), encoding="utf-8"
        )
        answer_report.plot(df, run_card["judge"], staging / answer_report.PLOT_PNG)
        write_json(staging / answer_report.CARD_JSON, card)
    report_path = out / report_path.name  # the staging folder is gone once published
    return RagResult(out, report_path, n_queries, summary, answer_cache.hits, answer_cache.misses, card, ev)
