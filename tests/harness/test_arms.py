"""Arm specs (harness/arms.py): one parser and one missing-model behaviour for steps 3, 4 and 5."""

from __future__ import annotations

import pytest

from corpus.errors import RagtuneError
from harness.arms import BM25, DENSE, HYBRID, RERANK, ArmSpec, parse_arm, parse_arms


@pytest.mark.parametrize(
    "text, expected",
    [
        ("base", ArmSpec("base", DENSE, "base")),
        ("tuned=base", ArmSpec("tuned", DENSE, "base")),
        ("runs/x/final/", ArmSpec("final", DENSE, "runs/x/final/")),
        ("bm25", ArmSpec("bm25", BM25)),
        ("lex=bm25", ArmSpec("lex", BM25)),
        ("hy=bm25+base", ArmSpec("hy", HYBRID, parts=("bm25", "base"), fusion="rrf")),
        ("hy=bm25+base:rrf", ArmSpec("hy", HYBRID, parts=("bm25", "base"), fusion="rrf")),
        ("cx=bm25 + ft:convex", ArmSpec("cx", HYBRID, parts=("bm25", "ft"), fusion="convex")),
        ("rr=ft>runs/reranker/final", ArmSpec("rr", RERANK, parts=("ft", "runs/reranker/final"))),
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
        ("fused=base+bm25:max", "fusion must be one of rrf, convex"),
        ("fused=base+bm25+x", "fuses two arms"),
        ("fused=base+base", "two different arms"),
        ("fused=base+", "fuses two arms"),
        ("rr=>runs/reranker", "NAME=ARM>RERANKER_FOLDER"),
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


def test_composite_arms_name_earlier_arms(tmp_path):
    arms = parse_arms(["base", "bm25", "hy=bm25+base:convex", "rr=hy>base"])
    assert [a.kind for a in arms] == [DENSE, BM25, HYBRID, RERANK]
    with pytest.raises(RagtuneError, match="'ft' is not an arm given before it"):
        parse_arms(["base", "bm25", "hy=bm25+ft", "ft=base"])
    with pytest.raises(RagtuneError, match="hybrid parts are dense or bm25 arms"):
        parse_arms(["base", "bm25", "hy=bm25+base", "h2=hy+base"])
    with pytest.raises(RagtuneError, match="'x' is not an arm given before it"):
        parse_arms(["base", "rr=x>base"])
    with pytest.raises(RagtuneError, match="does not exist"):
        parse_arms(["base", f"rr=base>{tmp_path / 'no-reranker'}"])


def test_finetuned_alone_names_the_step_2_model(monkeypatch, tmp_path):
    import shutil

    import corpus.paths
    from corpus.models import resolve_model_path

    ft = tmp_path / "runs" / "finetuned" / "final"
    with pytest.raises(RagtuneError, match="does not exist"):  # asked for by name: missing is an error, not a note
        parse_arms(["base", "finetuned"], ft)
    shutil.copytree(resolve_model_path("base"), ft)
    monkeypatch.setattr(corpus.paths, "DEFAULT_FINETUNED", ft)
    arms = parse_arms(["base", "finetuned", "bm25", "hybrid=bm25+finetuned:convex"], ft)
    assert arms[1] == ArmSpec("finetuned", DENSE, str(ft))
    assert arms[3].parts == ("bm25", "finetuned")
