"""Every numbered script: a bad flag or value is one line on stderr and exit code 2, before anything loads."""

from __future__ import annotations

import pytest

from tests.helpers import ROOT, assert_one_line_error, run_script

SCRIPTS = sorted(p.name for p in ROOT.glob("[0-9]*_*.py"))


def test_every_numbered_script_is_covered():
    assert SCRIPTS == [
        "0_build_triplets.py",
        "0a_generate_queries.py",
        "1_build_corpus.py",
        "2_train_embedder.py",
        "2b_train_reranker.py",
        "3_eval_retrieval.py",
        "4_rag_compare.py",
        "5_chatbot.py",
    ]


@pytest.mark.parametrize("script", SCRIPTS)
def test_unknown_flag_is_one_line(script):
    proc = run_script(script, "--from-docs", "x", "--no-such-flag", timeout=60)
    assert_one_line_error(proc, script, "unrecognized arguments", "--no-such-flag", "--help")


@pytest.mark.parametrize(
    "script, args, fragment",
    [
        ("1_build_corpus.py", ["--size", "0"], "--size must be ≥ 1, got 0"),
        ("4_rag_compare.py", ["--limit", "-1"], "--limit must be ≥ 0, got -1"),
        ("5_chatbot.py", ["--threads", "0"], "--threads must be ≥ 1, got 0"),
        ("5_chatbot.py", ["--port", "70000"], "--port must be ≤ 65535, got 70000"),
        ("2_train_embedder.py", ["--max-steps", "many"], "invalid int value: 'many'"),
        ("2b_train_reranker.py", ["--max-steps", "0"], "--max-steps must be ≥ 1, got 0"),
        ("2b_train_reranker.py", ["--loss", "hinge"], "--loss"),
        ("3_eval_retrieval.py", ["--rerank-depth", "0"], "--rerank-depth must be ≥ 1, got 0"),
        # each used to pass argparse and fail later (or not at all)
        ("0_build_triplets.py", ["--batch-size", "0"], "--batch-size must be ≥ 1, got 0"),
        ("0_build_triplets.py", ["--relative-margin", "-2"], "--relative-margin must be ≥ 0.0, got -2.0"),
        ("2_train_embedder.py", ["--eval-batch-size", "0"], "--eval-batch-size must be ≥ 1, got 0"),
        ("3_eval_retrieval.py", ["--fix-k", "-3"], "--fix-k must be ≥ 1, got -3"),
        ("3_eval_retrieval.py", ["--k", "1,x"], "invalid"),
        ("3_eval_retrieval.py", ["--cache", "sometimes"], "--cache"),
        ("3_eval_retrieval.py", ["--pool", "p.jsonl", "--sizes", "800"], "--pool and --sizes exclude each other"),
    ],
)
def test_bad_value_is_one_line(script, args, fragment):
    assert_one_line_error(run_script(script, *args, timeout=60), script, fragment)


def test_ragtune_help_lists_the_steps():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", "from ragtune.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0
    for step in ("generate-queries", "triplets", "pool", "train", "eval", "rag", "chat"):
        assert step in proc.stdout


def test_every_numbered_script_is_a_short_shim():
    for script in SCRIPTS:
        assert len((ROOT / script).read_text().splitlines()) <= 15, script
