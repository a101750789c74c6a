"""The one run configuration of the fine-tuning stage, and the fingerprint that decides whether a run may resume."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

from corpus.errors import RagtuneError
from corpus.options import check_options, option
from train.precision import PRECISION_HELP, PRECISIONS

# CLI name -> what it trains with; all use in-batch negatives plus the hard negatives; the gist ones let the base
# model (the guide) mask in-batch candidates it scores above the positive (likely false negatives)
LOSSES = ("mnrl", "cached-mnrl", "gist", "cached-gist")
GUIDED = ("gist", "cached-gist")
# the step rule (max_steps None): one epoch of the training rows, at least STEPS_MIN (small sets are repeated), at most
# what STEP_TOKENS pays for. Once each pass is padded only to its own longest text (train/length_sorted.py) a step
# costs its rows' tokens (positives, negatives and any further queries, each cut at max_seq_length) plus about
# ROW_OVERHEAD tokens a row for its first query and the step's fixed work: fitted on two datasets with one query a
# row, bf16, 2 CPU cores (O*NET, 226 document tokens a row: 4.5 s a step; ESCO, 114 a row: 2.7 s). A further query
# of a row (queries_per_row) costs its tokens plus QUERY_OVERHEAD, the fixed cost of a short text of its own: fitted
# on O*NET with 4 queries a row (226 + 3 x (21 + 8) tokens: 93 steps in the same 9 minutes)
STEPS_MIN, STEP_TOKENS, ROW_OVERHEAD, QUERY_OVERHEAD = 40, 1_080_000, 50, 8
# a text read beyond LONG_TEXT tokens costs more than its tokens: a step of manual pages read at 512 tokens (936
# tokens a row) took 4.5x a step of the same rows at 256 (512 a row), where the tokens say 1.8x; counting such a
# text's n tokens as n * (n / LONG_TEXT) ** LONG_TEXT_POWER keeps the budget's minutes at any length (2 CPU cores,
# bf16; benchmarks/bench_training_forward.py times the forward + backward part: 3.9x for 1.9x the tokens)
LONG_TEXT, LONG_TEXT_POWER = 256, 1.5
# queries sharing one positive in a row (train/shared_positive.py), when the data has them: a shared positive is
# embedded once for all its queries, so a step sees more queries for nearly the same cost; more than 4 a row did
# not pay on O*NET (measurements: docs/steps/2-train.md)
QUERIES_PER_ROW_MAX = 4
# the base model's median rank of the training positives (step 0) up to which mined negatives are used by default
NEGATIVES_RANK_MAX = 1
# dev metrics the evaluator reports (train/dev_eval.py: harness.metrics under sentence-transformers names, without the
# "dev_cosine_" prefix)
METRICS = ("mrr@10", "ndcg@10", "accuracy@1", "accuracy@3", "accuracy@5", "accuracy@10", "map@100")


@dataclass
class TrainConfig:
    """training"""

    triplets: str = option(
        "", help="triplet folder from step 0 (train.jsonl, dev.jsonl, card.json; default: <data>/triplets of O*NET)"
    )
    base_model: str = option(
        "base", help="'base' (shipped MiniLM) or a sentence-transformers folder", flag="--embedder"
    )
    out: str = option(
        "",
        help="where the fine-tuned model and its card go (default: runs/finetuned/final; with --data runs/<dataset>/final)",
    )
    loss: str = option(
        "mnrl",
        help="mnrl / cached-mnrl: in-batch + hard negatives; gist / cached-gist: the same, guided by the base model, "
        "which masks in-batch candidates it scores above the positive",
        choices=LOSSES,
    )
    # mined negatives by default only where the base model already ranks the median training positive first (step
    # 0's card): there the documents just below the positive are other documents, and telling them apart is what
    # is left to learn. Where it does not (O*NET: related occupations share tasks, median rank 5), the top
    # non-positives are often relevant too, and as negatives they cost more than they give. One outside negative
    # per row (ESCO, ISCO, Wikipedia, from a part no pool draws) is the default when step 0 mined them: it teaches
    # the model that task-like text is not enough, which keeps the lift as the pool grows (measurements:
    # docs/steps/2-train.md)
    num_negatives: int | None = option(
        None,
        help="hard negatives per row mined from the dataset's own documents (default: 1 when the base model ranks "
        f"the median training positive at most {NEGATIVES_RANK_MAX} in step 0, else 0)",
        min=0,
        max=20,
    )
    outside_negatives: int | None = option(
        None,
        help="hard negatives per row from the training side of the outside documents (step 0 --outside), placed "
        "before the dataset's own; rows with fewer are left out (default: 1 when the triplets carry them, else 0)",
        min=0,
        max=20,
    )
    queries_per_row: int | None = option(
        None,
        help="training queries in a row that share its positive, which is embedded once for all of them "
        f"(mnrl only); default: as many as the median positive has, at most {QUERIES_PER_ROW_MAX} "
        "(1 with the other losses)",
        min=1,
        max=32,
    )
    batch_size: int = option(32, help="rows per batch (in-batch negatives need ≥ 2)", min=1)
    mini_batch_size: int = option(16, help="cached-mnrl/cached-gist only: rows per forward pass (memory)", min=1)
    learning_rate: float = option(1e-4, help="learning rate", flag="--lr", min=0.0, max=1.0)
    warmup_ratio: float = option(
        0.1, help="share of the optimizer steps spent warming up (so it scales with the steps)", min=0.0, max=0.99
    )
    weight_decay: float = option(0.01, help="AdamW weight decay", min=0.0)
    epochs: float = option(1.0, help="used when --max-steps is 0", min=0.0)
    max_steps: int | None = option(
        None,
        help=f"optimizer steps; default: one epoch of the training rows (rows / batch size), at least {STEPS_MIN}, "
        f"at most {STEP_TOKENS:,} tokens (the 10-minute budget on 2 CPU cores), a row counting the tokens of its "
        f"positive, negatives and further queries (each cut at --max-seq-length; a further query {QUERY_OVERHEAD} more; "
        f"a text beyond {LONG_TEXT} tokens more than its tokens), plus {ROW_OVERHEAD}; 0 = run --epochs",
        min=0,
    )
    max_seq_length: int | None = option(
        None,
        help="tokens per text; default: from the data, the length that covers --seq-length-coverage of the training "
        "documents, never below the base model's own max_seq_length, at most what its position embeddings allow",
        min=8,
        max=8192,
    )
    seq_length_coverage: float = option(
        0.9, help="with the default --max-seq-length: share of training documents kept whole", min=0.5, max=1.0
    )
    # None: keep the prompts stored with the base model (e5/bge folders carry theirs)
    query_prompt: str | None = option(None, help="prefix for queries, e.g. 'query: ' (default: the base model's)")
    doc_prompt: str | None = option(None, help="prefix for documents, e.g. 'passage: ' (default: the base model's)")
    lora: bool = option(False, help="train a LoRA adapter (merged into the saved model)")
    lora_rank: int = option(16, help="LoRA rank", min=1)
    lora_alpha: int = option(32, help="LoRA alpha", min=1)
    lora_dropout: float = option(0.1, help="LoRA dropout", min=0.0, max=1.0)
    eval_steps: int | None = option(
        None, help="dev evaluation and checkpoint interval (default: half the steps, two evaluations)", min=1
    )
    dev_candidates: int = option(
        2000,
        help="dev queries are scored against their relevant documents plus a seeded sample of others, this many in "
        "all (the whole corpus when smaller): dev cost does not grow with the corpus",
        min=10,
    )
    metric: str = option("mrr@10", help="dev metric that picks the best checkpoint", choices=METRICS)
    early_stopping_patience: int = option(
        0, help="stop after N evaluations without improvement (0 = off)", flag="--early-stopping", min=0
    )
    seed: int = option(13, help="training seed")
    # how the run executes, not what it learns: left out of the fingerprint so a resume may change them
    threads: int = option(0, help="CPU threads for torch (0 = torch's default)", min=0)
    precision: str = option(
        "auto",
        help=PRECISION_HELP,
        choices=PRECISIONS,
    )
    device: str = option("", help="cpu, cuda, cuda:1 (default: cuda when present)")
    eval_batch_size: int = option(64, help="dev evaluation batch size", min=1)
    forward_rows: int | None = option(
        None,
        help="texts per forward pass during training, sorted by length so each pass pads only to its own longest "
        "text (default: 8 on a CPU, where padding costs as much as text; 0 = the whole batch, as on CUDA)",
        min=0,
    )
    keep_checkpoints: bool = option(False, help="keep <out>/checkpoints after the final save")

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise RagtuneError(f"unknown loss '{self.loss}' (choose one of: {', '.join(LOSSES)})")
        if self.precision not in PRECISIONS:
            raise RagtuneError(f"unknown precision '{self.precision}' (choose one of: {', '.join(PRECISIONS)})")
        if self.metric not in METRICS:
            raise RagtuneError(f"unknown metric '{self.metric}' (choose one of: {', '.join(METRICS)})")
        if (self.queries_per_row or 1) > 1 and self.loss != "mnrl":
            raise RagtuneError(f"--queries-per-row {self.queries_per_row} needs --loss mnrl, not {self.loss}")
        if self.batch_size < 2:
            raise RagtuneError("batch size must be at least 2: in-batch negatives need other rows in the batch")
        if not 0 < self.learning_rate < 1:
            raise RagtuneError(f"learning rate must be in (0, 1), got {self.learning_rate}")
        if not 0 <= self.warmup_ratio < 1:
            raise RagtuneError(f"warmup ratio must be in [0, 1), got {self.warmup_ratio}")
        if (self.max_steps is not None and self.max_steps < 0) or self.epochs <= 0:
            raise RagtuneError("max steps must be >= 0 (0 = whole epochs) and epochs > 0")
        check_options(self)

    # fields that change what the model learns; the rest only change how fast or where
    RUNTIME_ONLY = ("out", "threads", "precision", "device", "eval_batch_size", "keep_checkpoints", "forward_rows")

    def learning_settings(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.RUNTIME_ONLY}

    def as_dict(self) -> dict:
        return asdict(self)


def counted_tokens(tokens: float) -> float:
    """What a text of `tokens` tokens counts for in the step budget: its tokens, more beyond LONG_TEXT."""
    return tokens * max(1.0, tokens / LONG_TEXT) ** LONG_TEXT_POWER


def scaled_steps(rows: int, batch_size: int, tokens_per_row: float) -> int:
    """The step rule of max_steps None: one epoch, at least STEPS_MIN, at most what STEP_TOKENS pays for."""
    high = max(1, int(STEP_TOKENS // (batch_size * (tokens_per_row + ROW_OVERHEAD))))
    return min(high, max(STEPS_MIN, -(-rows // batch_size)))


def run_fingerprint(cfg: TrainConfig, data_fingerprint: str, base_fingerprint: str) -> str:
    """Same fingerprint = same training run: only then may checkpoints be resumed or a finished model reused."""
    settings = cfg.learning_settings()
    settings.pop("triplets")  # the data is identified by content, not by where it lies
    settings.pop("base_model")
    blob = json.dumps({"settings": settings, "data": data_fingerprint, "base": base_fingerprint}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
