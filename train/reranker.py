"""Training a cross-encoder reranker from the step-0 triplets: CrossEncoderTrainer over (query, document) pairs.

No reranker weights ship in the registries, so the reranker starts from the shipped MiniLM (a fresh one-logit
head) and learns from the same data as the embedder: each training row gives its positive and its first
`num_negatives` mined hard negatives. Resumable exactly like step 2 (train.run_state: same fingerprint rules,
checkpoints, kill -9 resume). Dev is scored against a fixed-size candidate set per query (its relevant documents
plus the BM25 top `dev_candidates` others), so a dev evaluation costs the same whatever the corpus size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path

from corpus.errors import RagtuneError
from corpus.jsonl import write_json
from corpus.models import load_reranker
from corpus.options import check_options, option
from train.callbacks import CheckpointAtEnd, StepProgress
from train.examples import TrainingData, load_training_data
from train.precision import PRECISION_HELP, PRECISIONS, resolve_precision
from train.run_environment import quiet_libraries, versions
from train.run_state import CARD_FILE, checkpoints_dir, finish_run, start_record
from train.training_run import open_run, run_timer, train_from_plan, trained_from, trainer_arguments

RERANKER_LOSSES = ("bce", "lambda", "mnrl")
DEV_NAME = "dev"
# CrossEncoderRerankingEvaluator's keys (after the evaluator name) -> the labels tables and cards show
DEV_SHOWN = {"mrr@10": "MRR@10", "ndcg@10": "nDCG@10", "map": "MAP"}


@dataclass
class RerankerConfig:
    """Reranker training"""

    triplets: str = option("", help="triplet folder from 0_build_triplets.py")
    base_model: str = option(
        "base", help="'base' (shipped MiniLM) or a local model folder; a new one-logit head is put on it"
    )
    out: str = option("", help="where the reranker and its training_card.json go")
    loss: str = option(
        "mnrl",
        help="bce: pointwise binary cross-entropy over pairs; lambda: "
        "listwise LambdaLoss over (positive + negatives) per query; mnrl: softmax over the positive, "
        "the mined negatives and --in-batch-negatives other queries' documents",
        choices=RERANKER_LOSSES,
    )
    num_negatives: int = option(1, help="mined hard negatives used per training row", min=1, max=50)
    batch_size: int = option(8, help="pairs per step (bce) or queries per step (lambda, mnrl)", min=1, max=4096)
    in_batch_negatives: int = option(3, help="mnrl: other queries' documents scored per query", min=0, max=4096)
    learning_rate: float = option(1e-4, help="peak learning rate", min=1e-7, max=1e-2)
    warmup_ratio: float = option(0.1, help="share of steps with a rising learning rate", min=0.0, max=0.9)
    # a softmax over the positive and its negatives (mnrl) learns from this little data where pointwise BCE stays
    # at chance; the default is what fits a CPU budget of minutes (measurements: docs/arms.md)
    max_steps: int = option(400, help="optimizer steps", min=1, max=1_000_000)
    # short pairs: the title and the start of a document carry the match; whole documents train several times
    # slower and did not score better at equal steps (docs/arms.md)
    max_seq_length: int = option(
        64,
        help="tokens of query + document read together (O*NET: the title and the start of the description)",
        min=16,
        max=512,
    )
    eval_steps: int = option(200, help="dev evaluation and checkpoint interval", min=1, max=1_000_000)
    dev_queries: int = option(
        100,
        help="dev queries scored (a seeded sample; 0 = all): each costs 1 + --dev-candidates pairs per evaluation",
        min=0,
        max=1_000_000,
    )
    dev_candidates: int = option(
        15, help="BM25 candidates per dev query besides its relevant documents", min=1, max=1000
    )
    seed: int = option(13, help="seed of the head's initialisation and the data order")
    threads: int = option(0, help="CPU threads for torch (0 = torch's default)", min=0, max=512)
    precision: str = option("auto", help=PRECISION_HELP, choices=PRECISIONS)
    device: str = option("", help="cpu, cuda, cuda:1 (default: cuda when present)")
    eval_batch_size: int = option(64, help="pairs per dev scoring batch", min=1, max=4096)
    keep_checkpoints: bool = option(False, help="keep <out>/checkpoints after the final save")

    # how the run executes, not what it learns: left out of the fingerprint so a resume may change them
    RUNTIME_ONLY = ("out", "threads", "precision", "device", "eval_batch_size", "keep_checkpoints")

    def __post_init__(self):
        check_options(self)

    def learning_settings(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.RUNTIME_ONLY}

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class RerankerResult:
    out: Path
    card: dict
    action: str  # "trained", "resumed" or "reused"


def pair_rows(data: TrainingData, cfg: RerankerConfig):
    """The training dataset: (query, document, label) pairs for bce; (query, docs, labels) lists for lambda.
    Rows with fewer mined negatives than asked are left out (their count is returned)."""
    from datasets import Dataset

    kept = [t for t in data.triplets if len(t.negatives) >= cfg.num_negatives]
    if not kept:
        raise RagtuneError(f"no triplet has {cfg.num_negatives} negatives; lower --num-negatives")
    if cfg.loss == "mnrl":
        rows = {"query": [t.query for t in kept], "positive": [t.positive for t in kept]}
        for i in range(cfg.num_negatives):
            rows[f"negative_{i + 1}"] = [t.negatives[i] for t in kept]
    elif cfg.loss == "lambda":
        rows = {
            "query": [t.query for t in kept],
            "docs": [[t.positive, *t.negatives[: cfg.num_negatives]] for t in kept],
            "labels": [[1] + [0] * cfg.num_negatives for _ in kept],
        }
    else:
        rows = {"query": [], "document": [], "label": []}
        for t in kept:
            for doc, label in ((t.positive, 1.0), *((n, 0.0) for n in t.negatives[: cfg.num_negatives])):
                rows["query"].append(t.query)
                rows["document"].append(doc)
                rows["label"].append(label)
    return Dataset.from_dict(rows), len(data.triplets) - len(kept)


def dev_samples(data: TrainingData, candidates: int, max_queries: int = 0, seed: int = 13) -> list[dict]:
    """Per dev query (a seeded sample of max_queries, 0 = all): its relevant documents and the top BM25 others
    over the whole corpus, a fixed-size set whatever the corpus size."""
    from corpus.beir import Document
    from corpus.splits import stable_order
    from harness.bm25 import BM25Arm

    if not data.dev_queries:
        return []
    arm = BM25Arm({d: Document(d, "", text) for d, text in data.corpus.items()})
    qids = stable_order(data.dev_queries, f"{seed}/reranker-dev", key=str)[: max_queries or None]
    _, idx = arm.search([data.dev_queries[q] for q in qids], candidates + max(map(len, data.dev_relevant.values())))
    samples = []
    for q, row in zip(qids, idx):
        relevant = data.dev_relevant[q]
        others = [arm.doc_ids[i] for i in row if i >= 0 and arm.doc_ids[i] not in relevant][:candidates]
        samples.append(
            {
                "query": data.dev_queries[q],
                "positive": [data.corpus[d] for d in sorted(relevant)],
                "negative": [data.corpus[d] for d in others],
            }
        )
    return samples


def build_loss(model, cfg: RerankerConfig):
    import torch
    from sentence_transformers.cross_encoder.losses import (
        BinaryCrossEntropyLoss,
        LambdaLoss,
        MultipleNegativesRankingLoss,
    )

    if cfg.loss == "mnrl":
        return MultipleNegativesRankingLoss(model, num_negatives=cfg.in_batch_negatives or None)
    if cfg.loss == "lambda":
        return LambdaLoss(model, mini_batch_size=cfg.batch_size)
    # one positive per num_negatives negatives: weight the positives back to balance
    return BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(float(cfg.num_negatives)))


def shown_dev(raw: dict) -> dict[str, float]:
    """Evaluator or trainer output -> {'MRR@10': ..., 'nDCG@10': ..., 'MAP': ...}."""
    out = {}
    for key, label in DEV_SHOWN.items():
        for name in (f"{DEV_NAME}_{key}", f"eval_{DEV_NAME}_{key}"):
            if name in raw:
                out[label] = round(float(raw[name]), 4)
    return out


def build_evaluator(samples: list[dict], batch_size: int):
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator

    if not samples:
        return None
    return CrossEncoderRerankingEvaluator(
        samples=samples, at_k=10, name=DEV_NAME, batch_size=batch_size, write_csv=False
    )


def build_trainer(model, train_dataset, cfg: RerankerConfig, output_dir: Path, evaluator, callbacks=()):
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from transformers import PrinterCallback

    device = str(model.device)
    if evaluator is not None:
        schedule = dict(
            eval_strategy="steps",
            eval_steps=cfg.eval_steps,
            load_best_model_at_end=True,
            metric_for_best_model=f"eval_{DEV_NAME}_ndcg@10",
            greater_is_better=True,
        )
    else:
        schedule = dict(eval_strategy="no")
    args = CrossEncoderTrainingArguments(
        **trainer_arguments(cfg, output_dir, device),
        max_steps=cfg.max_steps,
        save_strategy="steps",
        save_steps=cfg.eval_steps,
        save_total_limit=2,
        **schedule,
    )
    trainer = CrossEncoderTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        loss=build_loss(model, cfg),
        evaluator=evaluator,
        callbacks=[*callbacks, CheckpointAtEnd()],
    )
    trainer.remove_callback(PrinterCallback)
    return trainer


def _dev_history(state) -> dict[str, dict[str, float]]:
    return {str(int(e["step"])): shown_dev(e) for e in state.log_history if f"eval_{DEV_NAME}_ndcg@10" in e}


def _what_was_trained(
    cfg: RerankerConfig, identity: dict, base, data: TrainingData, train_rows: int, skipped: int, n_dev: int
) -> dict:
    """The part of the training card known before the first step: settings, data and how dev is scored."""
    return {
        "kind": "cross-encoder reranker",
        **trained_from(identity, base, data),
        "train_rows": train_rows,
        "rows_short_of_negatives": skipped,
        "config": cfg.as_dict(),
        "dev_queries": n_dev,
        "dev_scored_against": f"relevant documents + BM25 top {cfg.dev_candidates} others per query",
    }


def train_reranker(cfg: RerankerConfig, overwrite: bool = False) -> RerankerResult:
    """Train (or resume, or reuse) the reranker cfg describes; the model and training_card.json land in cfg.out."""
    import torch

    quiet_libraries()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    data = load_training_data(cfg.triplets)
    torch.manual_seed(cfg.seed)  # the new head's initial weights
    base = load_reranker(cfg.base_model, cfg.max_seq_length, cfg.device, num_labels=1)
    model = base.model
    identity, plan = open_run(cfg, data.fingerprint, base.fingerprint, overwrite, str(model.device))
    if plan.action == "done":
        return RerankerResult(out, plan.card, "reused")
    train_dataset, skipped = pair_rows(data, cfg)
    samples = dev_samples(data, cfg.dev_candidates, cfg.dev_queries, cfg.seed)
    evaluator = build_evaluator(samples, cfg.eval_batch_size)
    score = (lambda: shown_dev(evaluator(model))) if evaluator is not None else None
    record = start_record(out, identity, plan, score, f"dev reranking by the untrained head ({len(samples)} queries)")
    timer = run_timer(out, record)
    trainer = build_trainer(
        model, train_dataset, cfg, checkpoints_dir(out), evaluator, callbacks=[StepProgress("nDCG@10"), timer]
    )
    run = train_from_plan(trainer, plan)
    history = _dev_history(run.state)
    dev_after = history.get(str(run.best_step)) or (shown_dev(evaluator(model)) if evaluator else {})
    model.save(str(out))
    card = _what_was_trained(cfg, identity, base, data, len(train_dataset), skipped, len(samples))
    card.update(
        device=str(model.device), precision=resolve_precision(cfg.precision, str(model.device)),
        threads=torch.get_num_threads(), steps=run.state.global_step,
        best_step=run.best_step, resumed_from_step=run.resumed_from, wall_time_s=round(timer.elapsed(), 1),
        dev_before=record["dev_before"] or {}, dev_after=dev_after, dev_history=history, versions=versions(),
    )  # fmt: skip
    write_json(out / CARD_FILE, card)
    finish_run(out, cfg.keep_checkpoints)
    return RerankerResult(out, card, "resumed" if run.resumed_from is not None else "trained")
