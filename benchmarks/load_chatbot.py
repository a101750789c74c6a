#!/usr/bin/env python
"""Load check of the chatbot: N browser-like sessions (gradio_client, one session each) ask at the same time;
every one must get an answer from every arm. Prints latency p50/p95 per question.

    .venv/bin/python benchmarks/load_chatbot.py                      # starts 5_chatbot.py with the tiny LLM
    .venv/bin/python benchmarks/load_chatbot.py --url http://127.0.0.1:7860/   # a chatbot already running
    .venv/bin/python benchmarks/load_chatbot.py -- --local-model qwen2.5-coder-1.5b   # after -- : chatbot flags

Not a test: figures depend on the machine and its load. Exit code 1 when any session got no answer.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus.offline import force_offline  # noqa: E402

force_offline()  # a script's entry: no hub, no analytics, before any model library loads

from corpus.console import console  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running chatbot (default: start one)")
    p.add_argument("--sessions", type=int, default=10, help="concurrent sessions (default: 10)")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=32, help="answer cap per arm (default: 32)")
    p.add_argument("--timeout", type=float, default=900, help="seconds to wait for all answers (default: 900)")
    p.add_argument("chatbot_args", nargs="*", help="flags for 5_chatbot.py when this script starts it")
    return p.parse_args()


def start_chatbot(extra: list[str]) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [
        sys.executable,
        str(ROOT / "5_chatbot.py"),
        "--port",
        str(port),
        "--local-model",
        "smollm2",
        "--concurrency",
        "10",
        *extra,
    ]
    console.print("starting: " + " ".join(cmd[1:]))
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"5_chatbot.py exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("5_chatbot.py did not start within 300 s")


def questions(n: int) -> list[str]:
    """Real test questions of the default dataset when it exists, else simple fixed ones."""
    from corpus.paths import DEFAULT_DATASET

    try:
        from corpus.beir import load_dataset

        ds = load_dataset(DEFAULT_DATASET)
        qids = sorted(ds.relevant("test"))[:n]
        found = [ds.queries[q] for q in qids]
    except Exception:  # noqa: BLE001  (a benchmark on a fresh machine still runs)
        found = []
    fixed = ["Who repairs aircraft engines?", "Who plans a hospital budget?", "Who teaches children to read?"]
    return [(found or fixed)[i % len(found or fixed)] for i in range(n)]


def one_session(url: str, question: str, arms: list[str], top_k: int, max_tokens: int) -> dict:
    from gradio_client import Client

    client = Client(url, verbose=False)  # one client = one browser session (its own queue session hash)
    t0 = time.perf_counter()
    out = client.predict(question, top_k, arms, 0.0, max_tokens, *([[]] * len(arms)), api_name="/ask")
    latency = time.perf_counter() - t0
    status, histories = out[0], out[1 + len(arms) : 1 + 2 * len(arms)]
    answers = [_text(h[-1]["content"]) if h else "" for h in histories]
    ok = status.startswith("**Done:**") and all(a.strip() for a in answers)
    return {"latency_s": latency, "ok": ok, "status": status, "answers": answers}


def _text(content) -> str:
    # gradio_client returns chat messages as a list of typed parts
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def arm_names(url: str) -> list[str]:
    from gradio_client import Client

    info = Client(url, verbose=False).view_api(return_format="dict", print_info=False)
    params = info["named_endpoints"]["/ask"]["parameters"]
    chosen = next(p for p in params if p["parameter_name"] == "chosen_arms")
    return list(chosen.get("parameter_default") or [])


def main():
    import numpy as np
    from rich.table import Table

    args = parse_args()
    proc = None
    url = args.url
    if url is None:
        proc, url = start_chatbot(args.chatbot_args)
    try:
        arms = arm_names(url)
        qs = questions(args.sessions)
        console.print(f"{args.sessions} sessions × arms {arms} at {url}")
        t0 = time.perf_counter()
        with cf.ThreadPoolExecutor(max_workers=args.sessions) as pool:
            futures = [pool.submit(one_session, url, q, arms, args.top_k, args.max_tokens) for q in qs]
            results = []
            for f in cf.as_completed(futures, timeout=args.timeout):
                try:
                    results.append(f.result())
                except Exception as exc:  # noqa: BLE001  (count it as a failed session, keep measuring)
                    results.append({"latency_s": float("nan"), "ok": False, "status": repr(exc), "answers": []})
        wall = time.perf_counter() - t0
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    lat = np.array([r["latency_s"] for r in results if r["ok"]])
    failed = [r for r in results if not r["ok"]]
    t = Table(title=f"chatbot load: {args.sessions} concurrent sessions")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("sessions answered (all arms)", f"{len(lat)} / {len(results)}")
    t.add_row("arms per question", str(len(arms)))
    t.add_row("max answer tokens", str(args.max_tokens))
    if len(lat):
        t.add_row("latency p50 (s)", f"{np.percentile(lat, 50):.1f}")
        t.add_row("latency p95 (s)", f"{np.percentile(lat, 95):.1f}")
        t.add_row("latency max (s)", f"{lat.max():.1f}")
    t.add_row("wall time (s)", f"{wall:.1f}")
    t.add_row("CPU cores", str(os.cpu_count()))
    console.print(t)
    for r in failed:
        console.print(f"[red]failed:[/] {r['status']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
