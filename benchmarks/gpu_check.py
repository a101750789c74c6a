#!/usr/bin/env python3
"""One short session on a CUDA machine: install, run the default demo's steps, train MiniLM and mpnet, print times.

    python3 benchmarks/gpu_check.py                    # install (make install, make install-mpnet), then the runs
    python3 benchmarks/gpu_check.py --skip-install     # the venv is already there
    python3 benchmarks/gpu_check.py --answers          # also step 4 (the local LLM answers; slow without a GPU build)

Everything is written under --home (RAGTUNE_HOME, default gpu-check/ beside the repository), never into the
repository's own data/, runs/ or reports/. It runs with the standard library only until the venv exists, and each
phase is the command a user types (the Makefile's targets and the numbered scripts), so the times are what a user
gets. The table at the end fills the "on a GPU" column of the performance table; the cards' device says whether
training really ran on CUDA (the default device is CUDA whenever torch sees one: nothing needs a flag).

Exit code: 0 when every phase ran and training used CUDA, 1 when a phase failed, 2 when torch sees no CUDA device
(for instance the CPU build of torch that requirements.txt pins for CPU machines).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"  # what `make install` creates; --python names another


def phase(rows: list, name: str, cmd: list[str], env: dict) -> bool:
    print(f"\n== {name}: {' '.join(cmd)}", flush=True)
    start = time.perf_counter()
    rc = subprocess.call(cmd, cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    rows.append((name, seconds, rc))
    print(f"== {name}: {seconds:.1f} s, exit {rc}", flush=True)
    return rc == 0


def cuda_report(py: str, env: dict) -> dict:
    probe = (
        "import json, torch; ok = torch.cuda.is_available(); "
        "print(json.dumps({'torch': torch.__version__, 'cuda': ok, 'cuda_build': torch.version.cuda, "
        "'gpu': torch.cuda.get_device_name(0) if ok else None, "
        "'bf16': bool(ok and torch.cuda.is_bf16_supported())}))"
    )
    out = subprocess.run([py, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"error": out.stderr[-500:]}


def card_line(folder: Path) -> str:
    card_file = folder / "training_card.json"
    if not card_file.exists():
        return f"{folder}: no training card"
    card = json.loads(card_file.read_text())
    seq = (card.get("recipe") or {}).get("seq_length") or {}
    return (
        f"{folder}: device {card.get('device')}, precision {card.get('precision')}, steps {card.get('steps')}, "
        f"training {card.get('wall_time_s', 0) / 60:.1f} min, max_seq_length {seq.get('value')}, "
        f"encode {seq.get('encode_s_per_1000')} s per 1,000 documents, dev after {card.get('dev_after')}"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--home", default=str(ROOT / "gpu-check"), help="RAGTUNE_HOME of the runs")
    p.add_argument("--skip-install", action="store_true")
    p.add_argument("--answers", action="store_true", help="also run step 4 (needs the demo LLM)")
    p.add_argument("--no-mpnet", action="store_true", help="leave out installing and training mpnet")
    p.add_argument("--python", default=str(PY), help="the venv's python (with --skip-install)")
    args = p.parse_args()
    home = Path(args.home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RAGTUNE_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    rows: list = []
    if not args.skip_install:
        targets = ["install", *([] if args.no_mpnet else ["install-mpnet"]), *(["install-demo-models"] * args.answers)]
        if not phase(rows, "install", ["make", *targets], env):
            return report(rows, {}, home)
    info = cuda_report(args.python, env)
    print(f"\ntorch: {info}", flush=True)
    if not info.get("cuda"):
        print(
            "no CUDA device visible to torch (requirements.txt pins the CPU build for CPU machines): install a CUDA "
            "build of the same torch version into .venv, then rerun with --skip-install",
            file=sys.stderr,
        )
        report(rows, info, home)
        return 2
    py = args.python
    steps = [
        ("step 0 triplets", [py, "0_build_triplets.py"]),
        ("step 1 pool", [py, "1_build_corpus.py", "--size", "800"]),
        ("step 2 train MiniLM", [py, "2_train_embedder.py"]),
    ]
    if not args.no_mpnet:
        mpnet_out = str(home / "runs" / "mpnet-finetuned" / "final")
        steps.append(("step 2 train mpnet", [py, "2_train_embedder.py", "--embedder", "mpnet", "--out", mpnet_out]))
    arms = ["base", "finetuned=runs/finetuned/final"]
    if not args.no_mpnet:
        arms += ["mpnet", "mpnet-finetuned=runs/mpnet-finetuned/final"]
    steps.append(("step 3 eval", [py, "3_eval_retrieval.py", "--arms", *arms]))
    if args.answers:
        steps.append(("step 4 answers", [py, "4_rag_compare.py"]))
    for name, cmd in steps:
        if not phase(rows, name, cmd, env):
            break
    return report(rows, info, home)


def report(rows: list, info: dict, home: Path) -> int:
    print("\n| phase | seconds | exit |\n|---|---|---|")
    for name, seconds, rc in rows:
        print(f"| {name} | {seconds:.1f} | {rc} |")
    if info:
        print(
            f"\ntorch {info.get('torch')}, CUDA {info.get('cuda_build')}, GPU {info.get('gpu')}, bf16 {info.get('bf16')}"
        )
    cards = [home / "runs" / "finetuned" / "final", home / "runs" / "mpnet-finetuned" / "final"]
    on_cuda = True
    for folder in cards:
        if folder.exists():
            line = card_line(folder)
            on_cuda &= "device cuda" in line
            print(line)
    speed = home / "reports" / "retrieval_speed.csv"
    if speed.exists():
        print(f"\n{speed}:\n{speed.read_text()}")
    failed = any(rc != 0 for _, _, rc in rows)
    if not on_cuda:
        print("WARNING: a training card says it did not train on CUDA", file=sys.stderr)
    return 1 if failed or not on_cuda else 0


if __name__ == "__main__":
    sys.exit(main())
