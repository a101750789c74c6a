"""Embeddings on disk, keyed by content fingerprints (model, texts, prompt), never by names or times.

Overwrite policy: corpus.cache_policy.CachePolicy (REUSE loads a stored array, RECOMPUTE encodes again and
replaces it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

import corpus.paths
from corpus.cache_policy import CachePolicy
from corpus.console import console
from corpus.jsonl import replacing


def texts_fingerprint(texts: list[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


class EmbeddingCache:
    def __init__(self, folder: Path | None = None, policy: CachePolicy | str = CachePolicy.REUSE):
        # looked up at call time so tests (and --cache-dir) can redirect it
        self.folder = Path(folder) if folder is not None else corpus.paths.EMBEDDING_CACHE_DIR
        self.policy = CachePolicy(policy)  # a wrong word fails here, as ValueError
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(model_fp: str, texts_fp: str, prompt: str, max_seq_length: int | None = None) -> str:
        raw = f"{model_fp}|{texts_fp}|{prompt}|{max_seq_length}".encode()
        return hashlib.sha256(raw).hexdigest()[:24]

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npy"

    def get(self, key: str, n: int, count_miss: bool = True) -> np.ndarray | None:
        """The stored (n, dim) array, or None; count_miss=False for a look-ahead whose miss the encode that follows
        counts (so one corpus is one miss, not two)."""
        p = self.path(key)
        if self.policy is CachePolicy.RECOMPUTE or not p.exists():
            self.misses += count_miss
            return None
        try:
            arr = np.load(p, mmap_mode=None, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            # a killed writer cannot leave one (writes are atomic), but a full disk or a copy can: recompute it
            console.print(
                f"[yellow]warning:[/] unreadable cache entry {p} ({type(exc).__name__}): encoding again",
                highlight=False,
            )
            arr = None
        if arr is None or arr.ndim != 2 or arr.shape[0] != n:  # a truncated or foreign file is treated as absent
            self.misses += count_miss
            return None
        self.hits += 1
        return arr

    def put(self, key: str, arr: np.ndarray) -> None:
        with replacing(self.path(key), ".tmp.npy") as tmp:
            np.save(tmp, np.ascontiguousarray(arr, dtype=np.float32))
