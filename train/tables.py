"""The rich tables the fine-tuning stage ends with."""

from __future__ import annotations

from rich.table import Table

from train.dev_eval import SHOWN


def dev_table(card: dict) -> Table:
    """Dev metrics of the base model and of the saved (best) checkpoint, with the difference."""
    before, after = card["dev_before"], card["dev_after"]
    t = Table(title=f"dev retrieval ({card['dev_queries']} queries over {card['dev_corpus_documents']:,} documents)")
    t.add_column("metric")
    t.add_column("base", justify="right")
    t.add_column("fine-tuned", justify="right")
    t.add_column("Δ", justify="right")
    for label in SHOWN.values():  # cards store keys sorted; tables keep the evaluator's order
        b, a = before.get(label), after.get(label)
        if a is None or b is None:
            continue
        colour = "green" if a > b else "red" if a < b else "white"
        t.add_row(
            label + (" ★" if label == card["metric"] else ""), f"{b:.3f}", f"{a:.3f}", f"[{colour}]{a - b:+.3f}[/]"
        )
    return t


def training_rows_line(rows: int, cfg: dict) -> str:
    """'3,345 × (4 queries, positive, 1 outside + 0 mined neg.)': what one row of the run holds."""
    queries = cfg.get("queries_per_row") or 1
    held = f"{queries} queries" if queries > 1 else "query"
    return f"{rows:,} × ({held}, positive, {cfg.get('outside_negatives') or 0} outside + {cfg['num_negatives']} mined neg.)"


def add_course_rows(t: Table, card: dict) -> None:
    """Steps, resume, device and time: the rows both trainers' tables end with."""
    t.add_row("steps (best checkpoint)", f"{card['steps']} ({card['best_step']})")
    if card.get("resumed_from_step") is not None:
        t.add_row("resumed from step", str(card["resumed_from_step"]))
    # rerankers trained before precision was a setting ran in fp32
    precision = card.get("precision", "fp32")
    t.add_row("device / precision / threads", f"{card['device']} / {precision} / {card['threads']}")
    t.add_row("training time", f"{card['wall_time_s'] / 60:.1f} min")


def seq_length_line(seq: dict, device: str) -> str:
    """'256 (base model's) / 9.8 s per 1,000 documents on cpu': the chosen length and its measured encode cost."""
    line = f"{seq['value']} ({seq['how']}) / {seq['encode_s_per_1000']:.1f} s per 1,000 documents"
    return line + (f" on {device}" if device else "")


def run_table(card: dict) -> Table:
    cfg = card["config"]
    t = Table(title=f"fine-tuning run → {card.get('out', '')}".rstrip(" →"), show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("base model", card["base_model"])
    t.add_row("training rows", training_rows_line(card["train_rows"], cfg))
    t.add_row(
        "loss / batch / lr / max_seq_length",
        f"{cfg['loss']} / {cfg['batch_size']} / {cfg['learning_rate']:g} / {cfg['max_seq_length']}",
    )
    recipe = card.get("recipe") or {}
    if recipe.get("negatives_how"):  # cards written before the rule have none
        t.add_row("mined negatives: why", f"{recipe['num_negatives']} ({recipe['negatives_how']})")
    seq = recipe.get("seq_length") or {}
    if seq.get("encode_s_per_1000") is not None:  # cards written before the cost was measured have none
        t.add_row("max_seq_length: why / encode cost", seq_length_line(seq, card.get("device", "")))
    if cfg["lora"]:
        t.add_row("LoRA rank / alpha / dropout", f"{cfg['lora_rank']} / {cfg['lora_alpha']} / {cfg['lora_dropout']}")
    t.add_row("trainable parameters", f"{card['trainable_parameters']:,} of {card['total_parameters']:,}")
    add_course_rows(t, card)
    return t


def reranker_table(card: dict) -> Table:
    """The reranker run and its dev reranking (relevant documents + BM25 candidates), untrained head vs trained."""
    cfg = card["config"]
    t = Table(title=f"reranker training → {card.get('out', '')}".rstrip(" →"), show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("base model (new one-logit head)", card["base_model"])
    t.add_row("training rows", f"{card['train_rows']:,} ({cfg['loss']}, {cfg['num_negatives']} neg. per positive)")
    t.add_row(
        "batch / lr / max_seq_length", f"{cfg['batch_size']} / {cfg['learning_rate']:g} / {cfg['max_seq_length']}"
    )
    add_course_rows(t, card)
    before, after = card.get("dev_before") or {}, card.get("dev_after") or {}
    for label, value in after.items():
        b = before.get(label)
        t.add_row(
            f"dev {label} ({card['dev_queries']} queries)",
            f"{b:.3f} → {value:.3f}" if b is not None else f"{value:.3f}",
        )
    return t
