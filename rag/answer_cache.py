"""Finished LLM replies on disk, keyed by (endpoint model, hash of the full request).

The key covers everything that changes a reply (messages, max_tokens, temperature, model identity), so a
killed run resumes without recomputing what finished and a changed prompt never reuses a stale answer.
Overwrite policy: corpus.cache_policy.CachePolicy (REUSE by default, RECOMPUTE asks again and replaces).
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import corpus.paths
from corpus.cache_policy import CachePolicy
from corpus.jsonl import write_json


def request_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class AnswerCache:
    def __init__(self, folder: Path | None = None, policy: CachePolicy | str = CachePolicy.REUSE):
        self.folder = Path(folder) if folder is not None else corpus.paths.CACHE_DIR / "answers"
        self.policy = CachePolicy(policy)  # a wrong word fails here, as ValueError
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._lock = threading.Lock()  # counters are shared by the worker threads

    @staticmethod
    def key(model_key: str, payload: dict) -> str:
        return hashlib.sha256(f"{model_key}|{request_hash(payload)}".encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        p = self.path(key)
        record = None
        if self.policy is CachePolicy.REUSE and p.is_file():
            try:
                record = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                record = None  # a damaged entry is asked again, not trusted
        with self._lock:
            if record is None:
                self.misses += 1
            else:
                self.hits += 1
        return record

    def put(self, key: str, record: dict) -> None:
        write_json(self.path(key), record)  # atomic: a kill never leaves half an answer that looks finished
        with self._lock:
            self.writes += 1
