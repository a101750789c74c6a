"""Embeddings on disk, keyed by content fingerprints (model, texts, prompt), never by names or times.

An entry is one list of texts. Beside it, under rows/GROUP/ (GROUP: the model, prompt and length), lies one digest
per text, so a list that overlaps entries already stored takes those rows and encodes only the rest: the dev pool a
convex weight is fitted on is most of the corpus the test queries search, and step 0's corpus holds most of a pool.
An embedding depends only on its text (padding is masked), so a row taken from another entry is the row a fresh
encode gives, to float32 rounding: a text's embedding already varies in its last bit with the batch it is encoded
in, and rankings do not move (the demo's step 3 ranks every query identically with and without reuse).

Overwrite policy: corpus.cache_policy.CachePolicy (REUSE loads a stored array or rows, RECOMPUTE encodes again and
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


def text_digests(texts: list[str]) -> np.ndarray:
    """One 64-bit digest per text (among a million distinct texts, any two collide with a chance of about 3e-8)."""
    return np.array(
        [int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little") for t in texts],
        dtype=np.uint64,
    )


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
        self.reused_rows = 0  # rows taken from other entries on a miss, not encoded

    @staticmethod
    def key(model_fp: str, texts_fp: str, prompt: str, max_seq_length: int | None = None) -> str:
        raw = f"{model_fp}|{texts_fp}|{prompt}|{max_seq_length}".encode()
        return hashlib.sha256(raw).hexdigest()[:24]

    @classmethod
    def group(cls, model_fp: str, prompt: str, max_seq_length: int | None = None) -> str:
        """The entries whose rows are interchangeable: the same model, prompt and length, any texts."""
        return cls.key(model_fp, "", prompt, max_seq_length)

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

    def put(self, key: str, arr: np.ndarray, group: str | None = None, digests: np.ndarray | None = None) -> None:
        """Store the entry; with its group and text digests, its rows can serve other lists of texts."""
        with replacing(self.path(key), ".tmp.npy") as tmp:
            np.save(tmp, np.ascontiguousarray(arr, dtype=np.float32))
        if group is not None and digests is not None and len(digests) == len(arr):
            # written after the entry: a digest file never points at an entry that is not there
            with replacing(self.folder / "rows" / group / f"{key}.npy", ".tmp.npy") as tmp:
                np.save(tmp, np.asarray(digests, dtype=np.uint64))

    def stored_rows(self, group: str, digests: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, found): rows[i] is text i's embedding where another entry of `group` holds it (found[i]), zeros
        elsewhere. Nothing is found under RECOMPUTE, nor in an entry that is missing, unreadable or of another size."""
        rows = np.zeros((len(digests), dim), dtype=np.float32)
        found = np.zeros(len(digests), dtype=bool)
        folder = self.folder / "rows" / group
        if self.policy is CachePolicy.RECOMPUTE or not folder.is_dir() or not len(digests):
            return rows, found
        for listing in sorted(folder.glob("*.npy")):
            if found.all():
                break
            try:
                stored = np.load(listing, allow_pickle=False)
                position = {int(d): i for i, d in enumerate(stored.tolist())}
                wanted = [i for i in np.flatnonzero(~found) if int(digests[i]) in position]
                if not wanted:
                    continue
                arr = np.load(self.path(listing.stem), mmap_mode="r", allow_pickle=False)
                if arr.ndim != 2 or arr.shape != (len(stored), dim):
                    continue
                rows[wanted] = arr[[position[int(digests[i])] for i in wanted]]
            except (OSError, ValueError, EOFError):
                continue  # a damaged or vanished entry gives no rows; the texts are encoded
            found[wanted] = True
        self.reused_rows += int(found.sum())
        return rows, found
