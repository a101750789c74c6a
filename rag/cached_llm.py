"""An LLM call through the answer cache: what finished once is never asked again."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from rag.answer_cache import AnswerCache
from rag.llm_client import Completion, LLMClient


@dataclass
class CachedLLM:
    client: LLMClient
    cache: AnswerCache
    # identity of the weights behind the endpoint: a local GGUF's sha256, or URL + model name for a remote one
    model_key: str
    # token counts of texts (context blocks), kept apart from the answers so answer cache counts stay answers
    token_cache: AnswerCache | None = None
    # one lock per request in flight: when both arms retrieve the same passages, their identical prompts
    # arrive together from two workers and must cost one LLM call, not two racing writes of one entry
    _key_locks: dict = field(default_factory=dict, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            return self._key_locks.setdefault(key, threading.Lock())

    def complete(
        self, messages: list[dict], max_tokens: int, temperature: float = 0.0, seed: int | None = None
    ) -> tuple[Completion, bool]:
        """(completion, came from cache). A seed (a judge's repeat) is part of the request and so of the cache
        key; without one the key is what it always was, so earlier caches stay valid."""
        payload = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        extra = {}
        if seed is not None:
            payload["seed"] = extra["seed"] = seed
        key = self.cache.key(self.model_key, payload)
        with self._lock_for(key):
            hit = self.cache.get(key)
            if hit is not None:
                return Completion(**hit["completion"]), True
            done = self.client.complete(messages, max_tokens, temperature, **extra)
            self.cache.put(key, {"model_key": self.model_key, "request": payload, "completion": asdict(done)})
        return done, False

    def is_cached(self, messages: list[dict], max_tokens: int, temperature: float = 0.0) -> bool:
        """Whether complete() would answer from the cache (a planner counts the replies still to ask)."""
        payload = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        return self.cache.get(self.cache.key(self.model_key, payload)) is not None

    def count_tokens(self, text: str) -> int | None:
        """The endpoint's token count of `text`, from the token cache when it was counted before."""
        key = self.cache.key(self.model_key, {"tokenize": text})
        if self.token_cache is not None:
            hit = self.token_cache.get(key)
            if hit is not None:
                return hit["tokens"]
        n = self.client.count_tokens(text)
        if n is not None and self.token_cache is not None:
            self.token_cache.put(key, {"model_key": self.model_key, "tokens": n})
        return n
