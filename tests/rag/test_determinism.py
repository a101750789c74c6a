"""Identical prompts, byte-identical answers from ragtune's local server: across reruns, worker counts and a new
server process, with the answer cache out of the way (every answer below is really generated)."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from rag.llm_session import LocalOptions, open_client
from rag.local_server import ServerConfig

ROOT = Path(__file__).resolve().parents[2]
MAX_TOKENS = 32


def test_one_slot_is_what_makes_it_deterministic():
    assert ServerConfig(threads=1).determinism()["promised"]
    assert not ServerConfig(threads=1, slots=2).determinism()["promised"]
    assert not ServerConfig(threads=1, reuse_prompts=True).determinism()["promised"]
    cfg = LocalOptions("smollm2", slots=4, deterministic=True).server_config(threads=1)
    assert cfg.slots == 1 and cfg.determinism() | {"seed": 0, "threads": 1} == cfg.determinism()
    assert LocalOptions("smollm2", slots=4).server_config(threads=1).slots == 4


def test_a_remote_endpoint_promises_nothing(stub_llm):
    from rag.llm_client import EndpointConfig

    with ExitStack() as stack:
        _, card, _ = open_client(stack, EndpointConfig(stub_llm.base_url, "stub", api_key_env=""), LocalOptions())
    assert card["determinism"]["promised"] is False and "remote" in card["determinism"]["condition"]


def prompts(data: Path) -> list[list[dict]]:
    """Eight step-4 prompts over the tiny O*NET fixture, each with its own three passages."""
    from corpus.beir import load_dataset
    from rag.prompts import DEFAULT_TEMPLATE, PromptTemplate

    ds = load_dataset(data)
    docs, qids, template = list(ds.corpus.values()), sorted(ds.queries), PromptTemplate(DEFAULT_TEMPLATE)
    return [
        template.messages(ds.queries[qids[i % len(qids)]], [docs[(i * 3 + k) % len(docs)] for k in range(3)])
        for i in range(8)
    ]


def answer_all(data: Path, workers: int, rounds: int = 1) -> tuple[list[list[str]], dict]:
    """`rounds` passes over the prompts through one deterministic local server, `workers` requests in flight."""
    with ExitStack() as stack:
        local = LocalOptions("smollm2", threads=1, ctx_per_slot=2048, slots=workers, deterministic=True)
        client, card, _ = open_client(stack, None, local, timeout_s=600, max_retries=0)
        messages = prompts(data)
        with cf.ThreadPoolExecutor(workers) as pool:
            out = [list(pool.map(lambda m: client.complete(m, MAX_TOKENS).text, messages)) for _ in range(rounds)]
    return out, card


@pytest.mark.llm
@pytest.mark.slow
def test_identical_prompts_give_identical_answers_across_reruns_workers_and_restarts(tiny_dataset):
    (first, rerun), card = answer_all(tiny_dataset, workers=1, rounds=2)
    assert card["determinism"]["promised"] and card["determinism"]["slots"] == 1
    assert all(first) and len(set(first)) > 1  # real, varied answers
    assert rerun == first  # the same server asked again

    (parallel,), card = answer_all(tiny_dataset, workers=3)
    assert card["slots"] == 1 and parallel == first  # three workers in flight: they queue at one slot

    # a new process: a new server, a new model load, nothing shared with this one but the files
    code = (
        "import json, sys; from pathlib import Path; import corpus; "
        "from tests.rag.test_determinism import answer_all; "
        "print(json.dumps(answer_all(Path(sys.argv[1]), workers=2)[0][0]))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tiny_dataset)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == first
