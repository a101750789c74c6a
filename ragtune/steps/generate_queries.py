"""Step 0a (own documents only): turn documents without queries into a BEIR dataset with LLM-written queries.

Then run the usual steps on it: `ragtune triplets --data DIR`, `ragtune pool --data DIR`, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.cache_policy import CACHE_POLICIES, CachePolicy
from corpus.documents import MIN_CHUNK_TOKENS, SplitterConfig
from corpus.options import check_options, option
from rag.llm_session import EndpointOptions
from rag.query_filters import FilterConfig
from rag.query_generation import GenerationConfig

_S, _F, _G = SplitterConfig(), FilterConfig(), GenerationConfig()


@dataclass
class QueryEndpointOptions(EndpointOptions):
    """LLM endpoint (default: ragtune's local server); prompts are one passage long, so a smaller context."""

    ctx: int = option(2048, help="local server context tokens per request", min=1)


@dataclass
class GenerateQueriesConfig:
    from_docs: str = option(
        "",
        help="folder of .pdf/.html/.docx/.md/.txt files (searched recursively), one such file, a CSV or JSONL file, "
        "or a BEIR corpus.jsonl (required)",
    )
    out: str | None = option(
        None, help="output dataset folder (default: data/<name of PATH>, data/<name>_generated for a BEIR corpus)"
    )
    text_column: str = option("text", help="CSV/JSONL: column with the text")
    title_column: str | None = option(None, help="CSV/JSONL: column with a title (default: 'title' if present)")
    id_column: str | None = option(
        None, help="CSV/JSONL: column with a document id (default: '_id' or 'id' if present, else the line number)"
    )
    chunk_size: int = option(
        _S.chunk_size, help="passage length in tokens of the embedder (--embedder)", min=MIN_CHUNK_TOKENS
    )
    chunk_overlap: int = option(_S.chunk_overlap, help="tokens shared by neighbouring passages", min=0)
    max_docs: int | None = option(None, help="only the first N documents, for a quick look", min=1)
    max_passages: int | None = option(
        None, help="ask queries for N passages (a seeded sample); the others stay in the corpus as distractors", min=1
    )
    queries_per_passage: int = option(_G.queries_per_passage, help="queries asked per passage", min=1)
    query_prompt: str | None = option(
        None, help="prompt template file with {passage} and {n} (optional {title}, {hint}); default: built-in"
    )
    domain_hint: str | None = option(None, help="one line of style for the domain, e.g. example queries of your users")
    max_per_doc: int = option(_F.max_per_doc, help="queries kept per source document (0 = no cap)", min=0)
    min_words: int = option(_F.min_words, help="shortest query kept, in words", min=0)
    max_words: int = option(_F.max_words, help="longest query kept, in words", min=1)
    copy_ngram: int = option(
        _F.copy_ngram, help="drop a query sharing this many consecutive words with its passage", min=1
    )
    near_duplicate: float = option(
        _F.near_duplicate_cosine,
        help="drop a query this similar (cosine) to another of the same document (above 1 = off)",
        min=-1.0,
    )
    round_trip_k: int = option(
        _F.round_trip_k, help="keep a query only if the base embedder ranks its passage in this top-k (0 = off)", min=0
    )
    embedder: str = option("base", help="embedder for those two checks (default: shipped MiniLM)")
    dev_share: float = option(_G.dev_share, help="share of documents for dev", min=0.0, max=1.0)
    test_share: float = option(_G.test_share, help="share of documents for test", min=0.0, max=1.0)
    seed: int = option(_G.seed, help="seed of the splits and caps")
    endpoint: QueryEndpointOptions = field(default_factory=QueryEndpointOptions)
    max_tokens: int = option(_G.max_tokens, help="reply length cap per passage", min=8)
    temperature: float = option(_G.temperature, help="sampling temperature", min=0.0)
    workers: int = option(_G.workers, help="requests in flight at once", min=1)
    cache: CachePolicy = option(CachePolicy.REUSE, help="LLM reply cache: reuse or recompute", choices=CACHE_POLICIES)

    def __post_init__(self):
        from corpus.errors import RagtuneError

        check_options(self)
        if not self.from_docs:
            raise RagtuneError("--from-docs is required: a folder of documents, a CSV or JSONL file")
        if self.max_words < self.min_words:
            raise RagtuneError("--max-words must be ≥ --min-words")


@dataclass
class GenerateQueriesResult:
    out: Path  # the BEIR dataset folder
    documents: int
    passages: int
    queries_asked: int
    queries_kept: int
    stale: list[str]  # files of an earlier run (pools, triplets) that no longer match the dataset
    card: dict  # the dataset card (counts, filters, LLM calls)


def default_out(source) -> Path:
    from corpus.paths import DATA_DIR

    source = Path(source)
    if source.name == "corpus.jsonl" or (source / "corpus.jsonl").is_file():
        # the folder around a BEIR corpus is that dataset itself: never write into it
        folder = source.parent if source.name == "corpus.jsonl" else source
        return DATA_DIR / f"{folder.resolve().name}_generated"
    return DATA_DIR / (source.stem if source.is_file() else source.resolve().name)


def _generation_config(cfg: GenerateQueriesConfig, out: Path, columns, splitter, prompt) -> GenerationConfig:
    from dataclasses import asdict

    filters = FilterConfig(
        cfg.min_words, cfg.max_words, cfg.copy_ngram, cfg.near_duplicate, cfg.round_trip_k, cfg.max_per_doc or None
    )
    return GenerationConfig(
        source=str(cfg.from_docs), out=str(out), columns=asdict(columns), splitter=splitter,
        queries_per_passage=cfg.queries_per_passage, max_docs=cfg.max_docs, max_passages=cfg.max_passages,
        max_tokens=cfg.max_tokens,
        temperature=cfg.temperature, workers=cfg.workers, filters=filters, embedder=cfg.embedder,
        dev_share=cfg.dev_share, test_share=cfg.test_share, seed=cfg.seed, prompt=prompt.source,
        prompt_sha256=prompt.sha256, cache_policy=cfg.cache,
    )  # fmt: skip


def run(cfg: GenerateQueriesConfig) -> GenerateQueriesResult:
    from contextlib import ExitStack

    from corpus.console import console
    from corpus.documents import Columns, read_documents, split_passages
    from corpus.models import load_embedder
    from corpus.output_location import check_output_dir
    from harness.embedding_cache import EmbeddingCache
    from rag.answer_cache import AnswerCache
    from rag.llm_session import open_llm
    from rag.query_generation import check_output_folder, generate_dataset, load_prompt, previous_card

    # everything a user can get wrong fails here, before a model loads
    prompt = load_prompt(cfg.query_prompt, cfg.domain_hint)
    columns = Columns(cfg.text_column, cfg.title_column, cfg.id_column)
    splitter = SplitterConfig(cfg.chunk_size, cfg.chunk_overlap, cfg.embedder)
    out = Path(cfg.out) if cfg.out else default_out(cfg.from_docs)
    check_output_dir(out)
    check_output_folder(out)
    before = previous_card(out).get("fingerprint")
    docs, summary = read_documents(cfg.from_docs, columns, cfg.max_docs)
    passages = split_passages(docs, splitter)
    gcfg = _generation_config(cfg, out, columns, splitter, prompt)
    endpoint = cfg.endpoint.endpoint()
    embedder = load_embedder(cfg.embedder)
    console.print(
        f"{summary.documents} documents ({summary.format}) → {len(passages)} passages of ≤ "
        f"{splitter.chunk_size} tokens; {cfg.queries_per_passage} queries each"
        + (f" for {cfg.max_passages} of them" if cfg.max_passages and cfg.max_passages < len(passages) else "")
    )
    answer_cache = AnswerCache(policy=cfg.cache)
    with ExitStack() as stack:
        llm, gcfg.llm = open_llm(
            stack, endpoint, cfg.endpoint.local(cfg.workers), answer_cache, cfg.endpoint.timeout, cfg.endpoint.retries
        )
        _, card = generate_dataset(llm, prompt, passages, summary, embedder, gcfg, EmbeddingCache())
    stale = [p.name for p in (*out.glob("corpus_*.jsonl"), out / "triplets") if p.exists()]
    stale = stale if before != card["fingerprint"] else []
    counts = card["counts"]
    return GenerateQueriesResult(
        out, summary.documents, len(passages), counts["queries_asked"], counts["queries_kept"], stale, card
    )


def show(result: GenerateQueriesResult) -> None:
    from rich.table import Table

    from corpus.console import console
    from rag.query_filters import FILTERS

    card = result.card
    t = Table(title=f"queries from {result.documents} documents ({card['config']['llm'].get('model')})")
    t.add_column("stage")
    t.add_column("queries", justify="right")
    skipped = card["source"].get("skipped_files", 0)
    if skipped:
        t.add_row("files skipped (unreadable; warned above)", f"{skipped:,}")
    t.add_row("asked (passages × n)", f"{result.queries_asked:,}")
    for name in FILTERS:
        t.add_row(f"  dropped: {name.replace('_', ' ')}", f"{card['filters'][name]:,}")
    t.add_row("[bold]kept", f"[bold]{result.queries_kept:,}")
    for split, c in card["counts"]["splits"].items():
        t.add_row(f"  {split}", f"{c['queries']:,} ({c['documents']} documents)")
    calls = card["llm_calls"]
    t.add_row("LLM replies cached / new", f"{calls['cached']} / {calls['asked']}")
    if calls["asked"]:
        t.add_row("seconds per new reply", f"{calls['seconds'] / calls['asked']:.1f}")
    console.print(t)
    if result.stale:
        console.print(
            f"[yellow]note:[/] {', '.join(result.stale)} in {result.out} came from an earlier run: rerun steps 0 and 1"
        )
    console.print(f"[green]dataset written to[/] {result.out}; next: ragtune triplets --data {result.out}")
