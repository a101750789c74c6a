"""Output locations are checked before any work: a file for a folder, a folder for a file, no write access."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from corpus.errors import RagtuneError
from corpus.output_location import check_output_dir, check_output_file


@pytest.fixture()
def read_only(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(folder, os.W_OK) or os.geteuid() == 0:
        # root writes through permission bits: use a folder of a read-only file system instead
        folder.chmod(0o755)
        folder = next((Path(p) for p in ("/sys/fs", "/proc/sys") if os.path.isdir(p)), None)
        if folder is None:
            pytest.skip("no read-only folder to test with on this machine")
        try:
            check_output_dir(folder)
            pytest.skip("no read-only folder to test with on this machine")
        except RagtuneError:
            pass
    yield folder
    if str(folder).startswith(str(tmp_path)):
        folder.chmod(0o755)


def test_fresh_nested_folder_is_fine_and_nothing_is_left_behind(tmp_path):
    assert check_output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert check_output_file(tmp_path / "c" / "out.jsonl") == tmp_path / "c" / "out.jsonl"
    assert list(tmp_path.iterdir()) == []  # judged by the nearest existing parent; the probe file is gone


def test_file_where_a_folder_is_expected(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RagtuneError, match="is a file, expected a folder"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(RagtuneError, match="is a file, so no folder can be made there"):
        check_output_dir(tmp_path / "f" / "sub")
    with pytest.raises(RagtuneError, match="f: is a file, expected a folder"):
        check_output_file(tmp_path / "f" / "pool.jsonl")


def test_folder_where_a_file_is_expected(tmp_path):
    with pytest.raises(RagtuneError, match="is a folder, expected a file name"):
        check_output_file(tmp_path)


def test_read_only_folder(read_only):
    with pytest.raises(RagtuneError, match="cannot write in"):
        check_output_dir(read_only / "reports")
    with pytest.raises(RagtuneError, match="cannot write in"):
        check_output_file(read_only / "pool.jsonl")
