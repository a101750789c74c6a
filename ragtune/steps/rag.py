"""Step 4: RAG answers side by side. For each test query, the base and the fine-tuned retriever each fill the prompt
with their top-k passages, an LLM answers from each, and the report shows query by query where fine-tuning fixed or
broke the context (optionally judged by an LLM).

The LLM is ragtune's own local server (Qwen2.5-Coder-1.5B GGUF via llama.cpp, no key, no network) unless
--llm-base-url / OPENAI_BASE_URL names any OpenAI-compatible endpoint (key from OPENAI_API_KEY).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from corpus.cache_policy import CACHE_POLICIES, CachePolicy
from corpus.errors import RagtuneError
from corpus.options import check_options, option
from harness.arms import DEFAULT_ARMS
from rag.llm_session import EndpointOptions


@dataclass
class RagConfig:
    data: str | None = option(None, help="BEIR folder or flat file (default: O*NET)")
    split: str = option("test", help="split whose queries are answered")
    pool: str | None = option(
        None,
        help="candidate pool JSONL from step 1 (default: <data>/corpus_800.jsonl if it exists, else the whole corpus)",
    )
    limit: int = option(5, help="queries to answer, in id order; 0 = all", min=0)
    top_k: int = option(3, help="passages per prompt", min=1)
    arms: list[str] | None = option(
        None, help=f"the two dense arms compared, baseline first (default: {' '.join(DEFAULT_ARMS)})"
    )
    prompt: str | None = option(None, help="prompt template file with {question} and {context} (default: built-in)")
    max_tokens: int = option(128, help="answer length cap", min=1)
    temperature: float = option(0.0, help="sampling temperature", min=0.0)
    workers: int = option(1, help="requests in flight at once", min=1)
    cache: CachePolicy = option(CachePolicy.REUSE, help="answer cache: reuse or recompute", choices=CACHE_POLICIES)
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)
    judge: bool = option(False, help="score faithfulness and correctness with an LLM")
    judge_base_url: str | None = option(None, help="judge endpoint (default: the answer endpoint)")
    judge_model: str | None = option(None, help="judge model (default: the answer model)")
    judge_api_key_env: str | None = option(None, help="judge key variable (default: --llm-api-key-env)")
    out: str | None = option(None, help="where reports go (default: reports/)")

    def __post_init__(self):
        check_options(self)


@dataclass
class RagResult:
    out: Path
    report: Path  # rag_compare_report.csv
    queries: int
    summary: object  # pandas DataFrame: the summary CSV's rows
    cache_hits: int  # LLM replies reused
    cache_misses: int  # LLM replies asked
    card: dict  # rag_compare_card.json


def _two_arms(cfg: RagConfig):
    from corpus.console import console
    from corpus.models import resolve_model_path
    from harness.arms import DENSE, parse_arms

    arms = parse_arms(cfg.arms)
    if len(arms) != 2 or any(a.kind != DENSE for a in arms):
        got = ", ".join(a.text for a in arms) or "none"
        raise RagtuneError(
            f"step 4 compares exactly two dense arms, got: {got} (train one with step 2, or pass --arms base=base "
            "finetuned=base to compare the base model with itself)"
        )
    base, tuned = resolve_model_path(arms[0].model), resolve_model_path(arms[1].model)
    if base.resolve() == tuned.resolve():
        console.print(
            "[yellow]warning:[/] both arms use the same embedder: every verdict will be both_hit or both_miss"
        )
    return arms[0].model, arms[1].model, base, tuned


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


def _llms(stack: ExitStack, cfg: RagConfig, endpoint, judge_endpoint) -> _Llms:
    """The answer LLM (and judge) behind the answer cache; an unreachable endpoint fails here, before the embedders
    load, and the local server starts only on the first reply the cache lacks."""
    from rag.answer_cache import AnswerCache
    from rag.cached_llm import CachedLLM
    from rag.llm_client import LLMClient
    from rag.llm_session import open_client

    client, llm_card, model_key = open_client(
        stack, endpoint, cfg.endpoint.local(cfg.workers), cfg.endpoint.timeout, cfg.endpoint.retries, lazy=True
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
        return _Llms(client, llm, llm, answer_cache, llm_card, {"same_as": "llm"})
    judge_llm = CachedLLM(judge_client, answer_cache, f"{judge_endpoint.base_url}|{judge_endpoint.model}")
    return _Llms(client, llm, judge_llm, answer_cache, llm_card, judge_endpoint.describe())


def run(cfg: RagConfig) -> RagResult:
    from corpus.console import console
    from corpus.datasets import open_dataset, resolve_pool
    from corpus.paths import REPORTS_DIR
    from harness.embedding_cache import EmbeddingCache
    from rag import answer_comparison
    from rag.prompts import load_template

    template = load_template(cfg.prompt)  # a bad template fails before anything slow
    base_spec, tuned_spec, base_path, tuned_path = _two_arms(cfg)
    endpoint = cfg.endpoint.endpoint()
    judge_endpoint = _judge_endpoint(cfg, endpoint)
    out = Path(cfg.out) if cfg.out else REPORTS_DIR
    with ExitStack() as stack:
        llms = _llms(stack, cfg, endpoint, judge_endpoint)
        ds = open_dataset(cfg.data)
        pool = resolve_pool(cfg.pool, ds)
        queries = answer_comparison.select_queries(ds, cfg.split, cfg.limit)
        answer_comparison.check_pool(queries, pool.docs, pool.source)
        run_cfg = answer_comparison.RunConfig(
            data=str(ds.path), split=cfg.split, pool=pool.source, limit=cfg.limit, top_k=cfg.top_k,
            base=str(base_path), finetuned=str(tuned_path), max_tokens=cfg.max_tokens, temperature=cfg.temperature,
            prompt=template.source, prompt_fingerprint=template.fingerprint, workers=cfg.workers, judge=cfg.judge,
            cache_policy=cfg.cache, out_dir=str(out), llm=llms.llm_card, judge_llm=llms.judge_card,
        )  # fmt: skip
        emb_cache = EmbeddingCache()
        contexts = {
            arm: answer_comparison.retrieve_arm(spec, arm, queries, pool.docs, cfg.top_k, emb_cache)
            for arm, spec in (("base", base_spec), ("finetuned", tuned_spec))
        }
        console.print(
            f"answering {len(queries)} queries × 2 arms with [bold]{run_cfg.llm['model']}[/] "
            f"(top-{cfg.top_k}, ≤ {cfg.max_tokens} tokens, {cfg.workers} worker(s))"
        )
        answers = answer_comparison.generate(llms.llm, llms.judge_llm, run_cfg, template, queries, contexts, pool.docs)
        if hasattr(llms.client, "started"):  # the local server starts only for replies the cache lacks
            run_cfg.llm["server_started"] = llms.client.started
    rows = answer_comparison.build_rows(queries, contexts, answers, cfg.judge, cfg.top_k)
    return _write(out, rows, run_cfg, len(queries), len(pool.docs), llms.answer_cache, emb_cache)


def _write(out: Path, rows, run_cfg, n_queries: int, n_docs: int, answer_cache, emb_cache) -> RagResult:
    from corpus.jsonl import write_json
    from rag import answer_report

    report_path, df = answer_report.write_report(rows, run_cfg.judge, out)
    summary = answer_report.summarise(df, run_cfg.judge)
    summary.to_csv(out / answer_report.SUMMARY_CSV, index=False)
    card = {
        **run_cfg.card(),
        "queries": n_queries,
        "pool_documents": n_docs,
        "answer_cache": {"hits": answer_cache.hits, "misses": answer_cache.misses, "folder": str(answer_cache.folder)},
        "embedding_cache": {"hits": emb_cache.hits, "misses": emb_cache.misses},
        "outputs": [
            answer_report.REPORT_CSV,
            answer_report.SUMMARY_CSV,
            answer_report.SUMMARY_MD,
            answer_report.PLOT_PNG,
        ],
    }
    (out / answer_report.SUMMARY_MD).write_text(answer_report.summary_markdown(summary, card), encoding="utf-8")
    answer_report.plot(df, run_cfg.judge, out / answer_report.PLOT_PNG)
    write_json(out / answer_report.CARD_JSON, card)
    return RagResult(out, report_path, n_queries, summary, answer_cache.hits, answer_cache.misses, card)


def show(result: RagResult) -> None:
    from rich.table import Table

    from corpus.console import console
    from rag import answer_report

    console.print(answer_report.summary_table(result.summary))
    facts = Table(title="run")
    facts.add_column("what")
    facts.add_column("value", justify="right")
    facts.add_row("queries × arms", f"{result.queries} × 2")
    facts.add_row("LLM requests cached / new", f"{result.cache_hits} / {result.cache_misses}")
    facts.add_row("report", str(result.report))
    facts.add_row(
        "summary, picture, card", f"{answer_report.SUMMARY_MD}, {answer_report.PLOT_PNG}, {answer_report.CARD_JSON}"
    )
    console.print(facts)
