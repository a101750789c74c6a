"""An LLM call through the answer cache: what finished once is never asked again."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from rag.answer_cache import AnswerCache
from rag.llm_client import Completion, LLMClient


@dataclass
class CachedLLM:
    client: LLMClient
    cache: AnswerCache
    # identity of the weights behind the endpoint: a local GGUF's sha256, or URL + model name for a remote one
    model_key: str

    def complete(self, messages: list[dict], max_tokens: int, temperature: float = 0.0) -> tuple[Completion, bool]:
        """(completion, came from cache)."""
        payload = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        key = self.cache.key(self.model_key, payload)
        hit = self.cache.get(key)
        if hit is not None:
            return Completion(**hit["completion"]), True
        done = self.client.complete(messages, max_tokens, temperature)
        self.cache.put(key, {"model_key": self.model_key, "request": payload, "completion": asdict(done)})
        return done, False
