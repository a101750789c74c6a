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
        ("1_build_corpus.py", ["--size", "0"], "--size must be positive"),
        ("4_rag_compare.py", ["--limit", "-1"], "--limit must be ≥ 0"),
        ("5_chatbot.py", ["--threads", "0"], "--threads must be positive"),
        ("2_train_embedder.py", ["--max-steps", "many"], "invalid int value: 'many'"),
    ],
)
def test_bad_value_is_one_line(script, args, fragment):
    assert_one_line_error(run_script(script, *args, timeout=60), script, fragment)
