"""Synthetic training queries for a user's own documents: an LLM writes N queries per passage, quality filters
drop the bad ones (each with a count), and the result is a BEIR dataset split by source document.

Every reply goes through the answer cache keyed by (model, full request), so a killed run resumes where it
stopped and a rerun with the same settings asks the LLM nothing. Filtering is cheap and always recomputed.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus.beir import SPLITS, Dataset
from corpus.cache_policy import CachePolicy
from corpus.documents import Passage, SourceSummary, SplitterConfig
from corpus.errors import DataError, RagtuneError
from corpus.jsonl import read_text
from corpus.splits import stable_hash, stable_order
from rag import query_filters as qf
from rag.cached_llm import CachedLLM
from rag.fan_out import fan_out

KIND = "generated-from-documents"  # marks a dataset folder this module may overwrite
PLACEHOLDERS = ("n", "title", "passage", "hint")
REQUIRED = ("n", "passage")

DEFAULT_PROMPT = """You help build a search engine. Below is a passage from a document titled "{title}".

Passage:
\"\"\"
{passage}
\"\"\"

Write {n} different search queries that a real user would type and that this passage answers.
{hint}
Rules: one query per line, no numbering, no quotes, no explanations; at most 20 words each; use your own
words instead of copying phrases from the passage."""

DEFAULT_HINT = (
    "Write them the way people type into a search box: specific, natural, sometimes a question, "
    "sometimes a few keywords."
)


@dataclass(frozen=True)
class QueryPrompt:
    text: str
    hint: str = DEFAULT_HINT
    source: str = "built-in"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(f"{self.text}\x00{self.hint}".encode()).hexdigest()

    def messages(self, passage: Passage, n: int) -> list[dict]:
        return [
            {
                "role": "user",
                "content": self.text.format(
                    n=n, title=passage.title or "(untitled)", passage=passage.text, hint=self.hint
                ),
            }
        ]


def load_prompt(path: str | Path | None, hint: str | None = None) -> QueryPrompt:
    """The built-in prompt, or a file with {passage} and {n} (and optionally {title}, {hint}); literal braces
    are written {{ }}. The hint is the domain's few-shot style line, e.g. example queries."""
    hint = DEFAULT_HINT if hint is None else hint.strip()
    if path is None:
        return QueryPrompt(DEFAULT_PROMPT, hint)
    text, source = read_text(Path(path)).strip("\n"), str(path)
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise DataError(source, f"not a valid template ({exc}); write literal braces as {{{{ and }}}}") from None
    unknown = sorted(fields - set(PLACEHOLDERS))
    if unknown:
        raise DataError(
            source,
            f"unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)}; allowed: "
            + ", ".join("{" + f + "}" for f in PLACEHOLDERS),
        )
    missing = [f for f in REQUIRED if f not in fields]
    if missing:
        raise DataError(source, "template must contain " + " and ".join("{" + f + "}" for f in missing))
    return QueryPrompt(text, hint, source)


@dataclass
class GenerationConfig:
    source: str = ""
    out: str = ""
    columns: dict = field(default_factory=dict)
    splitter: SplitterConfig = field(default_factory=SplitterConfig)
    queries_per_passage: int = 2
    max_docs: int | None = None
    max_passages: int | None = None  # passages asked (a seeded sample); the rest stay in the corpus as distractors
    max_tokens: int = 96
    temperature: float = 0.0
    workers: int = 1
    filters: qf.FilterConfig = field(default_factory=qf.FilterConfig)
    embedder: str = "base"  # the base embedder of the round-trip and near-duplicate checks
    dev_share: float = 0.1
    test_share: float = 0.2
    seed: int = 13
    prompt: str = "built-in"
    prompt_sha256: str = ""
    cache_policy: CachePolicy = CachePolicy.REUSE
    llm: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.queries_per_passage < 1:
            raise RagtuneError("--queries-per-passage must be at least 1")
        if not (0 <= self.dev_share < 1 and 0 < self.test_share < 1 and self.dev_share + self.test_share < 1):
            raise RagtuneError("--dev-share and --test-share must be fractions (test > 0) that sum below 1")


@dataclass(frozen=True)
class Candidate:
    id: str  # '<passage id>#q<slot>'
    passage_id: str
    source_id: str
    text: str


@dataclass
class AskStats:
    passages: int = 0
    cached: int = 0
    asked: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # LLM time of the new replies, summed over workers

    def as_dict(self) -> dict:
        return asdict(self)


def ask(llm: CachedLLM, prompt: QueryPrompt, passages: list[Passage], cfg: GenerationConfig) -> tuple[dict, AskStats]:
    """Reply text per passage id. Requests run on cfg.workers threads; the first failure stops the rest (what
    finished is cached) and is raised."""
    replies: dict[str, str] = {}
    stats = AskStats(passages=len(passages))

    def one(p: Passage):
        return p.id, *llm.complete(prompt.messages(p, cfg.queries_per_passage), cfg.max_tokens, cfg.temperature)

    for _, (pid, completion, cached) in fan_out(one, passages, workers=cfg.workers, label="writing queries"):
        replies[pid] = completion.text
        if cached:
            stats.cached += 1
        else:
            stats.asked += 1
            stats.prompt_tokens += completion.prompt_tokens or 0
            stats.completion_tokens += completion.completion_tokens or 0
            stats.seconds += completion.latency_s
    return replies, stats


def passages_to_ask(passages: list[Passage], limit: int | None, seed: int) -> list[Passage]:
    """All passages, or a seeded sample of `limit` in corpus order: a time budget then costs query coverage, not
    corpus, and a rerun with a larger limit keeps every passage an earlier run asked (a prefix of one order)."""
    if limit is None or limit >= len(passages):
        return passages
    chosen = {p.id for p in ask_order(passages, seed)[:limit]}
    return [p for p in passages if p.id in chosen]


def ask_order(passages: list[Passage], seed: int) -> list[Passage]:
    """The seeded order a limited run draws passages in (a planner times the first one it will ask)."""
    return stable_order(passages, f"{seed}/ask", key=lambda p: p.id)


def candidates_from(replies: dict[str, str], passages: list[Passage], n: int) -> tuple[list[Candidate], int]:
    """Parsed queries in passage order, and how many of the n asked per passage never came back (empty)."""
    out, missing = [], 0
    for p in passages:
        queries = qf.parse_queries(replies.get(p.id, ""), n)
        missing += n - len(queries)
        out += [Candidate(f"{p.id}#q{i}", p.id, p.source_id, q) for i, q in enumerate(queries, start=1)]
    return out, missing


def apply_filters(
    cands: list[Candidate], passages: dict[str, Passage], retriever, fcfg: qf.FilterConfig, seed: int, missing: int = 0
) -> tuple[list[Candidate], dict[str, int]]:
    """Run every filter in qf.FILTERS order; counts say how many each one dropped."""
    counts = dict.fromkeys(qf.FILTERS, 0)
    counts["empty"] = missing
    kept = []
    for c in cands:
        problem = qf.length_problem(c.text, fcfg)
        if problem is None and qf.copies_passage(c.text, passages[c.passage_id].text, fcfg):
            problem = "copies_passage"
        if problem:
            counts[problem] += 1
        else:
            kept.append(c)
    first = qf.first_occurrences([qf.duplicate_key(c.text) for c in kept])
    counts["duplicate"] = first.count(False)
    kept = [c for c, ok in zip(kept, first, strict=False) if ok]
    if kept:
        q_emb = retriever.encode_queries([c.text for c in kept])
        near = qf.near_duplicates(q_emb, [c.source_id for c in kept], fcfg.near_duplicate_cosine)
        counts["near_duplicate"] = sum(near)
        keep_idx = [i for i, dropped in enumerate(near) if not dropped]
        kept, q_emb = [kept[i] for i in keep_idx], q_emb[keep_idx]
        if fcfg.round_trip_k > 0 and kept:
            _, idx = retriever.search_embeddings(q_emb, fcfg.round_trip_k)
            ok = [
                qf.round_trip_ok([retriever.doc_ids[j] for j in row if j >= 0], c.passage_id, fcfg.round_trip_k)
                for c, row in zip(kept, idx, strict=False)
            ]
            counts["round_trip"] = ok.count(False)
            kept = [c for c, good in zip(kept, ok, strict=False) if good]
    capped = qf.cap_per_group([c.source_id for c in kept], [stable_hash(seed, c.id) for c in kept], fcfg.max_per_doc)
    counts["over_cap"] = capped.count(False)
    return [c for c, ok in zip(kept, capped, strict=False) if ok], counts


def assign_splits(source_ids: list[str], seed: int, dev_share: float, test_share: float) -> dict[str, str]:
    """Whole source documents go to one split each (their passages and queries with them), by a seeded order
    so the same documents always land in the same split. Test and dev get at least one document each."""
    ids = sorted(set(source_ids))
    n_test = max(1, round(len(ids) * test_share))
    n_dev = max(1, round(len(ids) * dev_share)) if dev_share > 0 else 0
    if n_test + n_dev >= len(ids):
        raise RagtuneError(
            f"only {len(ids)} document(s) kept queries after filtering; train, dev and test need "
            f"at least {n_test + n_dev + 1} (use more documents or looser filters)"
        )
    order = stable_order(ids, f"{seed}/split", key=str)
    return {d: "test" if i < n_test else "dev" if i < n_test + n_dev else "train" for i, d in enumerate(order)}


def build_dataset(out: Path, passages: list[Passage], kept: list[Candidate], splits: dict[str, str]) -> Dataset:
    """Corpus = every passage (those without kept queries stay as distractors); qrels point each query at the
    passage it was written from."""
    qrels: dict[str, dict[str, dict[str, int]]] = {s: {} for s in SPLITS}
    for c in kept:
        qrels[splits[c.source_id]][c.id] = {c.passage_id: 1}
    return Dataset(
        Path(out),
        {p.id: p.as_document() for p in passages},
        {c.id: c.text for c in kept},
        {s: q for s, q in qrels.items() if q},
    )


def split_counts(ds: Dataset, splits: dict[str, str]) -> dict[str, dict[str, int]]:
    return {
        s: {
            "queries": len(ds.qrels.get(s, {})),
            "documents": sum(1 for v in splits.values() if v == s),
            "passages": len({d for docs in ds.qrels.get(s, {}).values() for d in docs}),
        }
        for s in SPLITS
    }


def dataset_card(
    cfg: GenerationConfig,
    summary: SourceSummary,
    passages: list[Passage],
    stats: AskStats,
    cands: int,
    filters: dict[str, int],
    ds: Dataset,
    splits: dict[str, str],
) -> dict:
    return {
        "name": Path(cfg.out).name,
        "kind": KIND,
        "source": asdict(summary),
        "generator": {
            "model": cfg.llm.get("model"),
            "llm": cfg.llm,
            "prompt": cfg.prompt,
            "prompt_sha256": cfg.prompt_sha256,
        },
        "config": asdict(cfg),
        "counts": {
            "documents": summary.documents,
            "passages": len(passages),
            "passages_asked": stats.passages,
            "files_skipped": summary.skipped_files,
            "queries_asked": stats.passages * cfg.queries_per_passage,
            "queries_parsed": cands,
            "queries_kept": len(ds.queries),
            "splits": split_counts(ds, splits),
        },
        "filters": filters,
        "llm_calls": stats.as_dict(),
        "fingerprint": ds.fingerprint(),
    }


def generate_dataset(
    llm: CachedLLM,
    prompt: QueryPrompt,
    passages: list[Passage],
    summary: SourceSummary,
    embedder,
    cfg: GenerationConfig,
    emb_cache=None,
) -> tuple[Dataset, dict]:
    """Ask, filter, split and write the BEIR folder and its dataset_card.json into cfg.out."""
    from corpus.beir import write_dataset
    from corpus.datasets import CARD
    from corpus.jsonl import write_json
    from harness.retrieval import Retriever

    out = Path(cfg.out)
    check_output_folder(out)
    asked = passages_to_ask(passages, cfg.max_passages, cfg.seed)
    replies, stats = ask(llm, prompt, asked, cfg)
    cands, missing = candidates_from(replies, asked, cfg.queries_per_passage)
    retriever = Retriever(
        embedder, {p.id: p.as_document() for p in passages}, emb_cache, show_progress=True, name="passages"
    )
    kept, counts = apply_filters(cands, {p.id: p for p in passages}, retriever, cfg.filters, cfg.seed, missing)
    splits = assign_splits([c.source_id for c in kept], cfg.seed, cfg.dev_share, cfg.test_share)
    ds = build_dataset(out, passages, kept, splits)
    write_dataset(ds, out, {p.id: p.fields() for p in passages if p.fields()})
    for split in SPLITS:  # a split a previous run wrote and this one does not would mix two datasets
        if split not in ds.qrels:
            (out / "qrels" / f"{split}.tsv").unlink(missing_ok=True)
    card = dataset_card(cfg, summary, passages, stats, len(cands), counts, ds, splits)
    write_json(out / CARD, card)
    return ds, card


def previous_card(out: Path) -> dict:
    import json

    from corpus.datasets import CARD

    card = Path(out) / CARD
    try:
        return json.loads(card.read_text(encoding="utf-8")) if card.is_file() else {}
    except (OSError, ValueError):
        return {}


def check_output_folder(out: Path) -> None:
    """Overwrite only what this module wrote: never a hand-made or downloaded dataset."""
    out = Path(out)
    if (out / "corpus.jsonl").exists() and previous_card(out).get("kind") != KIND:
        raise RagtuneError(f"{out}: already holds a dataset not generated from documents; choose another --data")
