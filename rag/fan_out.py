"""The one way a stage sends many LLM calls at once: fail fast, keep every finished reply, cancel queued work.

Every call's reply goes into the answer cache as it finishes (the callers wrap the LLM in CachedLLM), so a failure
or Ctrl-C loses nothing finished and a rerun asks only what is missing. The chatbot's side-by-side streams are not
a fan-out of this kind: each arm's failure is shown in its own answer area instead of stopping the others.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from corpus.errors import RagtuneError
from corpus.progress import track

T = TypeVar("T")
R = TypeVar("R")


def fan_out(
    fn: Callable[[T], R], items: Sequence[T], *, workers: int, label: str, unit: str = "replies"
) -> Iterator[tuple[T, R]]:
    """(item, fn(item)) in the order calls finish, at most `workers` in flight, with progress. The first user
    error stops the run: queued calls are cancelled, calls in flight settle (so nothing writes to a cache after the
    error is reported) and the error says how much finished."""
    pool = cf.ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="llm")
    finished = 0
    try:
        with track(len(items), label) as tracker:
            futures = {pool.submit(fn, item): item for item in items}
            for fut in cf.as_completed(futures):
                try:
                    result = fut.result()
                except RagtuneError as exc:
                    pool.shutdown(wait=True, cancel_futures=True)
                    done = f"{finished} of {len(items)} {unit} finished and cached"
                    # an error that the same request meets again (a prompt too long for the model) says what to
                    # change in its own words; promising that the same command resumes would send the user in a loop
                    if getattr(exc, "resumable", True):
                        done += "; rerun the same command to resume"
                    raise RagtuneError(f"{exc} — {done}") from None
                finished += 1
                tracker.advance(1)
                yield futures[fut], result
    finally:
        # never wait for queued work after a failure or Ctrl-C; running requests end with the server
        pool.shutdown(wait=False, cancel_futures=True)
