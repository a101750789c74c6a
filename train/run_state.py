"""Where a training run stands on disk: finished, resumable from a checkpoint, or new; and the overwrite policy."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from corpus.console import console
from corpus.errors import RagtuneError
from corpus.jsonl import write_json
from corpus.progress import working

CARD_FILE = "training_card.json"
CHECKPOINTS = "checkpoints"
RUN_FILE = "run.json"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


@dataclass
class RunPlan:
    action: str  # "done" | "resume" | "fresh"
    checkpoint: Path | None = None
    card: dict | None = None
    # what the interrupted run recorded beside its checkpoints (dev metrics before training, time spent)
    saved: dict | None = None


def checkpoints_dir(out: Path) -> Path:
    return Path(out) / CHECKPOINTS


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint that was written to the end (trainer_state.json is saved last, after the optimizer).

    A run killed while saving leaves a checkpoint without it (or with half of it): that one is skipped.
    """
    found = []
    for sub in Path(folder).glob("checkpoint-*"):
        m = _CHECKPOINT.match(sub.name)
        if not m or not sub.is_dir():
            continue
        try:
            json.loads((sub / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        found.append((int(m.group(1)), sub))
    return max(found)[1] if found else None


def _differences(old: dict, new: dict) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]


def plan_run(out: Path, identity: dict, overwrite: bool) -> RunPlan:
    """identity = {"run_fingerprint", "settings", "data_fingerprint", "base_fingerprint"} of the run asked for."""
    out = Path(out)
    if overwrite and out.exists():
        shutil.rmtree(out)
    card_path, ckpt = out / CARD_FILE, checkpoints_dir(out)
    if card_path.exists():
        card = json.loads(card_path.read_text(encoding="utf-8"))
        if card.get("run_fingerprint") == identity["run_fingerprint"]:
            return RunPlan("done", card=card)
        changed = _differences(card.get("identity", {}).get("settings", {}), identity["settings"])
        what = "; ".join(changed) or "other data or base model"
        raise RagtuneError(
            f"{out} holds a model trained with other settings ({what}); "
            "pass --overwrite to replace it or --out for a new folder"
        )
    run_file = ckpt / RUN_FILE
    if run_file.exists():
        saved = json.loads(run_file.read_text(encoding="utf-8"))
        if saved.get("run_fingerprint") != identity["run_fingerprint"]:
            changed = _differences(saved.get("settings", {}), identity["settings"])
            if saved.get("data_fingerprint") != identity["data_fingerprint"]:
                changed.append("the triplets changed")
            if saved.get("base_fingerprint") != identity["base_fingerprint"]:
                changed.append("the base model changed")
            raise RagtuneError(
                f"{ckpt} holds checkpoints of a run with other settings ({'; '.join(changed)}); "
                "pass --overwrite to start fresh"
            )
        last = latest_checkpoint(ckpt)
        if last is not None:
            return RunPlan("resume", checkpoint=last, saved=saved)
        return RunPlan("fresh", saved=saved)
    if out.exists() and any(out.iterdir()):
        raise RagtuneError(
            f"{out} exists and is not a ragtune training output; choose another --out or pass --overwrite"
        )
    return RunPlan("fresh")


def record_run(out: Path, record: dict) -> None:
    """record = the run's identity plus what a resumed run must not recompute (dev_before, elapsed_s)."""
    write_json(checkpoints_dir(out) / RUN_FILE, record)


def finish_run(out: Path, keep_checkpoints: bool) -> None:
    """The final model is saved: checkpoints (optimizer state, three times the model's size) are no longer needed."""
    if not keep_checkpoints:
        shutil.rmtree(checkpoints_dir(out), ignore_errors=True)


def run_identity(learning_settings: dict, run_fingerprint: str, data_fingerprint: str, base_fingerprint: str) -> dict:
    """What makes a run this run (embedder or reranker): only the same identity may resume or reuse a finished one."""
    return {
        "run_fingerprint": run_fingerprint,
        "settings": {k: v for k, v in learning_settings.items() if k not in ("triplets", "base_model")},
        "data_fingerprint": data_fingerprint,
        "base_fingerprint": base_fingerprint,
    }


def start_record(out: Path, identity: dict, plan: RunPlan, score_base: Callable[[], dict] | None, what: str) -> dict:
    """The run record kept beside the checkpoints (identity, the base model's dev metrics, elapsed time); a resumed
    run reads the base model's dev metrics back instead of scoring them again."""
    saved = plan.saved or {}
    record = {**identity, "dev_before": saved.get("dev_before"), "elapsed_s": saved.get("elapsed_s", 0.0)}
    if record["dev_before"] is None and score_base is not None:
        with working(what):
            record["dev_before"] = score_base()
    record_run(out, record)
    return record


def resumed_step(plan: RunPlan) -> int | None:
    """The step a resumed run continues from (None for a fresh run), said once on the console."""
    if plan.action != "resume":
        return None
    step = int(Path(plan.checkpoint).name.rsplit("-", 1)[-1])
    console.print(f"[yellow]resuming[/] from {plan.checkpoint} (step {step}; optimizer and scheduler state restored)")
    return step
