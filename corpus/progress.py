"""Progress a log can show: the one interface library code reports long work through.

On a terminal it draws a rich bar; otherwise (make demo > demo.log, CI) it prints a plain line every ~15 s and at
the end: "encoding documents: 1,200/5,000, elapsed 0:41, ETA 2:10".

    with track(len(texts), "encoding documents") as t:
        for batch in batches:
            ...
            t.advance(len(batch))

Work that cannot be counted (one library call) goes through `working`: a spinner on a terminal; in a log, nothing
when it ends within ~15 s, else a line every ~15 s ("scoring dev: elapsed 0:30") and one when it ends; while a
counted bar inside it prints its own lines, the beat holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from corpus.console import console

PLAIN_EVERY_S = 15.0

# When a counted bar last printed a plain line: `working` holds its beat while a bar inside it reports, so a log
# carries one kind of line per piece of work.
_last_count_line = float("-inf")


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Tracker:
    """Counts work done; draws a bar on a terminal, else prints a plain line at most every `every_s` seconds."""

    def __init__(self, total: int, label: str, every_s: float = PLAIN_EVERY_S, done: int = 0):
        self.total, self.label, self.done, self.every_s = total, label, done, every_s
        self._start = time.monotonic()
        self._first = done  # work found done (resumed) does not count towards the rate
        self._last_line = self._start
        self._printed: int | None = None
        self._bar = None
        self._task = None

    def start(self) -> Tracker:
        if console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TimeRemainingColumn(), console=console,
            )  # fmt: skip
            self._task = self._bar.add_task(self.label, total=self.total, completed=self.done)
            self._bar.start()
        return self

    def line(self) -> str:
        elapsed = time.monotonic() - self._start
        rate = (self.done - self._first) / elapsed if elapsed > 0 else 0.0
        eta = _clock((self.total - self.done) / rate) if rate > 0 and self.done < self.total else "-"
        return f"{self.label}: {self.done:,}/{self.total:,}, elapsed {_clock(elapsed)}, ETA {eta}"

    def update(self, done: int | None = None, advance: int = 0, label: str | None = None) -> None:
        self.done = (self.done if done is None else done) + advance
        self.label = label or self.label
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, description=self.label)
        elif time.monotonic() - self._last_line >= self.every_s:
            self._print()

    def _print(self) -> None:
        global _last_count_line
        self._last_line = _last_count_line = time.monotonic()
        self._printed = self.done
        console.print(self.line(), highlight=False, soft_wrap=True)

    def advance(self, n: int = 1, label: str | None = None) -> None:
        self.update(advance=n, label=label)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self._printed != self.done:  # the closing line, unless the last periodic one already said it
            self._print()


@contextmanager
def track(total: int, label: str, every_s: float = PLAIN_EVERY_S, done: int = 0) -> Iterator[Tracker]:
    tracker = Tracker(total, label, every_s, done).start()
    try:
        yield tracker
    finally:
        tracker.stop()


@contextmanager
def working(label: str, every_s: float = PLAIN_EVERY_S) -> Iterator[None]:
    """A spinner on a terminal; otherwise a line every `every_s` seconds while the block runs (none while a counted
    bar inside it has printed within `every_s`), and a closing line when it ends (successfully) after at least one
    of them."""
    if console.is_terminal:
        with console.status(label):
            yield
        return
    start = time.monotonic()
    stop = threading.Event()
    beats = 0

    def beat() -> None:
        nonlocal beats
        while not stop.wait(every_s):
            if time.monotonic() - _last_count_line < every_s:
                continue
            beats += 1
            console.print(f"{label}: elapsed {_clock(time.monotonic() - start)}", highlight=False, soft_wrap=True)

    thread = threading.Thread(target=beat, name="working", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    if beats:
        console.print(f"{label}: done in {_clock(time.monotonic() - start)}", highlight=False, soft_wrap=True)
