"""corpus.progress: in a log (not a terminal) long work shows as plain lines, at most every few seconds and at the end;
work that cannot be counted beats while it lasts."""

from __future__ import annotations

import re
import time

import pytest

import corpus.progress as progress_module
from corpus.progress import track, working


def test_plain_lines_in_a_log(capsys, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    with track(10, "encoding documents", every_s=15) as t:
        t.advance(2)  # too soon for a line
        clock[0] += 20
        t.advance(3)  # 5 of 10 after 20 s: a line with an ETA of 20 s
        clock[0] += 1
        t.advance(1)  # too soon again
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "encoding documents: 5/10, elapsed 0:20, ETA 0:20",
        "encoding documents: 6/10, elapsed 0:21, ETA 0:14",
    ]


def test_resumed_work_does_not_inflate_the_rate(capsys, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    with track(100, "training", every_s=1, done=50) as t:
        clock[0] += 10
        t.update(done=60, label="training · loss 0.5")
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "training · loss 0.5: 60/100, elapsed 0:10, ETA 0:40"  # 10 steps in 10 s, not 60
    assert re.fullmatch(r".*ETA [-0-9:]+", first)


def test_the_closing_line_is_not_repeated(capsys, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    with track(4, "encoding queries", every_s=15) as t:
        clock[0] += 20
        t.advance(4)  # the periodic line already says 4/4
    assert capsys.readouterr().out.strip().splitlines() == ["encoding queries: 4/4, elapsed 0:20, ETA -"]


class RecordingConsole:
    """A console that is not a terminal and keeps what is printed (the beat thread prints through it)."""

    is_terminal = False

    def __init__(self):
        self.lines: list[str] = []

    def print(self, text, **_):
        self.lines.append(text)


def test_uncounted_work_beats_in_a_log_and_says_when_it_ended(monkeypatch):
    fake = RecordingConsole()
    monkeypatch.setattr(progress_module, "console", fake)
    with working("scoring dev", every_s=0.01):
        deadline = time.monotonic() + 10
        while len(fake.lines) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(fake.lines) >= 2
    assert all(re.fullmatch(r"scoring dev: elapsed 0:0\d", line) for line in fake.lines[:-1])
    assert re.fullmatch(r"scoring dev: done in 0:0\d", fake.lines[-1])


def test_short_work_and_failed_work_print_no_closing_line(monkeypatch):
    fake = RecordingConsole()
    monkeypatch.setattr(progress_module, "console", fake)
    with working("writing reports", every_s=60):
        pass
    assert fake.lines == []
    with pytest.raises(ValueError), working("scoring dev", every_s=0.01):
        deadline = time.monotonic() + 10
        while not fake.lines and time.monotonic() < deadline:
            time.sleep(0.01)
        raise ValueError("boom")
    beats = len(fake.lines)
    time.sleep(0.05)  # the beat thread has stopped: nothing more arrives
    assert beats >= 1 and len(fake.lines) == beats
    assert not any("done" in line for line in fake.lines)


def test_the_beat_holds_while_a_counted_bar_inside_reports(monkeypatch):
    fake = RecordingConsole()
    monkeypatch.setattr(progress_module, "console", fake)
    with working("encoding corpus", every_s=0.25), track(1000, "encoding documents", every_s=0.0) as t:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # the bar prints far more often than the beat's interval
            t.advance(1)
            time.sleep(0.005)
    assert fake.lines and all(line.startswith("encoding documents: ") for line in fake.lines)
    with working("encoding corpus", every_s=0.25), track(10, "encoding documents", every_s=0.0) as t:
        t.advance(10)
        time.sleep(1.0)  # the bar has gone quiet: the beat takes over
    assert any(re.fullmatch(r"encoding corpus: elapsed 0:0\d", line) for line in fake.lines)
