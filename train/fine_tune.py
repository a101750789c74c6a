"""Contrastive fine-tuning with SentenceTransformerTrainer: resumable, dev-evaluated, saved with prompts and card."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from corpus.jsonl import write_json
from corpus.models import Embedder, load_embedder, pick_device
from train.callbacks import CheckpointAtEnd, StepProgress
from train.config import TrainConfig
from train.dev_eval import SHOWN, build_evaluator, dev_candidates, metric_key, shown_metrics
from train.examples import TrainingData, column_prompts, load_training_data, to_dataset
from train.length_sorted import default_forward_rows, wrap_loss_models
from train.lora import add_lora, merge_lora, trainable_share
from train.precision import resolve_precision
from train.recipe import resolve_recipe, with_data_defaults
from train.run_environment import quiet_libraries, versions
from train.run_state import CARD_FILE, checkpoints_dir, finish_run, start_record
from train.training_run import open_run, run_timer, train_from_plan, trained_from, trainer_arguments


@dataclass
class TrainResult:
    out: Path
    card: dict
    action: str  # "trained", "resumed" or "reused" (a finished run with the same settings was found)


def prepare_model(cfg: TrainConfig) -> tuple[Embedder, TrainConfig]:
    """The base model with this run's prompts; cfg comes back with the prompts resolved. The model keeps its own
    sequence length until the recipe is resolved (it weighs the data's length against the base model's)."""
    base = load_embedder(cfg.base_model, device=pick_device(cfg.device or None))
    cfg = dataclasses.replace(
        cfg,
        query_prompt=base.query_prompt if cfg.query_prompt is None else cfg.query_prompt,
        doc_prompt=base.document_prompt if cfg.doc_prompt is None else cfg.doc_prompt,
    )
    # stored with the model: steps 3-5 read them back through Embedder.prompt
    base.model.prompts = {**(base.model.prompts or {}), "query": cfg.query_prompt, "document": cfg.doc_prompt}
    return base, cfg


def load_guide(cfg: TrainConfig, device: str):
    """The untouched base model that guides GIST losses, reading as many tokens as the trained model."""
    guide = load_embedder(cfg.base_model, device=device).model
    guide.max_seq_length = cfg.max_seq_length or guide.max_seq_length
    guide.prompts = {**(guide.prompts or {}), "query": cfg.query_prompt, "document": cfg.doc_prompt}
    for p in guide.parameters():
        p.requires_grad_(False)
    return guide


def build_loss(model, cfg: TrainConfig):
    from sentence_transformers.sentence_transformer.losses import (
        CachedGISTEmbedLoss,
        CachedMultipleNegativesRankingLoss,
        GISTEmbedLoss,
        MultipleNegativesRankingLoss,
    )

    if cfg.loss == "cached-mnrl":
        return CachedMultipleNegativesRankingLoss(model, mini_batch_size=cfg.mini_batch_size)
    if cfg.loss == "gist":
        return GISTEmbedLoss(model, load_guide(cfg, str(model.device)))
    if cfg.loss == "cached-gist":
        return CachedGISTEmbedLoss(model, load_guide(cfg, str(model.device)), mini_batch_size=cfg.mini_batch_size)
    if (cfg.queries_per_row or 1) > 1:
        from train.shared_positive import SharedPositiveRankingLoss

        return SharedPositiveRankingLoss(model, cfg.queries_per_row)
    return MultipleNegativesRankingLoss(model)


def _schedule(cfg: TrainConfig, checkpoints: bool) -> dict:
    """When the trainer evaluates and saves: every eval_steps keeping the best dev model, or never (search trials)."""
    if not checkpoints:
        return dict(eval_strategy="no", save_strategy="no")
    return dict(
        eval_strategy="steps",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.eval_steps,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="eval_" + metric_key(cfg.metric),
        greater_is_better=True,
    )


def _run_callbacks(cfg: TrainConfig, callbacks, checkpoints: bool) -> list:
    from transformers import EarlyStoppingCallback

    callbacks = list(callbacks)
    if checkpoints:
        callbacks.append(CheckpointAtEnd())
        if cfg.early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
    return callbacks


def build_trainer(
    model, data: TrainingData, cfg: TrainConfig, output_dir: Path, evaluator, callbacks=(), checkpoints: bool = True
):
    """The trainer for one run. Without checkpoints (search trials) it neither saves nor evaluates."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from transformers import PrinterCallback

    cfg = with_data_defaults(cfg, data)  # callers that skip resolve_recipe (tests, search trials)
    train_dataset, _ = to_dataset(data.triplets, cfg.num_negatives, cfg.outside_negatives, cfg.queries_per_row)
    if cfg.max_seq_length is not None:  # None only where a caller skipped resolve_recipe: the model's own length
        model.max_seq_length = cfg.max_seq_length
    device = str(model.device)
    args = SentenceTransformerTrainingArguments(
        **trainer_arguments(cfg, output_dir, device),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1,
        weight_decay=cfg.weight_decay,
        # duplicates in a batch (the same occupation as two rows' positive) would be false in-batch negatives
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        prompts=column_prompts(
            cfg.query_prompt, cfg.doc_prompt, cfg.num_negatives + cfg.outside_negatives, cfg.queries_per_row
        ),
        **_schedule(cfg, checkpoints),
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        loss=wrap_loss_models(build_loss(model, cfg), _forward_rows(cfg, device)),
        evaluator=evaluator,
        callbacks=_run_callbacks(cfg, callbacks, checkpoints),
    )
    # without tqdm the trainer prints every log dict; StepProgress shows loss and dev score instead
    trainer.remove_callback(PrinterCallback)
    return trainer


def _forward_rows(cfg: TrainConfig, device: str) -> int:
    return default_forward_rows(device) if cfg.forward_rows is None else cfg.forward_rows


def _eval_history(state) -> dict[int, dict[str, float]]:
    return {int(e["step"]): shown_metrics(e) for e in state.log_history if any(k.startswith("eval_") for k in e)}


def _what_was_trained(cfg: TrainConfig, identity: dict, base, data, candidates, recipe, model) -> dict:
    """The part of the training card known before the first step: settings, data and where dev was scored."""
    trainable, total = trainable_share(model)
    return {
        **trained_from(identity, base, data),
        "dev_queries": len(data.dev_queries),
        "dev_corpus_documents": len(candidates.ids),
        "config": cfg.as_dict(),
        "recipe": recipe.card(),
        "dev_set": data.triplet_card.get("dev", {"source": "dev split"}),
        "dev_scored_against": candidates.card(),
        "outside_negatives": data.triplet_card.get("outside_negatives"),
        "prompts": {"query": cfg.query_prompt, "document": cfg.doc_prompt},
        "trainable_parameters": trainable,
        "total_parameters": total,
        "versions": versions(),
    }


def fine_tune(cfg: TrainConfig, overwrite: bool = False, extra_callbacks=()) -> TrainResult:
    """Train (or resume, or reuse) the run cfg describes; the model and its training_card.json land in cfg.out."""
    import torch

    quiet_libraries()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    data = load_training_data(cfg.triplets)
    base, cfg = prepare_model(cfg)
    model = base.model  # the SentenceTransformer the trainer updates in place
    cfg, recipe = resolve_recipe(cfg, data, model)
    model.max_seq_length = cfg.max_seq_length
    identity, plan = open_run(cfg, data.fingerprint, base.fingerprint, overwrite, str(model.device))
    if plan.action == "done":
        return TrainResult(out, plan.card, "reused")

    if cfg.lora:
        add_lora(model, cfg.lora_rank, cfg.lora_alpha, cfg.lora_dropout)
    candidates = dev_candidates(data, cfg.dev_candidates, cfg.seed)
    evaluator = build_evaluator(data, cfg.query_prompt, cfg.doc_prompt, cfg.eval_batch_size, candidates)
    card = _what_was_trained(cfg, identity, base, data, candidates, recipe, model)
    what = f"dev metrics of the base model ({len(data.dev_queries)} queries, {len(candidates.ids):,} candidates)"
    record = start_record(out, identity, plan, lambda: shown_metrics(evaluator(model)), what)
    timer = run_timer(out, record)
    label = SHOWN[cfg.metric]
    trainer = build_trainer(
        model, data, cfg, checkpoints_dir(out), evaluator, callbacks=[StepProgress(label), timer, *extra_callbacks]
    )
    run = train_from_plan(trainer, plan)
    state, best_step, resumed_from = run.state, run.best_step, run.resumed_from
    history = _eval_history(state)
    dev_after = history.get(best_step) or shown_metrics(evaluator(model))
    if cfg.lora:
        merge_lora(model)
    model.save(str(out))
    card.update(
        train_rows=len(trainer.train_dataset), device=str(model.device),
        precision=resolve_precision(cfg.precision, str(model.device)), threads=torch.get_num_threads(),
        forward_rows=_forward_rows(cfg, str(model.device)),
        steps=state.global_step, epochs=round(state.epoch or 0.0, 4), best_step=best_step,
        resumed_from_step=resumed_from, wall_time_s=round(timer.elapsed(), 1), metric=label,
        dev_before=record["dev_before"], dev_after=dev_after, dev_history={str(k): v for k, v in sorted(history.items())},
    )  # fmt: skip
    write_json(out / CARD_FILE, card)
    finish_run(out, cfg.keep_checkpoints)
    return TrainResult(out, card, "resumed" if resumed_from is not None else "trained")
