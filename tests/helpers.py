"""Running a numbered script the way a user does, to check exit codes and the one-line error contract."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_script(script: str, *args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, str(ROOT / script), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=timeout,
    )


def stub_rag_flags(base_url: str, data, out) -> list[str]:
    """Step 4 against a stub endpoint: two arms with the same embedder, three queries, no retries."""
    return [
        "--llm-base-url",
        base_url,
        "--llm-model",
        "stub",
        "--data",
        str(data),
        "--arms",
        "base=base",
        "finetuned=base",
        "--limit",
        "3",
        "--retries",
        "0",
        "--out",
        str(out),
    ]


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    return lines[0]


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHROMIUM = os.environ.get("RAGTUNE_CHROMIUM", "/usr/bin/chromium")
# from shared/README: no sandbox in containers, nothing that calls home
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip without Debian's chromium, unless RAGTUNE_REQUIRE_BROWSER=1 (CI) makes that a failure."""
    import pytest

    if not Path(CHROMIUM).exists():
        if os.environ.get("RAGTUNE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def training_command(script: str, triplets, out, max_steps: int, *flags: str) -> list[str]:
    """A short real training run on CPU (a checkpoint every 2 steps) with the script's own extra flags."""
    return [
        sys.executable,
        str(ROOT / script),
        "--triplets",
        str(triplets),
        "--out",
        str(out),
        "--batch-size",
        "4",
        "--max-steps",
        str(max_steps),
        "--eval-steps",
        "2",
        "--max-seq-length",
        "32",
        *flags,
        "--device",
        "cpu",
    ]


def kill_at_a_checkpoint_then_rerun(command: list[str], out: Path, max_steps: int) -> dict:
    """Start a training run, kill -9 it once a complete checkpoint is on disk, run the same command again and check
    that it resumed from that checkpoint, said so and finished; returns the finished run's training card."""
    import json
    import signal
    import time

    from train.run_state import checkpoints_dir, latest_checkpoint

    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    try:
        while latest_checkpoint(checkpoints_dir(out)) is None:
            assert proc.poll() is None, f"run ended before its first checkpoint:\n{proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)  # no chance to clean up, as with a real kill -9
        proc.wait(timeout=30)
    assert not (out / "training_card.json").exists(), "the run finished before it could be killed"
    killed_at = int(latest_checkpoint(checkpoints_dir(out)).name.split("-")[1])

    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "resuming" in rerun.stdout and f"step {killed_at}" in rerun.stdout
    card = json.loads((out / "training_card.json").read_text())
    assert card["resumed_from_step"] == killed_at and card["steps"] == max_steps
    return card


def ctrl_c_as_from_a_terminal() -> None:
    """preexec_fn for a child that a test stops with SIGINT: a test run started in the background by a
    non-interactive shell hands SIGINT down ignored, and the child would never see the Ctrl-C under test."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
