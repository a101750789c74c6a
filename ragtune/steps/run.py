"""Everything in one command, from your documents (or labelled data) to the report page:

    ragtune run --docs my_documents/ --budget 20

query writing (--docs only), triplets, pool, training, retrieval evaluation, the answer comparison and the report
page, each step with its defaults. Before any of it, a plan: documents and passages found, queries to be asked,
and each stage's time estimated from a short warm-up on this machine (one query-writing reply and one answer from
the LLM endpoint, an encode of a few passages, one optimizer step); --budget MINUTES shrinks the passages sent
to query writing and the answered queries until the estimate fits, and says what it cut. Every step keeps its
own cache, so the same command after an interruption picks up where it stopped.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from corpus.errors import RagtuneError
from corpus.options import check_options, option
from corpus.progress import working
from rag.llm_session import EndpointOptions

# planning assumptions that are facts of the pipeline, not of the machine
ARMS_ANSWERED = 3  # base, fine-tuned and the oracle bracket (step 4's defaults)
QUERY_TOKENS = 16  # a written query, in word pieces
KEPT_SHARE = 0.8  # queries surviving the filters, before the warm-up's reply says more (0a's card: the real share)
TRAIN_SHARE = 0.7  # 1 - step 0a's default dev and test shares
TEST_SHARE = 0.2  # step 0a's default test share: the answer comparison asks at most the test queries
MIN_PASSAGES = 8  # below this, train/dev/test rarely each get a source document
MIN_ANSWERS = 3
ANSWER_SHARE = 0.3  # at most this part of a tight budget goes to answers; the rest to query writing
WARMUP_TEXTS = 64  # texts encoded in the warm-up (a small folder's passages repeated): enough to time
# a training step's forward + backward ≈ three forward passes over its texts; the project's own step rule agrees
# (train/config.py: STEP_TOKENS is 10 minutes on 2 cores, ~1,800 word pieces/s, against ~5,000-7,000/s encoding)
TRAIN_FORWARD_COST = 3.0


@dataclass
class PipelineConfig:
    docs: str | None = option(
        None,
        help="your documents: a folder of .pdf .html .htm .docx .md .txt (searched recursively), or a CSV/JSONL "
        "file; an LLM writes the queries",
    )
    data: str | None = option(
        None, help="labelled data instead of --docs: a BEIR folder or a flat CSV/JSONL (query, positive)"
    )
    budget: float | None = option(
        None,
        help="minutes the whole run may take on this machine: fewer passages get queries and fewer queries are "
        "answered until the estimate fits (default: no limit)",
        min=1.0,
    )
    name: str | None = option(
        None, help="run name: data/NAME, runs/NAME/final, reports/NAME (default: the name of --docs or --data)"
    )
    queries_per_passage: int = option(2, help="queries the LLM writes per passage", min=1)
    domain_hint: str | None = option(None, help="one line of style for the queries, e.g. example queries of your users")
    answers: int = option(10, help="test queries answered by each arm in the answer comparison", min=1)
    max_steps: int | None = option(
        None, help="training steps (default: step 2's rule, one epoch of the training rows and at least 40)", min=1
    )
    workers: int = option(1, help="LLM requests in flight at once", min=1)
    plan_only: bool = option(False, help="print the plan (with its warm-up) and stop")
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)

    def __post_init__(self):
        check_options(self)
        if bool(self.docs) == bool(self.data):
            raise RagtuneError("give one of --docs (your documents) or --data (a labelled dataset)")


@dataclass
class Speeds:
    """What the warm-up measured on this machine (seconds, or items per second)."""

    embedder_load_s: float
    passages_per_s: float
    queries_per_s: float
    train_tokens_per_s: float  # training throughput (forward + backward): encoding's over TRAIN_FORWARD_COST
    passage_tokens: float  # mean word pieces of a passage (as the embedder cuts it)
    llm_start_s: float = 0.0  # server start (local) or first reply round trip (endpoint)
    query_reply_s: float = 0.0  # one query-writing reply (0: every passage's reply is cached)
    answer_s: float = 0.0  # one answer of step 4's shape (top-3 passages)
    llm: str = ""
    step_s: float = 0.0  # an optimizer update of every weight: the fixed part of each training step
    kept_share: float = KEPT_SHARE  # written queries surviving the filters (from the warm-up's reply)


@dataclass
class Plan:
    documents: int
    passages: int
    passages_asked: int  # passages sent to query writing (all, or a budget's sample)
    passages_cached: int  # of those, replies already in the cache (a resumed run)
    queries_asked: int
    answers: int
    stages: dict[str, float]  # stage -> estimated seconds
    cuts: list[str]  # what the budget cut, one sentence each
    speeds: Speeds
    skipped_files: int = 0  # unreadable files left out (query writing names each)

    @property
    def total_s(self) -> float:
        return sum(self.stages.values())


@dataclass
class PipelineResult:
    name: str
    data: Path
    plan: Plan
    actual: dict[str, float]  # stage -> seconds it took
    outputs: dict[str, Path]  # what -> where
    budget_s: float | None = None

    @property
    def total_s(self) -> float:
        return sum(self.actual.values())


# ------------------------------------------------------------------------------------------------ the warm-up


def _measure_encoding(texts: list[str]) -> Speeds:
    """Encode speed (passages and query-length texts), each after one untimed call that pays for lazy setup, and
    the fixed cost of an optimizer step over the embedder's weights."""
    from corpus.models import load_embedder

    model = load_embedder("base").model  # the first load also pays for importing torch: once per run
    start = time.perf_counter()
    load_embedder("base")
    load_s = time.perf_counter() - start  # what each later stage pays to load a model
    texts = texts or ["an example passage about the documents of this run"]
    sample = [texts[i % len(texts)] for i in range(WARMUP_TEXTS)]
    short = [" ".join(t.split()[:10]) for t in sample]
    model.encode(sample[:8])
    passage_s, query_s = _timed(model.encode, sample, batch_size=64), _timed(model.encode, short, batch_size=64)
    limit = model.max_seq_length or 256
    tokens = [min(len(ids), limit) for ids in model.tokenizer(sample)["input_ids"]]
    return Speeds(
        load_s,
        len(sample) / passage_s,
        len(short) / query_s,
        sum(tokens) / passage_s / TRAIN_FORWARD_COST,
        sum(tokens) / len(tokens),
        step_s=_optimizer_step_s(model),
    )


def _timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return max(time.perf_counter() - start, 1e-3)


def _optimizer_step_s(model) -> float:
    """One AdamW update of every weight (learning rate 0: the weights stay as they are), timed after one that
    allocates the optimizer's state: the part of a training step that does not shrink with a small batch."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = torch.zeros_like(p)
    optimizer = torch.optim.AdamW(params, lr=0.0, weight_decay=0.0)
    optimizer.step()
    seconds = _timed(optimizer.step)
    for p in params:
        p.grad = None
    return seconds


def _measure_llm(cfg: PipelineConfig, speeds: Speeds, ask: list, context: list, prompt, gen) -> int:
    """Time one query-writing reply (the first passage not yet cached: its reply is kept and reused by the run)
    and one answer-shaped request over `context` documents; returns how many passages to ask already have a
    cached reply."""
    from rag.answer_cache import AnswerCache
    from rag.llm_session import open_llm
    from rag.prompts import load_template

    with ExitStack() as stack:
        llm, card = open_llm(
            stack, cfg.endpoint.endpoint(), cfg.endpoint.local(1), AnswerCache(), cfg.endpoint.timeout,
            cfg.endpoint.retries,
        )  # fmt: skip
        speeds.llm = card.get("model") or ""
        messages = [prompt.messages(p, cfg.queries_per_passage) for p in ask]
        todo = [m for m in messages if not llm.is_cached(m, gen.max_tokens, gen.temperature)]
        with working("warm-up: timing the LLM"):
            start = time.perf_counter()
            llm.client.check()  # starts the local server; an endpoint answers its model list
            speeds.llm_start_s = time.perf_counter() - start
            if todo:
                start = time.perf_counter()
                reply, _ = llm.complete(todo[0], gen.max_tokens, gen.temperature)
                speeds.query_reply_s = time.perf_counter() - start
                speeds.kept_share = _kept_share(
                    reply.text, ask[messages.index(todo[0])].text, cfg.queries_per_passage, gen
                )
            elif messages:  # a resumed run: the first reply is in the cache, still a sample of the model's style
                reply, _ = llm.complete(messages[0], gen.max_tokens, gen.temperature)
                speeds.kept_share = _kept_share(reply.text, ask[0].text, cfg.queries_per_passage, gen)
            question = context[0].title if context and context[0].title else "what is this about"
            start = time.perf_counter()
            # straight to the client: an answer from the cache would time nothing
            llm.client.complete(load_template(None).messages(question, context[:3]), 48, 0.0)
            speeds.answer_s = time.perf_counter() - start
    return len(messages) - len(todo)


def _kept_share(reply: str, passage: str, n: int, gen) -> float:
    """The share of written queries the filters will keep, from one reply: its queries through the cheap filters
    (length, copying the passage), pulled towards KEPT_SHARE as one reply is a small sample (a tiny model
    writing sentences where queries belong keeps 8%; Qwen2.5-1.5B kept 84% of 58 on O*NET)."""
    from rag import query_filters as qf

    queries = qf.parse_queries(reply, n)
    kept = sum(
        1
        for q in queries
        if qf.length_problem(q, gen.filters) is None and not qf.copies_passage(q, passage, gen.filters)
    )
    return (kept + KEPT_SHARE * 2) / (n + 2)


# ---------------------------------------------------------------------------------------------- the estimate


def _stage_estimates(
    s: Speeds,
    passages: int,
    asked_new: int,
    queries: int,
    answers: int,
    workers: int,
    per_passage: int = 1,
    max_steps: int | None = None,
) -> dict:
    """Seconds per stage for this many passages, new query-writing replies, kept queries and answers per arm."""
    from train.config import QUERY_OVERHEAD, ROW_OVERHEAD, TrainConfig, counted_tokens, scaled_steps

    enc_p, enc_q = passages / s.passages_per_s, queries / s.queries_per_s
    train = TrainConfig()
    # a training row is a passage with the queries written from it (embedded once for all of them) and, counted
    # here although the data decides it in step 2, one mined negative passage: written queries are usually easy
    # for the base model (their positive ranks first), which is when step 2 mines one
    rows = max(int(queries * TRAIN_SHARE / per_passage), 1)
    row_tokens = 2 * counted_tokens(s.passage_tokens) + per_passage * QUERY_TOKENS + (per_passage - 1) * QUERY_OVERHEAD
    steps = max_steps or scaled_steps(rows, train.batch_size, row_tokens)
    step_tokens = min(rows, train.batch_size) * (row_tokens + ROW_OVERHEAD)  # a set smaller than a batch is one
    dev = min(train.dev_candidates, passages) / s.passages_per_s + queries * 0.1 / s.queries_per_s
    stages = {
        "query writing": (s.llm_start_s + asked_new * s.query_reply_s / workers + enc_p + enc_q) if asked_new else 0.0,
        "triplets": s.embedder_load_s + enc_p + enc_q,
        "pool": 1.0,
        "training": 2 * s.embedder_load_s + steps * (s.step_s + step_tokens / s.train_tokens_per_s) + 2 * dev,
        # base and fine-tuned encode the pool and the test queries; BM25 costs little, and the convex weight's dev
        # pool is the pool less its test-relevant passages, whose rows the cache already holds: only its dev queries
        "retrieval eval": 2 * s.embedder_load_s
        + 2 * (enc_p + queries * 0.2 / s.queries_per_s)
        + (100 + queries * 0.1) / s.queries_per_s,
        "answers": s.llm_start_s + answers * ARMS_ANSWERED * s.answer_s / workers + 2 * s.embedder_load_s,
    }
    return {k: round(v, 1) for k, v in stages.items()}


def _answered(answers: int, queries: int, test_queries: int | None) -> int:
    """Test queries step 4 will answer: the limit, or fewer when the test split is smaller (--docs: estimated
    from step 0a's test share)."""
    return min(answers, max(int(queries * TEST_SHARE), 1) if test_queries is None else test_queries)


def make_plan(
    cfg: PipelineConfig,
    documents: int,
    n: int,
    speeds: Speeds,
    cached: int,
    queries: int | None,
    spent: float = 0.0,
    test_queries: int | None = None,
) -> Plan:
    """The largest run whose estimate fits the budget (less `spent`, the warm-up's seconds): answers first shrink
    to ANSWER_SHARE of it, then passages sent to query writing shrink (never below MIN_PASSAGES / MIN_ANSWERS)."""
    asking = queries is None  # --docs: queries are to be written; --data: they exist
    cuts: list[str] = []

    def estimate(asked: int, answers: int) -> dict:
        new = max(asked - cached, 0) if asking else 0
        q = int(asked * cfg.queries_per_passage * speeds.kept_share) if asking else queries
        per_passage = cfg.queries_per_passage if asking else 1
        answered = _answered(answers, q, test_queries)
        return _stage_estimates(speeds, n, new, q, answered, cfg.workers, per_passage, cfg.max_steps)

    asked, answers = n, cfg.answers
    if cfg.budget is not None:
        budget = cfg.budget * 60 - spent
        per_answer = ARMS_ANSWERED * speeds.answer_s / cfg.workers
        if per_answer > 0 and answers * per_answer > ANSWER_SHARE * budget:
            answers = max(MIN_ANSWERS, int(ANSWER_SHARE * budget / per_answer))
        if asking:
            low, high = min(MIN_PASSAGES, n), n
            while low < high:  # the largest sample that fits (the estimate grows with it)
                mid = (low + high + 1) // 2
                low, high = (mid, high) if sum(estimate(mid, answers).values()) <= budget else (low, mid - 1)
            asked = low
        while answers > MIN_ANSWERS and sum(estimate(asked, answers).values()) > budget:
            answers -= 1
        if asked < n:
            cuts.append(f"query writing: {asked} of {n} passages (a seeded sample; the rest stay as distractors)")
        if answers < cfg.answers:
            cuts.append(f"answer comparison: {answers} of {cfg.answers} test queries per arm")
        over = sum(estimate(asked, answers).values()) - budget
        if over > 0:
            cuts.append(f"even the smallest run is estimated {over / 60:.1f} min over the budget")
    q_asked = asked * cfg.queries_per_passage if asking else (queries or 0)
    return Plan(
        documents, n, asked if asking else 0, min(cached, asked) if asking else 0, q_asked, answers,
        estimate(asked, answers), cuts, speeds,
    )  # fmt: skip


def show_plan(plan: Plan, cfg: PipelineConfig) -> None:
    from rich.table import Table

    from corpus.console import console

    s = plan.speeds
    skipped = f" ({plan.skipped_files} unreadable file(s) skipped)" if plan.skipped_files else ""
    what = f"{plan.documents} documents{skipped} → {plan.passages} passages"
    if cfg.docs:
        cached = f", {plan.passages_cached} already answered in the cache" if plan.passages_cached else ""
        what += f"; {plan.queries_asked} queries asked from {plan.passages_asked} passages{cached}"
    else:
        what += f"; {plan.queries_asked} labelled queries"
    console.print(f"[bold]plan:[/] {what}; up to {plan.answers} test queries answered per arm", soft_wrap=True)
    t = Table()
    t.add_column("stage")
    t.add_column("estimate", justify="right")
    for stage, seconds in plan.stages.items():
        t.add_row(stage, _minutes(seconds))
    t.add_row("[bold]total", f"[bold]{_minutes(plan.total_s)}" + (f" of {cfg.budget:g} min" if cfg.budget else ""))
    console.print(t)
    llm = f"LLM {s.llm}: start {s.llm_start_s:.1f} s, " if s.llm else ""
    reply = f"a query-writing reply {s.query_reply_s:.1f} s, " if s.query_reply_s else ""
    if cfg.docs:
        reply += f"~{s.kept_share:.0%} of written queries kept, "
    console.print(
        f"measured in the warm-up: {llm}{reply}an answer {s.answer_s:.1f} s; embedder {s.passages_per_s:.0f} "
        f"passages/s ({s.passage_tokens:.0f} word pieces each), {s.queries_per_s:.0f} queries/s, "
        f"loads in {s.embedder_load_s:.1f} s",
        soft_wrap=True,
    )
    for cut in plan.cuts:
        console.print(f"[yellow]budget:[/] {cut}", soft_wrap=True)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


# ------------------------------------------------------------------------------------------------------ the run


def compared_arms(data: str, finetuned) -> list[str]:
    """What the retrieval evaluation compares: base and fine-tuned, and the alternatives nothing needs training for,
    BM25 and its convex fusion with the fine-tuned model (README's step-by-step arms). The fusion's weight is fitted
    on dev queries (the dataset's own, or those step 0 carved), so it is left out where there are none."""
    from corpus.datasets import open_dataset
    from corpus.errors import RagtuneError
    from harness.convex_weights import DEV_SPLIT, with_dev_split

    arms = ["base=base", f"finetuned={finetuned}", "bm25"]
    try:
        ds, _ = with_dev_split(open_dataset(data))
    except RagtuneError:
        return arms
    if any(g > 0 for grades in ds.qrels.get(DEV_SPLIT, {}).values() for g in grades.values()):
        arms.append("hybrid=bm25+finetuned:convex")
    return arms


def _run_name(cfg: PipelineConfig) -> str:
    if cfg.name:
        return cfg.name
    source = Path(cfg.docs or cfg.data)
    return source.stem if source.is_file() else source.resolve().name


def _content_of(folder: Path) -> bytes:
    """The labels a step 0a run left (queries and qrels): when they change, an earlier model is stale."""
    parts = [folder / "queries.jsonl", *sorted((folder / "qrels").glob("*.tsv"))]
    return b"".join(p.read_bytes() for p in parts if p.is_file())


def _pool_size(data: str) -> int:
    """Every passage of the dataset but the training negatives (relevant test passages always count): a user's
    own documents are the whole index, and the registry's job texts would be unrelated distractors."""
    from corpus.datasets import open_dataset
    from corpus.paths import triplets_dir
    from corpus.triplets import training_negative_ids

    ds = open_dataset(data)
    excluded = training_negative_ids(triplets_dir(ds.path))
    relevant = {d for docs in ds.relevant("test").values() for d in docs}
    return len({d for d in ds.corpus if d not in excluded} | relevant)


def run(cfg: PipelineConfig) -> PipelineResult:
    from corpus.beir import document_text
    from corpus.console import console
    from corpus.datasets import dataset_dir, open_dataset
    from corpus.documents import SplitterConfig, read_documents, split_passages
    from corpus.paths import DATA_DIR, REPORTS_DIR
    from rag.query_generation import GenerationConfig, ask_order, load_prompt
    from ragtune.steps import eval as eval_step
    from ragtune.steps import generate_queries, pool, rag, train, triplets
    from ragtune.steps.generate_queries import GenerateQueriesConfig, QueryEndpointOptions
    from train.config import TrainConfig

    name = _run_name(cfg)
    data = str(DATA_DIR / name) if cfg.docs else cfg.data
    reports = REPORTS_DIR / name
    gen, prompt = GenerationConfig(), load_prompt(None, cfg.domain_hint)

    # the plan: read and split (cheap), then the warm-up
    started = time.perf_counter()
    with working("reading the documents"):
        if cfg.docs:
            docs, summary = read_documents(cfg.docs, warn=False)  # query writing warns, once per file
            passages = split_passages(docs, SplitterConfig())
            context, documents, queries = [p.as_document() for p in passages], summary.documents, None
            skipped, test_queries = summary.skipped_files, None
        else:
            ds = open_dataset(cfg.data)
            passages, context, skipped = [], list(ds.corpus.values()), 0
            documents, queries = len(ds.corpus), len(ds.queries)
            test_queries = len(ds.qrels.get("test", {}))
    with working("warm-up: timing the embedder"):
        speeds = _measure_encoding([document_text(d) for d in context])
    # the order a budget's sample is drawn in: the warm-up's reply is the first passage any run asks
    order = ask_order(passages, gen.seed)
    cached = _measure_llm(cfg, speeds, order, context, prompt, gen)
    spent = time.perf_counter() - started
    plan = make_plan(cfg, documents, len(context), speeds, cached, queries, spent, test_queries)
    plan.skipped_files = skipped
    show_plan(plan, cfg)
    result = PipelineResult(name, Path(data), plan, {"plan (warm-up)": round(spent, 1)}, {})
    result.budget_s = cfg.budget * 60 if cfg.budget else None
    if cfg.plan_only:
        return result

    def stage(label: str, module, config):
        console.rule(f"[bold]{label}")
        start = time.perf_counter()
        out = module.run(config)
        module.show(out)
        result.actual[label] = round(time.perf_counter() - start, 1)
        return out

    retrain = False
    if cfg.docs:
        before = _content_of(Path(data))
        endpoint = QueryEndpointOptions(**{f.name: getattr(cfg.endpoint, f.name) for f in fields(EndpointOptions)})
        ask = plan.passages_asked if plan.passages_asked < len(passages) else None
        gq = GenerateQueriesConfig(
            from_docs=cfg.docs, out=data, queries_per_passage=cfg.queries_per_passage, domain_hint=cfg.domain_hint,
            max_passages=ask, workers=cfg.workers, endpoint=endpoint,
        )  # fmt: skip
        stage("query writing", generate_queries, gq)
        # new labels make an earlier model of this run stale: ragtune wrote it, so it is retrained in place
        retrain = bool(before) and before != _content_of(Path(data))
    stage("triplets", triplets, triplets.TripletsConfig(data=data))
    pooled = stage("pool", pool, pool.PoolStepConfig(data=data, size=_pool_size(data), no_external=True))
    training = TrainConfig(max_steps=cfg.max_steps)
    model = stage("training", train, train.TrainStepConfig(data=data, train=training, overwrite=retrain))
    answered_arms = ["base=base", f"finetuned={model.out}"]
    ev = stage("retrieval eval", eval_step, eval_step.EvalConfig(data=data, pool=str(pooled.out),
                                                                      arms=compared_arms(data, model.out),
                                                                      out=str(reports)))  # fmt: skip
    rag_cfg = rag.RagConfig(
        data=data, pool=str(pooled.out), limit=plan.answers, arms=answered_arms, workers=cfg.workers,
        endpoint=cfg.endpoint, out=str(reports),
    )  # fmt: skip
    answered = stage("answers", rag, rag_cfg)
    result.outputs = {
        "dataset": dataset_dir(data),
        "triplets": dataset_dir(data) / "triplets",
        "pool": Path(pooled.out),
        "fine-tuned model": Path(model.out),
        "retrieval reports": Path(ev.out),
        "answer report": Path(answered.report),
        "report page": Path(reports) / "index.html",
    }
    _write_card(result, reports)
    return result


def _write_card(result: PipelineResult, reports: Path) -> None:
    from corpus.jsonl import write_json

    plan = asdict(result.plan)
    write_json(
        Path(reports) / "run_plan.json",
        {
            "name": result.name,
            "budget_s": result.budget_s,
            "plan": plan,
            "estimated_s": round(result.plan.total_s, 1),
            "actual": result.actual,
            "actual_s": round(result.total_s, 1),
            "outputs": {k: str(v) for k, v in result.outputs.items()},
        },
    )
    result.outputs["plan vs actual"] = Path(reports) / "run_plan.json"


def show(result: PipelineResult) -> None:
    from rich.table import Table

    from corpus.console import console

    if not result.outputs:
        console.print("plan only: nothing was run")
        return
    t = Table(title=f"{result.name}: estimate vs actual")
    t.add_column("stage")
    t.add_column("estimate", justify="right")
    t.add_column("actual", justify="right")
    warm = result.actual.get("plan (warm-up)", 0.0)
    estimate = result.plan.total_s + warm  # the warm-up is spent before the estimate: it counts as itself
    for stage, seconds in result.actual.items():
        t.add_row(stage, _minutes(result.plan.stages.get(stage, seconds)), _minutes(seconds))
    total = result.total_s
    off = (total - estimate) / estimate * 100 if estimate else 0.0
    t.add_row("[bold]total", f"[bold]{_minutes(estimate)}", f"[bold]{_minutes(total)} ({off:+.0f}%)")
    console.print(t)
    if result.budget_s:
        verdict = "within" if total <= result.budget_s else "over"
        console.print(
            f"{verdict} the budget of {result.budget_s / 60:g} min by {abs(result.budget_s - total) / 60:.1f} min"
        )
    w = Table(title="where everything is")
    w.add_column("what")
    w.add_column("path")
    for what, path in result.outputs.items():
        w.add_row(what, str(path))
    pool = result.outputs.get("pool")
    w.add_row("chatbot", f"ragtune chat --data {result.data}" + (f" --pool {pool}" if pool else ""))
    console.print(w)
