"""Step 5: a local web page where a question goes to two or three retriever arms side by side (any kind step 3 takes:
base, fine-tuned, bm25, RRF or convex hybrids, reranked arms): the passages each found (rank, score, which ones only one of them found) and the answer an LLM writes from each, streamed. Tabs
browse reports/ and draw a PCA map of the embedding spaces.

The LLM is ragtune's own local server (Qwen2.5-Coder-1.5B GGUF via llama.cpp) unless --llm-base-url /
OPENAI_BASE_URL names any OpenAI-compatible endpoint (key from OPENAI_API_KEY). When the LLM cannot be started or
reached, retrieval still works and the answer areas say what failed.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field

from corpus.errors import RagtuneError
from corpus.options import check_options, option
from harness.arm_engine import ArmOptions
from harness.arms import DEFAULT_ARMS
from harness.retrieval_options import RetrievalOptions
from rag.llm_session import EndpointOptions


@dataclass
class ChatEndpointOptions(EndpointOptions):
    """LLM endpoint (default: ragtune's local server); a person waits, so fewer retries and a shorter timeout."""

    timeout: float = option(300.0, help="seconds per request", min=0.001)
    retries: int = option(1, help="retries on 429/5xx/connection errors", min=0)


@dataclass
class ChatStepConfig:
    data: str | None = option(None, help="BEIR folder or flat file (default: O*NET)")
    pool: str | None = option(
        None, help="passages to retrieve from (default: <data>/corpus_800.jsonl if it exists, else the whole corpus)"
    )
    arms: list[str] | None = option(
        None,
        help="arms shown side by side, as step 3 takes them: NAME=FOLDER, base, bm25, NAME=a+b, NAME=a+b:convex, "
        f"NAME=a>RERANKER (default: {' '.join(DEFAULT_ARMS)} when step 2 wrote it)",
    )
    top_k: int = option(3, help="passages per answer, changeable on the page", min=1)
    prompt: str | None = option(None, help="prompt template file with {question} and {context} (default: built-in)")
    max_tokens: int = option(160, help="answer length cap", min=1)
    temperature: float = option(0.0, help="sampling temperature", min=0.0)
    arm_options: ArmOptions = field(default_factory=ArmOptions)
    endpoint: ChatEndpointOptions = field(default_factory=ChatEndpointOptions)
    slots: int | None = option(None, help="answers the local server writes at once (default: one per arm)", min=1)
    host: str = option("127.0.0.1", help="address to bind (127.0.0.1: this machine only)")
    port: int = option(7860, help="port", min=0, max=65535)
    concurrency: int = option(4, help="questions answered at once", min=1)
    reports_dir: str | None = option(None, help="folder the report tab shows (default: reports/)")
    cache_dir: str | None = option(None, help="embedding cache folder (default: cache/embeddings)")
    retrieval: RetrievalOptions = field(default_factory=RetrievalOptions)

    def __post_init__(self):
        check_options(self)


@dataclass
class ChatResult:
    url: str
    config: object  # rag.chat_engine.ChatConfig: what the page shows (arms, pool, LLM, notes)
    problem: str | None  # why the LLM is unavailable, when it is
    app: object = None  # the Gradio app (closed once run() returns)
    shown: bool = field(default=False, repr=False)  # the facts table is printed once, before serving


def _arms(cfg: ChatStepConfig) -> tuple[list, list[str]]:
    """The arm specs, and the notes for the page (the same missing-model words as steps 3 and 4)."""
    from corpus.datasets import dataset_dir
    from corpus.paths import finetuned_dir
    from harness.arms import missing_finetuned_note, parse_arms

    notes = []
    finetuned = finetuned_dir(dataset_dir(cfg.data))
    if cfg.arms is None and not finetuned.exists():
        notes.append(missing_finetuned_note(finetuned))
    return parse_arms(cfg.arms, finetuned), notes


def _pool(cfg: ChatStepConfig, arms: list):
    """(the passages, the data folder shown, the dataset: needed for the pool and for fitting a convex weight)."""
    from corpus.datasets import open_dataset, resolve_pool
    from harness.arms import CONVEX

    needs_data = cfg.pool is None or (cfg.data is not None and any(a.fusion == CONVEX for a in arms))
    ds = open_dataset(cfg.data) if needs_data else None
    if cfg.pool is not None:
        return resolve_pool(cfg.pool, None), cfg.data or "", ds
    return resolve_pool(None, ds), str(ds.path), ds


def _open_llm(stack: ExitStack, cfg: ChatStepConfig, endpoint, slots: int):
    """(client or None, card, problem): the page is still worth opening without an LLM, retrieval works."""
    from corpus.console import console
    from rag.llm_session import open_client

    try:
        client, card, _ = open_client(
            stack, endpoint, cfg.endpoint.local(slots), cfg.endpoint.timeout, cfg.endpoint.retries
        )
        return client, card, None
    except RagtuneError as exc:
        problem = f"LLM unavailable, answers will fail: {exc}"
        console.print(f"[yellow]warning:[/] {problem}")
        return None, ({**endpoint.describe()} if endpoint else {"model": cfg.endpoint.local_model}), problem


def run(cfg: ChatStepConfig) -> ChatResult:
    """Open the page and serve it until Ctrl-C."""
    from corpus.paths import REPORTS_DIR
    from harness.arm_engine import ArmEngine
    from harness.embedding_cache import EmbeddingCache
    from harness.retrieval import retrieval_backend
    from rag import chat_app
    from rag.chat_engine import ChatConfig, ChatEngine
    from rag.prompts import load_template

    template = load_template(cfg.prompt)  # a bad template fails before anything slow
    arms, notes = _arms(cfg)
    endpoint = cfg.endpoint.endpoint()
    pool, data, ds = _pool(cfg, arms)
    if not pool.docs:
        raise RagtuneError(f"{pool.source}: no passages to retrieve from")
    page = ChatConfig(
        data=data, pool=pool.source, pool_documents=len(pool.docs), arms={a.name: a.text for a in arms}, notes=notes, top_k=cfg.top_k,
        max_tokens=cfg.max_tokens, temperature=cfg.temperature, prompt=template.source,
        prompt_fingerprint=template.fingerprint, reports_dir=cfg.reports_dir or str(REPORTS_DIR), host=cfg.host,
        port=cfg.port, concurrency=cfg.concurrency,
    )  # fmt: skip
    with ExitStack() as stack:
        # the store stays open while the page serves: a local server stops when the block ends
        backend = stack.enter_context(retrieval_backend(cfg.retrieval))
        engine = ArmEngine(
            arms, pool.docs, dataset=ds, options=cfg.arm_options, retrieval=cfg.retrieval,
            cache=EmbeddingCache(cfg.cache_dir), backend=backend, cache_queries=False,
        ).prepare()  # fmt: skip
        page.fitted = engine.fitted()
        llm, page.llm, problem = _open_llm(stack, cfg, endpoint, cfg.slots or len(arms))
        app = chat_app.build_app(ChatEngine(pool.docs, engine, template, llm, problem), page)
        result = ChatResult(f"http://{cfg.host}:{cfg.port}", page, problem, app)
        show(result)  # before serving: the address is what the person needs now
        chat_app.serve(app, page, block=True)
    return result


def show(result: ChatResult) -> None:
    from rich.table import Table

    from corpus.console import console

    if result.shown:
        return
    page = result.config
    facts = Table(title="ragtune chatbot")
    facts.add_column("what")
    facts.add_column("value")
    for arm, spec in page.arms.items():
        fit = page.fitted.get(arm)
        facts.add_row(
            f"arm {arm}", spec + (f" (weight {fit['weight']:.1f} on {fit['first']}, {fit['dev']})" if fit else "")
        )
    facts.add_row("passages", f"{page.pool_documents:,} from {page.pool}")
    facts.add_row(
        "LLM", f"{page.llm.get('model', '')} ({'unavailable' if result.problem else page.llm.get('base_url', '')})"
    )
    facts.add_row("page", f"{result.url}  (Ctrl-C to stop)")
    for note in page.notes:
        facts.add_row("note", note)
    console.print(facts)
    result.shown = True
