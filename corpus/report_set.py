"""A step's report set (CSVs, summary, card, pictures) published as a whole, in a folder other steps share.

Guarantee: after a success, a failure or a kill -9 at any moment, every name of a step's set in the folder
resolves to the complete previous set or the complete new one, never a mix; another step's set in the same
folder is never touched.

How: the files are written into folder/.sets/<name>/staging-*; publishing renames that to set-<n>, then swaps
one symbolic link, folder/.sets/<name>/current, to it (a rename, atomic on POSIX). Each name the user opens,
folder/<file>, is a fixed link to .sets/<name>/current/<file>, so all of them change at the same instant.
A name new in this set is linked before the swap (it resolves to nothing until then); a name the new set no longer
has is unlinked after it. Older set-* folders and the staging folders of dead processes are removed on publish.
The first publish over loose files left by an older ragtune replaces them one by one (no set existed before).

Nothing ragtune did not write is removed: a folder of the user's that has a report's name (e.g. a folder
`rag_compare_summary.md/`) stops the publish before anything changes, and so does a file-system failure (a
read-only or full disk), each as one line that says the previous set is unchanged.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import RagtuneError
from corpus.processes import process_alive

SETS = ".sets"
CURRENT = "current"


def _pid_of(staging: Path) -> int | None:
    try:
        return int(staging.name.split("-")[1])
    except (IndexError, ValueError):
        return None


def _link_target(name: str, entry: str) -> str:
    return f"{SETS}/{name}/{CURRENT}/{entry}"


def _written_by_ragtune(loose: Path, staged: Path) -> bool:
    """A loose folder an older ragtune left (step 3's runs/): the new set has a folder of that name too, and the
    loose one holds only files of the kinds the new one holds (same suffixes), no subfolders."""
    if not staged.is_dir():
        return False
    kinds = {p.suffix for p in staged.iterdir() if p.is_file()}
    return all(p.is_file() and not p.is_symlink() and p.suffix in kinds for p in loose.iterdir())


def _check_owners(folder: Path, name: str, entries: list[str], staging: Path) -> None:
    """Refuse before anything changes when another step's set already owns one of our names, or a folder that
    ragtune did not write has one of them."""
    for entry in entries:
        link = folder / entry
        if link.is_dir() and not link.is_symlink() and not _written_by_ragtune(link, staging / entry):
            raise RagtuneError(
                f"{link}: a folder ragtune did not write has the name of a report {name} publishes; "
                "move or rename it, or use another output folder (nothing was published)"
            )
        if not link.is_symlink():
            continue
        target = os.readlink(link)
        if target.startswith(f"{SETS}/") and target != _link_target(name, entry):
            raise RagtuneError(
                f"{link}: belongs to another report set ({target.split('/')[1]}); use another output folder"
            )


def _link_entries(folder: Path, name: str, entries: list[str]) -> None:
    for entry in entries:
        link, target = folder / entry, _link_target(name, entry)
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)  # a loose folder from an older ragtune (e.g. runs/)
        tmp = folder / f".{entry}.link-{os.getpid()}-{threading.get_ident()}"
        os.symlink(target, tmp)
        os.replace(tmp, link)


def _swap_current(set_dir: Path, published: str) -> None:
    tmp = set_dir / f".{CURRENT}-{os.getpid()}-{threading.get_ident()}"
    os.symlink(published, tmp)
    os.replace(tmp, set_dir / CURRENT)


def _clean(folder: Path, name: str, set_dir: Path, published: str, entries: set[str]) -> None:
    for link in folder.iterdir():
        if link.is_symlink() and link.name not in entries and os.readlink(link) == _link_target(name, link.name):
            link.unlink()
    for old in set_dir.iterdir():
        if old.name.startswith("set-") and old.name != published:
            shutil.rmtree(old, ignore_errors=True)
        elif old.name.startswith("staging-") and not process_alive(_pid_of(old)):
            shutil.rmtree(old, ignore_errors=True)


def current_set(folder: Path, name: str) -> Path | None:
    """The folder holding the published set, or None before the first publish."""
    link = Path(folder) / SETS / name / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


@contextmanager
def report_set(folder: Path, name: str) -> Iterator[Path]:
    """Write a whole set into the yielded (empty) folder; it is published when the block ends without error.

    Only the top-level entries of the staging folder are linked into `folder`; a subfolder (step 3's runs/)
    travels with its set. On an error the staging folder is removed and the published set is untouched.
    """
    folder = Path(folder)
    set_dir = folder / SETS / name
    staging = set_dir / f"staging-{os.getpid()}-{threading.get_ident()}-{time.time_ns()}"
    try:
        try:
            set_dir.mkdir(parents=True, exist_ok=True)
            staging.mkdir()
            yield staging
            entries = sorted(p.name for p in staging.iterdir())
            _check_owners(folder, name, entries, staging)
            published = f"set-{time.time_ns()}-{os.getpid()}"
            os.rename(staging, set_dir / published)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        # until the swap below, every name still resolves to the previous set (a new name to nothing)
        _link_entries(folder, name, entries)
        _swap_current(set_dir, published)
    except OSError as exc:
        if exc.filename is None:  # not the file system's (e.g. a dropped connection inside the block): a bug's
            raise
        raise _publish_error(folder, name, exc) from None
    try:
        _clean(folder, name, set_dir, published, set(entries))
    except OSError as exc:  # the new set is out; what is left is an old folder or link, removed on the next publish
        from corpus.console import console

        console.print(f"[yellow]warning:[/] {folder}: the {name} reports are published, but cleaning up failed: {exc}")


def _publish_error(folder: Path, name: str, exc: OSError) -> RagtuneError:
    where = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
    return RagtuneError(
        f"{folder}: could not publish the {name} reports ({exc.strerror or type(exc).__name__}: {where}); "
        "the reports published before are unchanged"
    )
