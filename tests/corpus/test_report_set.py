"""Report sets and whole folders are swapped in at once: after a failure or kill -9, old set or new set, no mix."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from corpus.atomic_folder import recover_folder, replace_folder, staged_folder
from corpus.errors import RagtuneError
from corpus.report_set import current_set, report_set
from tests.helpers import ROOT


def write_set(folder, name, tag, files=("metrics.csv", "summary.md", "card.json"), sub="runs"):
    with report_set(folder, name) as staging:
        for f in files:
            (staging / f).write_text(f"{tag}:{f}", encoding="utf-8")
        if sub:
            (staging / sub).mkdir()
            (staging / sub / "a.trec").write_text(f"{tag}:trec", encoding="utf-8")


def contents(folder):
    return {p.name: p.read_text() for p in folder.iterdir() if not p.name.startswith(".") and p.is_file()}


def test_set_is_published_under_flat_names_and_replaced_whole(tmp_path):
    write_set(tmp_path, "retrieval", "v1")
    assert contents(tmp_path) == {
        "metrics.csv": "v1:metrics.csv",
        "summary.md": "v1:summary.md",
        "card.json": "v1:card.json",
    }
    assert (tmp_path / "runs" / "a.trec").read_text() == "v1:trec"
    write_set(tmp_path, "retrieval", "v2", files=("metrics.csv", "card.json", "speed.csv"))
    assert contents(tmp_path) == {
        "metrics.csv": "v2:metrics.csv",
        "card.json": "v2:card.json",
        "speed.csv": "v2:speed.csv",
    }  # summary.md was not in the new set: gone
    assert len([p for p in (tmp_path / ".sets" / "retrieval").iterdir() if p.name.startswith("set-")]) == 1
    assert current_set(tmp_path, "retrieval").name.startswith("set-")


def test_failure_while_writing_keeps_the_previous_set(tmp_path):
    write_set(tmp_path, "retrieval", "v1")
    with pytest.raises(RuntimeError):
        with report_set(tmp_path, "retrieval") as staging:
            (staging / "metrics.csv").write_text("v2 half", encoding="utf-8")
            raise RuntimeError("plot failed")
    assert set(contents(tmp_path).values()) == {"v1:metrics.csv", "v1:summary.md", "v1:card.json"}
    assert [p.name for p in (tmp_path / ".sets" / "retrieval").iterdir() if p.name.startswith("staging")] == []


def test_sets_of_two_steps_share_a_folder_without_touching_each_other(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    write_set(tmp_path, "retrieval", "r1", sub=None)
    write_set(tmp_path, "rag", "g1", files=("rag_report.csv", "rag_card.json"), sub=None)
    write_set(tmp_path, "retrieval", "r2", files=("metrics.csv",), sub=None)
    assert contents(tmp_path) == {
        "notes.txt": "mine",
        "metrics.csv": "r2:metrics.csv",
        "rag_report.csv": "g1:rag_report.csv",
        "rag_card.json": "g1:rag_card.json",
    }
    with pytest.raises(RagtuneError, match="belongs to another report set"):
        write_set(tmp_path, "rag", "g2", files=("metrics.csv",), sub=None)
    assert contents(tmp_path)["metrics.csv"] == "r2:metrics.csv"


def test_loose_files_of_an_older_version_are_taken_over(tmp_path):
    (tmp_path / "metrics.csv").write_text("loose", encoding="utf-8")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "old.trec").write_text("loose", encoding="utf-8")
    write_set(tmp_path, "retrieval", "v1")
    assert contents(tmp_path)["metrics.csv"] == "v1:metrics.csv"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["a.trec"]


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from corpus.report_set import report_set
    with report_set(Path({folder!r}), "retrieval") as staging:
        (staging / "metrics.csv").write_text("v2:metrics.csv")
        (staging / "summary.md").write_text("v2:summary.md")
        os.kill(os.getpid(), signal.SIGKILL)
""")


def test_kill_9_while_writing_leaves_the_complete_previous_set(tmp_path):
    write_set(tmp_path, "retrieval", "v1")
    before = contents(tmp_path)
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER.format(root=str(ROOT), folder=str(tmp_path))])
    assert proc.returncode == -9
    assert contents(tmp_path) == before
    write_set(tmp_path, "retrieval", "v3")  # the next run cleans the dead run's staging folder
    assert [p.name for p in (tmp_path / ".sets" / "retrieval").iterdir() if not p.is_symlink()][0].startswith("set-")
    assert len(list((tmp_path / ".sets" / "retrieval").iterdir())) == 2  # current + one set


def test_staged_folder_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "data" / "seed-1234"
    with staged_folder(target) as staging:
        (staging / "a.txt").write_text("1")
    with pytest.raises(ValueError):
        with staged_folder(target) as staging:
            (staging / "b.txt").write_text("2")
            raise ValueError
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    with staged_folder(target) as staging:
        (staging / "b.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["seed-1234"]


def test_a_swap_killed_between_its_two_renames_is_recovered(tmp_path, monkeypatch):
    """Where RENAME_EXCHANGE is missing the swap takes two renames; a kill between them parks the old folder."""
    import corpus.atomic_folder as af

    target = tmp_path / "ds"
    target.mkdir()
    (target / "old.txt").write_text("old")
    staging = tmp_path / ".ds.staging-1-1"
    staging.mkdir()
    monkeypatch.setattr(af, "_exchange", lambda a, b: False)
    renames = []
    real_rename = os.rename

    def rename_then_die(src, dst):
        renames.append((src, dst))
        real_rename(src, dst)
        if len(renames) == 1:
            raise KeyboardInterrupt  # stands in for the kill

    monkeypatch.setattr(af.os, "rename", rename_then_die)
    with pytest.raises(KeyboardInterrupt):
        replace_folder(staging, target)
    monkeypatch.setattr(af.os, "rename", real_rename)
    monkeypatch.setattr(af, "_pid_alive", lambda name: False)  # as seen by the next run: that process is gone
    assert not target.exists()
    recover_folder(target)
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_a_users_folder_with_a_report_name_stops_the_publish(tmp_path):
    write_set(tmp_path, "retrieval", "v1", sub=None)
    before = contents(tmp_path)
    (tmp_path / "summary.md.new").mkdir()  # unrelated: left alone
    mine = tmp_path / "speed.csv"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(RagtuneError, match=r"speed\.csv: a folder ragtune did not write"):
        write_set(tmp_path, "retrieval", "v2", files=("metrics.csv", "speed.csv"), sub=None)
    assert (mine / "notes.txt").read_text() == "mine"
    assert contents(tmp_path) == before  # nothing of v2 was published


def test_a_loose_folder_holding_other_kinds_of_files_is_not_taken_over(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "thesis.docx").write_text("mine", encoding="utf-8")
    with pytest.raises(RagtuneError, match="runs: a folder ragtune did not write"):
        write_set(tmp_path, "retrieval", "v1")
    assert (tmp_path / "runs" / "thesis.docx").read_text() == "mine"


def test_a_file_system_failure_while_publishing_is_one_error_and_keeps_the_previous_set(tmp_path, monkeypatch):
    import corpus.report_set as rs

    write_set(tmp_path, "retrieval", "v1")
    before = contents(tmp_path)

    def read_only(*a, **kw):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".sets" / "retrieval" / "set-x"))

    monkeypatch.setattr(rs.os, "rename", read_only)
    with pytest.raises(RagtuneError, match="could not publish the retrieval reports.*published before are unchanged"):
        write_set(tmp_path, "retrieval", "v2")
    assert contents(tmp_path) == before
    assert [p.name for p in (tmp_path / ".sets" / "retrieval").iterdir() if p.name.startswith("staging")] == []


def test_a_file_system_failure_in_a_staged_folder_is_one_error(tmp_path):
    target = tmp_path / "data" / "seed-1234"
    with staged_folder(target) as staging:
        (staging / "a.txt").write_text("1")
    with pytest.raises(RagtuneError, match="seed-1234: could not write.*previous content is unchanged"):
        with staged_folder(target) as staging:
            (staging / "missing" / "b.txt").write_text("2")  # FileNotFoundError, as a vanished disk would give
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
