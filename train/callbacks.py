"""Trainer callbacks: progress over the optimizer steps (corpus.progress), a checkpoint at the last step, the run file beside checkpoints."""

from __future__ import annotations

import time
from collections.abc import Callable

from transformers import TrainerCallback

from corpus.progress import Tracker
from train.dev_eval import shown_metrics


class StepProgress(TrainerCallback):
    """Progress over the optimizer steps (a bar, or a plain line in a log), with the latest loss and dev score."""

    def __init__(self, metric_label: str):
        self.metric_label = metric_label
        self.tracker: Tracker | None = None
        self.loss = None
        self.score = None

    def _describe(self) -> str:
        parts = ["training"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.3f}")
        if self.score is not None:
            parts.append(f"dev {self.metric_label} {self.score:.3f}")
        return " · ".join(parts)

    def on_train_begin(self, args, state, control, **kwargs):
        self.tracker = Tracker(state.max_steps, self._describe(), done=state.global_step).start()

    def on_step_end(self, args, state, control, **kwargs):
        if self.tracker:
            self.tracker.update(done=state.global_step, label=self._describe())

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.loss = float(logs["loss"])

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        shown = shown_metrics(metrics or {})
        if self.metric_label in shown:
            self.score = shown[self.metric_label]
        if self.tracker:
            self.tracker.update(label=self._describe())

    def on_train_end(self, args, state, control, **kwargs):
        if self.tracker:
            self.tracker.stop()
            self.tracker = None


class CheckpointAtEnd(TrainerCallback):
    """Evaluate and save at the last step too, so the best-model choice sees the end of training
    whether or not max_steps is a multiple of the evaluation interval."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            control.should_evaluate = True
            control.should_save = True
        return control


class RecordElapsed(TrainerCallback):
    """Keeps the run file's training time current at every checkpoint, so a resumed run reports the total."""

    def __init__(self, record: Callable[[float], None], elapsed_before_s: float):
        self.record = record
        self.before = elapsed_before_s
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return self.before + time.monotonic() - self.start

    def on_save(self, args, state, control, **kwargs):
        self.record(self.elapsed())
