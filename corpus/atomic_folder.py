"""Replacing a whole folder at once: written beside its target as a staging folder, then swapped in.

After any failure or kill -9 the target holds either the complete previous content or the complete new one.
On Linux the swap is one renameat2(RENAME_EXCHANGE) call; where the kernel or file system lacks it, two renames
with the previous folder parked under a recognisable name that `recover_folder` moves back on the next run.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import RagtuneError
from corpus.processes import process_alive

_STAGING = ".staging-"
_PARKED = ".previous-"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _sibling(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}{kind}{os.getpid()}-{threading.get_ident()}")


def _pid_alive(name: str) -> bool:
    try:
        pid = int(name.rsplit("-", 2)[-2])
    except (IndexError, ValueError):
        return False
    return process_alive(pid)


def recover_folder(target: Path) -> None:
    """Undo what a killed swap or staging left: bring a parked previous folder back, drop dead staging folders."""
    target = Path(target)
    if not target.parent.is_dir():
        return
    for p in sorted(target.parent.glob(f".{target.name}{_PARKED}*")):
        if _pid_alive(p.name):
            continue
        if not target.exists():
            os.rename(p, target)
        else:
            shutil.rmtree(p, ignore_errors=True)
    for p in target.parent.glob(f".{target.name}{_STAGING}*"):
        if not _pid_alive(p.name):
            shutil.rmtree(p, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _renameat2():
    libc_name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(libc_name, use_errno=True) if libc_name else None
    return getattr(libc, "renameat2", None)


def _exchange(a: Path, b: Path) -> bool:
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return done == 0


def replace_folder(staging: Path, target: Path) -> None:
    """Make `staging` the folder `target` in one step; the previous `target` (if any) is deleted."""
    staging, target = Path(staging), Path(target)
    if not target.exists():
        os.rename(staging, target)
        return
    if not target.is_dir():
        raise NotADirectoryError(target)
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the previous content
        return
    parked = _sibling(target, _PARKED)
    os.rename(target, parked)
    os.rename(staging, target)
    shutil.rmtree(parked, ignore_errors=True)


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """An empty folder beside `target` to write into; swapped in whole when the block ends without an error.

    On an error the staging folder is removed and `target` is untouched; a file-system failure (read-only, full)
    becomes a RagtuneError that says so.
    """
    target = Path(target)
    staging = _sibling(target, _STAGING)
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            recover_folder(target)
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        replace_folder(staging, target)
    except OSError as exc:
        if exc.filename is None:  # not the file system's (e.g. a dropped connection inside the block): a bug's
            raise
        shutil.rmtree(staging, ignore_errors=True)
        where = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
        raise RagtuneError(
            f"{target}: could not write ({exc.strerror or type(exc).__name__}: {where}); its previous content is "
            "unchanged"
        ) from None
