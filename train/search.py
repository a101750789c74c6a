"""Optional hyperparameter search with Optuna: short trials scored on dev, the best settings train the final model.

Trials are stored in an SQLite study beside the output folder, so an interrupted search continues where it
stopped; the study name is a fingerprint of everything the trials depend on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
import time
from pathlib import Path

from rich.table import Table

import corpus.paths
from corpus.console import console
from corpus.progress import working
from train.config import TrainConfig
from train.dev_eval import SHOWN, build_evaluator, metric_key
from train.examples import load_training_data

RESULTS_FILE = "train_search.csv"


def suggest(trial, cfg: TrainConfig) -> dict:
    """The search space: the settings that mattered most in the measurements (README, step 2)."""
    params = {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 3e-4, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [16, 32, 64]),
        "warmup_ratio": trial.suggest_float("warmup_ratio", 0.0, 0.2),
    }
    if cfg.lora:
        params["lora_rank"] = trial.suggest_categorical("lora_rank", [4, 8, 16, 32])
        params["lora_alpha"] = trial.suggest_categorical("lora_alpha", [8, 16, 32, 64])
    return params


def study_name(cfg: TrainConfig, data_fingerprint: str, steps: int) -> str:
    fixed = {k: v for k, v in cfg.learning_settings().items() if k not in ("triplets", "max_steps", "epochs")}
    blob = json.dumps({"fixed": fixed, "data": data_fingerprint, "steps": steps}, sort_keys=True, default=str)
    return "train-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_trial(cfg: TrainConfig, data, evaluator, params: dict, steps: int) -> float:
    from train.fine_tune import build_trainer, prepare_model
    from train.lora import add_lora
    from train.recipe import resolve_recipe

    trial_cfg = dataclasses.replace(cfg, max_steps=steps, early_stopping_patience=0, **params)
    base, trial_cfg = prepare_model(trial_cfg)
    model = base.model
    trial_cfg, _ = resolve_recipe(trial_cfg, data, model, weigh=False)  # the length search() weighed once
    model.max_seq_length = trial_cfg.max_seq_length
    if trial_cfg.lora:
        add_lora(model, trial_cfg.lora_rank, trial_cfg.lora_alpha, trial_cfg.lora_dropout)
    with tempfile.TemporaryDirectory(prefix="ragtune-trial-") as tmp:
        trainer = build_trainer(model, data, trial_cfg, Path(tmp), evaluator=None, checkpoints=False)
        trainer.train()
    return float(evaluator(model)[metric_key(cfg.metric)])


def _open_study(cfg: TrainConfig, data, steps: int):
    """The study of these settings and data, in a SQLite file beside --out: a rerun finishes its trials."""
    import optuna

    folder = Path(cfg.out).parent / "search"
    folder.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        study_name=study_name(cfg, data.fingerprint, steps),
        direction="maximize",
        storage=f"sqlite:///{folder / 'study.db'}",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=cfg.seed),
    )
    done = sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    if done:
        console.print(f"[yellow]search:[/] {done} finished trial(s) found in {folder / 'study.db'}")
    return study, done


def _write_results(study, cfg: TrainConfig, steps: int) -> None:
    """Every trial as a CSV row under reports/, and the table of them on the console."""
    import pandas as pd

    rows = [
        {
            "trial": t.number,
            **t.params,
            f"dev_{cfg.metric}": t.value,
            "seconds": t.user_attrs.get("seconds"),
            "steps": steps,
            "state": t.state.name,
        }
        for t in study.trials
    ]
    out_csv = corpus.paths.REPORTS_DIR / RESULTS_FILE
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out_csv, index=False)
    console.print(results_table(rows, cfg.metric, study.best_trial.number))
    console.print(f"search results written to {out_csv}")


def search(cfg: TrainConfig, n_trials: int, steps: int) -> TrainConfig:
    """Run (or finish) n_trials trials of `steps` optimizer steps; return cfg with the best trial's settings."""
    import optuna

    from corpus.errors import RagtuneError
    from train.fine_tune import prepare_model
    from train.recipe import resolve_recipe

    if n_trials < 1 or steps < 1:
        raise RagtuneError("--search and --search-steps must be at least 1")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = load_training_data(cfg.triplets)
    base, resolved = prepare_model(cfg)  # prompts as the final run will use them
    evaluator = build_evaluator(data, resolved.query_prompt, resolved.doc_prompt, cfg.eval_batch_size)
    # trials read the length the final run will read, weighed against its cost once here rather than per trial
    length = resolve_recipe(resolved, data, base.model)[0].max_seq_length
    study, done = _open_study(cfg, data, steps)
    label = SHOWN[cfg.metric]

    def objective(trial):
        start = time.perf_counter()
        params = suggest(trial, cfg)
        with working(f"trial {trial.number + 1}/{n_trials}: {params}"):
            score = run_trial(dataclasses.replace(cfg, max_seq_length=length), data, evaluator, params, steps)
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 1))
        console.print(f"trial {trial.number + 1}: dev {label} {score:.4f} with {params}")
        return score

    if n_trials > done:
        study.optimize(objective, n_trials=n_trials - done)
    _write_results(study, cfg, steps)
    return dataclasses.replace(cfg, **study.best_trial.params)


def results_table(rows: list[dict], metric: str, best: int) -> Table:
    t = Table(title=f"hyperparameter search (dev {SHOWN[metric]}, best marked ★)")
    columns = [c for c in rows[0] if c not in ("state", "steps")]
    for c in columns:
        t.add_column(c, justify="right")
    for row in sorted(rows, key=lambda r: -(r[f"dev_{metric}"] or 0)):
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in (row[c] for c in columns)]
        t.add_row(*cells, style="bold green" if row["trial"] == best else None)
    return t
