"""rag.fan_out: the first user error stops the run, every finished reply is kept, queued calls never start."""

from __future__ import annotations

import threading
import time

import pytest

from corpus.errors import RagtuneError
from rag.fan_out import fan_out


def test_results_come_back_with_their_items():
    got = dict(fan_out(lambda x: x * x, [1, 2, 3, 4], workers=2, label="squaring"))
    assert got == {1: 1, 2: 4, 3: 9, 4: 16}


def test_first_error_stops_queued_work_and_says_how_much_finished():
    started = []
    lock = threading.Lock()

    def call(x: int) -> int:
        with lock:
            started.append(x)
        if x == 2:
            raise RagtuneError("connection failed")
        time.sleep(0.02 if x > 2 else 0)  # later calls are slow: the error is seen long before the queue drains
        return x

    kept = {}
    with pytest.raises(RagtuneError) as err:
        for item, result in fan_out(call, list(range(50)), workers=1, label="asking"):
            kept[item] = result
    assert kept == {0: 0, 1: 1}
    assert str(err.value).startswith("connection failed — 2 of 50 replies finished and cached; rerun")
    assert len(started) < 50  # the queue was cancelled, not drained
