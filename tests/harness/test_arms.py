"""Arm specs (harness/arms.py): one parser and one missing-model behaviour for steps 3, 4 and 5."""

from __future__ import annotations

import pytest

from corpus.errors import RagtuneError
from harness.arms import BM25, DENSE, ArmSpec, parse_arm, parse_arms


@pytest.mark.parametrize(
    "text, expected",
    [
        ("base", ArmSpec("base", DENSE, "base")),
        ("tuned=base", ArmSpec("tuned", DENSE, "base")),
        ("runs/x/final/", ArmSpec("final", DENSE, "runs/x/final/")),
        ("bm25", ArmSpec("bm25", BM25)),
        ("lex=bm25", ArmSpec("lex", BM25)),
    ],
)
def test_parse_arm(text, expected):
    arm = parse_arm(text)
    assert arm == expected
    assert parse_arm(arm.text) == arm  # the spec a card shows parses back to the same arm


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("=base", "must be NAME=PATH"),
        ("a b=base", "arm name 'a b'"),
        ("fused=base+bm25", "fused (hybrid) arms are not supported yet"),
        ("rr=base>runs/reranker", "reranked arms are not supported yet"),
    ],
)
def test_bad_arms_are_user_errors(text, fragment):
    with pytest.raises(RagtuneError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_arm(text)


def test_names_must_be_unique_and_folders_exist(tmp_path):
    with pytest.raises(RagtuneError, match="unique"):
        parse_arms(["base", "base=base"])
    with pytest.raises(RagtuneError, match="does not exist"):
        parse_arms(["base", f"ft={tmp_path / 'nope'}"])


def test_default_arms_go_on_without_a_missing_finetuned_model(monkeypatch, tmp_path, capsys):
    import corpus.paths

    ft = tmp_path / "runs" / "finetuned" / "final"
    monkeypatch.setattr(corpus.paths, "DEFAULT_FINETUNED", ft)
    assert parse_arms(None) == [ArmSpec("base", DENSE, "base")]
    assert "no fine-tuned model at" in capsys.readouterr().out
    ft.mkdir(parents=True)
    (ft / "modules.json").write_text("[]")
    assert [a.name for a in parse_arms(None)] == ["base", "finetuned"]
