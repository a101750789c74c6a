"""The course of one training run, the same for the embedder and the reranker: decide from disk whether to train,
resume or reuse, keep the run record's clock, train from that plan and read back the step it ended on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus.console import console
from train.callbacks import RecordElapsed
from train.config import run_fingerprint
from train.precision import resolve_precision
from train.run_environment import step_of
from train.run_state import RunPlan, plan_run, record_run, resumed_step, run_identity


def open_run(cfg, data_fingerprint: str, base_fingerprint: str, overwrite: bool, device: str) -> tuple[dict, RunPlan]:
    """The run's identity and what to do with cfg.out; a finished run with the same identity is said to be reused.
    A precision the device cannot train in (fp16 on a CPU) is refused here, before any work is done."""
    resolve_precision(cfg.precision, device)
    identity = run_identity(
        cfg.learning_settings(), run_fingerprint(cfg, data_fingerprint, base_fingerprint), data_fingerprint,
        base_fingerprint,
    )  # fmt: skip
    out = Path(cfg.out)
    plan = plan_run(out, identity, overwrite)
    if plan.action == "done":
        console.print(f"[green]already trained[/] with these settings and data: {out} (--overwrite to retrain)")
    return identity, plan


def trained_from(identity: dict, base, data) -> dict:
    """The training card's first entries: the run's identity, the base model and the data it was trained on."""
    return {
        "run_fingerprint": identity["run_fingerprint"],
        "identity": identity,
        "base_model": str(base.path),
        "base_model_fingerprint": base.fingerprint,
        "triplets": str(data.folder),
        "dataset": data.dataset_path,
        "data_fingerprint": data.fingerprint,
    }


def run_timer(out: Path, record: dict) -> RecordElapsed:
    """A callback that keeps the run record's elapsed time current, counting on from what a resumed run spent."""
    return RecordElapsed(lambda s: record_run(out, {**record, "elapsed_s": round(s, 1)}), record["elapsed_s"])


def trainer_arguments(cfg, output_dir: Path, device: str) -> dict:
    """The TrainingArguments both trainers set alike: batch sizes, schedule, seeds, device, precision, quiet logs."""
    precision = resolve_precision(cfg.precision, device)
    return dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        # transformers 5 reads a float below 1 as a share of all steps (warmup_ratio is deprecated)
        warmup_steps=float(cfg.warmup_ratio),
        use_cpu=not device.startswith("cuda"),
        logging_steps=max(1, min(10, cfg.eval_steps or 10)),
        seed=cfg.seed,
        data_seed=cfg.seed,
        report_to="none",
        disable_tqdm=True,
        log_level="error",
        per_device_eval_batch_size=cfg.eval_batch_size,
        fp16=precision == "fp16",
        bf16=precision == "bf16",
    )


@dataclass
class TrainedRun:
    state: object  # the trainer's TrainerState after training
    resumed_from: int | None  # the step a resumed run continued from, None for a fresh run
    best_step: int  # the step whose model was kept (the best dev checkpoint, else the last step)


def train_from_plan(trainer, plan: RunPlan) -> TrainedRun:
    """Train fresh or from the plan's checkpoint (optimizer and scheduler state restored)."""
    resumed_from = resumed_step(plan)
    trainer.train(resume_from_checkpoint=str(plan.checkpoint) if plan.checkpoint else None)
    state = trainer.state
    best_step = step_of(Path(state.best_model_checkpoint)) if state.best_model_checkpoint else state.global_step
    return TrainedRun(state, resumed_from, best_step)
