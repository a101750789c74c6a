"""Checking where a step will write before it loads a model, so a bad --out costs seconds, not the whole run.

Both checks create nothing that stays: a folder that does not exist yet is judged by its nearest existing
parent, and writability is probed with a temporary file that is removed at once (os.access is not enough:
it ignores read-only mounts and says yes to root).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from corpus.errors import RagtuneError


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(".")


def _probe_writable(folder: Path, what: Path) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=".ragtune-write-check-", dir=folder)
    except OSError as exc:
        raise RagtuneError(f"{what}: cannot write in {folder} ({exc.strerror or type(exc).__name__})") from None
    os.close(fd)
    os.unlink(probe)


def check_output_dir(path: str | Path) -> Path:
    """Raise RagtuneError unless `path` is (or can become) a folder this process can write in."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RagtuneError(f"{path}: is a file, expected a folder for the outputs")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise RagtuneError(f"{path}: {existing} is a file, so no folder can be made there")
    _probe_writable(existing, path)
    return path


def check_output_file(path: str | Path) -> Path:
    """Raise RagtuneError unless `path` is (or can become) a file this process can replace."""
    path = Path(path)
    if path.is_dir():
        raise RagtuneError(f"{path}: is a folder, expected a file name (e.g. {path / 'out.jsonl'})")
    if path.name in ("", ".", ".."):
        raise RagtuneError(f"{path}: expected a file name")
    check_output_dir(path.parent)
    return path
