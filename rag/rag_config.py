"""Step 4's settings, declared once: the `ragtune rag` flags are generated from these fields and the run card
records them as they are."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from corpus.cache_policy import CACHE_POLICIES, CachePolicy
from corpus.options import check_options, option
from harness.arm_engine import ArmOptions
from harness.arms import DEFAULT_ARMS
from harness.retrieval_options import RetrievalOptions
from rag.llm_session import EndpointOptions


@dataclass
class RagConfig:
    data: str | None = option(None, help="BEIR folder or flat file (default: O*NET)")
    split: str = option("test", help="split whose queries are answered")
    pool: str | None = option(
        None,
        help="candidate pool JSONL from step 1 (default: <data>/corpus_800.jsonl if it exists, else the whole corpus)",
    )
    limit: int = option(
        10,
        help="queries to answer, in the stratified design's draw order (more where the arms' retrieval differs; "
        "a larger limit extends a smaller one); 0 = all",
        min=0,
    )
    budget: float | None = option(
        None,
        help="minutes for the whole step instead of --limit: one query is answered first to measure the seconds per "
        "answer here, then the plan (queries per stratum, expected minimum detectable difference) is printed",
        min=0.1,
    )
    effect: float = option(
        0.1, help="the difference in correctness the summary says how many queries would detect", min=0.001, max=1.0
    )
    top_k: int = option(3, help="passages per prompt", min=1)
    arms: list[str] | None = option(
        None,
        help="retriever arms in comparison order, as step 3 takes them: NAME=PATH, base, bm25, a model folder, "
        "NAME=a+b (reciprocal-rank fusion), NAME=a+b:convex (weight fitted on dev), NAME=a>RERANKER "
        f"(default: {' '.join(DEFAULT_ARMS)} when step 2 wrote it)",
    )
    closed_book: bool = option(False, help="also answer with no passages (the question alone): a lower bracket")
    oracle: bool = option(
        True,
        help="leave out the oracle bracket (the upper bound: an answer from the relevant documents, padded to top-k); "
        "it is on by default",
    )
    prompt: str | None = option(None, help="prompt template file with {question} and {context} (default: built-in)")
    closed_book_prompt: str | None = option(None, help="closed-book prompt file with {question} (default: built-in)")
    max_tokens: int = option(
        48, help="answer length cap (an occupation and a sentence fit in 48 with the built-in prompt)", min=1
    )
    temperature: float = option(0.0, help="sampling temperature", min=0.0)
    workers: int = option(1, help="requests in flight at once", min=1)
    cache: CachePolicy = option(CachePolicy.REUSE, help="answer cache: reuse or recompute", choices=CACHE_POLICIES)
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)
    judge: bool = option(False, help="score faithfulness and correctness with an LLM")
    judge_base_url: str | None = option(None, help="judge endpoint (default: the answer endpoint)")
    judge_model: str | None = option(None, help="judge model (default: the answer model)")
    judge_api_key_env: str | None = option(None, help="judge key variable (default: --llm-api-key-env)")
    judge_repeats: int = option(1, help="times the judge is asked (sampled, seeded when > 1): its noise", min=1)
    judge2_base_url: str | None = option(None, help="a second judge's endpoint, for inter-judge agreement")
    judge2_model: str | None = option(None, help="the second judge's model (needed with --judge2-base-url)")
    judge_claims_prompt: str | None = option(None, help="claim-faithfulness judge prompt file (default: built-in)")
    judge_correctness_prompt: str | None = option(None, help="answer-correctness judge prompt file (default: built-in)")
    bootstrap: int = option(10_000, help="bootstrap / randomization samples", min=100)
    seed: int = option(13, help="seed of the bootstrap and randomization test")
    arm_options: ArmOptions = field(default_factory=ArmOptions)
    retrieval: RetrievalOptions = field(default_factory=RetrievalOptions)
    out: str | None = option(None, help="where reports go (default: reports/)")

    def __post_init__(self):
        check_options(self)

    def card(self) -> dict:
        return asdict(self)
