#!/usr/bin/env python
"""Step 2: fine-tune the embedder on the triplets from step 0 (contrastive loss, in-batch + hard negatives)."""

from __future__ import annotations

import argparse

import corpus  # noqa: F401  (offline before anything loads a model)
from corpus.cli import ArgumentParser, exit_with


def parse_args(argv):
    from corpus.paths import DEFAULT_DATASET, DEFAULT_FINETUNED, triplets_dir
    from train.config import LOSSES, METRICS, PRECISIONS, TrainConfig

    d = TrainConfig()
    p = ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument(
        "--triplets",
        default=str(triplets_dir(DEFAULT_DATASET)),
        help="triplet folder from 0_build_triplets.py (train.jsonl, dev.jsonl, card.json)",
    )
    p.add_argument(
        "--base-model", default=d.base_model, help="'base' (shipped MiniLM) or a sentence-transformers folder"
    )
    p.add_argument("--out", default=str(DEFAULT_FINETUNED), help="where the fine-tuned model and its card go")
    p.add_argument("--overwrite", action="store_true", help="discard a finished model or checkpoints in --out")
    g = p.add_argument_group("training")
    # free text, checked by TrainConfig so a wrong value is one line, like every other user error
    g.add_argument("--loss", default=d.loss, help=f"one of: {', '.join(LOSSES)}")
    g.add_argument("--num-negatives", type=int, default=d.num_negatives, help="mined hard negatives per query")
    g.add_argument("--batch-size", type=int, default=d.batch_size)
    g.add_argument("--mini-batch-size", type=int, default=d.mini_batch_size, help="cached-mnrl only: memory per pass")
    g.add_argument("--lr", type=float, default=d.learning_rate, help="learning rate")
    g.add_argument("--warmup-ratio", type=float, default=d.warmup_ratio)
    g.add_argument("--weight-decay", type=float, default=d.weight_decay)
    g.add_argument("--epochs", type=float, default=d.epochs, help="used when --max-steps is 0")
    g.add_argument("--max-steps", type=int, default=d.max_steps, help="optimizer steps; 0 = run --epochs")
    g.add_argument("--max-seq-length", type=int, default=d.max_seq_length)
    g.add_argument(
        "--query-prompt", default=None, help="prefix for queries, e.g. 'query: ' (default: the base model's)"
    )
    g.add_argument(
        "--doc-prompt", default=None, help="prefix for documents, e.g. 'passage: ' (default: the base model's)"
    )
    g.add_argument("--seed", type=int, default=d.seed)
    g = p.add_argument_group("LoRA")
    g.add_argument("--lora", action="store_true", help="train a LoRA adapter (merged into the saved model)")
    g.add_argument("--lora-rank", type=int, default=d.lora_rank)
    g.add_argument("--lora-alpha", type=int, default=d.lora_alpha)
    g.add_argument("--lora-dropout", type=float, default=d.lora_dropout)
    g = p.add_argument_group("evaluation and checkpoints")
    g.add_argument("--eval-steps", type=int, default=d.eval_steps, help="dev evaluation and checkpoint interval")
    g.add_argument(
        "--metric", default=d.metric, help=f"dev metric that picks the best checkpoint: {', '.join(METRICS)}"
    )
    g.add_argument(
        "--early-stopping",
        type=int,
        default=d.early_stopping_patience,
        metavar="N",
        help="stop after N evaluations without improvement (0 = off)",
    )
    g.add_argument("--keep-checkpoints", action="store_true", help="keep <out>/checkpoints after the final save")
    g = p.add_argument_group("hardware")
    g.add_argument("--device", default=d.device, help="cpu, cuda, cuda:1 (default: cuda when present)")
    g.add_argument("--precision", default=d.precision, help=f"one of: {', '.join(PRECISIONS)} (16-bit on CUDA only)")
    g.add_argument("--threads", type=int, default=d.threads, help="CPU threads for torch (0 = torch's default)")
    g.add_argument("--eval-batch-size", type=int, default=d.eval_batch_size)
    g = p.add_argument_group("hyperparameter search")
    g.add_argument("--search", type=int, default=0, metavar="N", help="run N Optuna trials first, then train the best")
    g.add_argument("--search-steps", type=int, default=20, help="optimizer steps per trial")
    return p.parse_args(argv)


def config_from_args(args):
    from train.config import TrainConfig

    return TrainConfig(
        triplets=args.triplets,
        base_model=args.base_model,
        out=args.out,
        loss=args.loss,
        num_negatives=args.num_negatives,
        batch_size=args.batch_size,
        mini_batch_size=args.mini_batch_size,
        learning_rate=args.lr,
        warmup_ratio=args.warmup_ratio,
        weight_decay=args.weight_decay,
        epochs=args.epochs,
        max_steps=args.max_steps,
        max_seq_length=args.max_seq_length,
        query_prompt=args.query_prompt,
        doc_prompt=args.doc_prompt,
        lora=args.lora,
        lora_rank=args.lora_rank,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        eval_steps=args.eval_steps,
        metric=args.metric,
        early_stopping_patience=args.early_stopping,
        seed=args.seed,
        threads=args.threads,
        precision=args.precision,
        device=args.device,
        eval_batch_size=args.eval_batch_size,
        keep_checkpoints=args.keep_checkpoints,
    )


def main(argv=None):
    args = parse_args(argv)
    from corpus.console import console
    from train.fine_tune import fine_tune
    from train.report import dev_table, run_table

    cfg = config_from_args(args)
    if args.search:
        from train.search import search

        cfg = search(cfg, args.search, args.search_steps)
    result = fine_tune(cfg, overwrite=args.overwrite)
    card = {**result.card, "out": str(result.out)}
    console.print(run_table(card))
    console.print(dev_table(card))
    label = card["metric"]
    if card["dev_after"].get(label, 0.0) <= card["dev_before"].get(label, 0.0):
        console.print(
            f"[yellow]warning:[/] dev {label} did not improve over the base model; try a lower --lr, "
            "more --max-steps or other --num-negatives"
        )
    console.print(f"[green]fine-tuned model:[/] {result.out} (training_card.json beside it)")
    return result


if __name__ == "__main__":
    exit_with(main)
