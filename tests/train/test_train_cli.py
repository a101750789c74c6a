"""Step 2 (`ragtune train`, 2_train_embedder.py) turns bad arguments into one line on stderr and exit code 2."""

from __future__ import annotations

import pytest

from corpus.cli import EXIT_USER_ERROR, run_cli

pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--triplets", "{tmp}/nowhere"], "triplets not found"),
        (["--triplets", "{triplets}", "--loss", "triplet-margin"], "unknown loss 'triplet-margin'"),
        (["--triplets", "{triplets}", "--embedder", "{tmp}"], "is not a sentence-transformers model folder"),
        (["--triplets", "{triplets}", "--embedder", "{triplets}/train.jsonl"], "not a sentence-transformers"),
        (["--triplets", "{triplets}", "--precision", "fp16", "--device", "cpu"], "needs a CUDA device"),
        (["--triplets", "{triplets}", "--eval-batch-size", "0"], "--eval-batch-size must be ≥ 1, got 0"),
        (["--triplets", "{triplets}", "--warmup-ratio", "1.5"], "warmup ratio must be in [0, 1)"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(train_script, tiny_triplets, tmp_path, capsys, args, message):
    argv = [a.format(tmp=tmp_path, triplets=tiny_triplets) for a in args] + ["--out", str(tmp_path / "out")]
    assert run_cli(train_script.main, argv) == EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_a_broken_triplet_line_is_located(train_script, tiny_triplets, tmp_path, capsys):
    folder = tmp_path / "triplets"
    folder.mkdir()
    for name in ("dev.jsonl", "card.json"):
        (folder / name).write_text((tiny_triplets / name).read_text())
    lines = (tiny_triplets / "train.jsonl").read_text().splitlines()[:3] + ['{"query_id": "q9", "query": ""}']
    (folder / "train.jsonl").write_text("\n".join(lines) + "\n")
    assert run_cli(train_script.main, ["--triplets", str(folder), "--out", str(tmp_path / "out")]) == EXIT_USER_ERROR
    assert "train.jsonl:4" in capsys.readouterr().err
