"""The answer cache under concurrency: identical requests in flight together cost one call and one entry."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from rag.answer_cache import AnswerCache
from rag.cached_llm import CachedLLM
from rag.llm_client import Completion


class SlowClient:
    """Counts calls; slow enough that concurrent identical requests overlap."""

    def __init__(self):
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def complete(self, messages, max_tokens, temperature):
        with self._lock:
            self.calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(0.2)
        with self._lock:
            self.in_flight -= 1
        return Completion(
            text=f"answer to {messages[-1]['content']}", prompt_tokens=5, completion_tokens=3, latency_s=0.2
        )


def test_identical_requests_in_flight_are_asked_once(tmp_path):
    client = SlowClient()
    llm = CachedLLM(client, AnswerCache(tmp_path / "answers"), model_key="m")
    msgs = [{"role": "user", "content": "same question"}]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: llm.complete(msgs, 16), range(4)))
    assert client.calls == 1
    assert {r[0].text for r in results} == {"answer to same question"}
    assert sorted(cached for _, cached in results) == [False, True, True, True]
    entries = list((tmp_path / "answers").rglob("*"))
    assert [p.suffix for p in entries if p.is_file()] == [".json"]  # no stray temporary files


def test_different_requests_run_in_parallel(tmp_path):
    client = SlowClient()
    llm = CachedLLM(client, AnswerCache(tmp_path / "answers"), model_key="m")
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: llm.complete([{"role": "user", "content": f"q{i}"}], 16), range(4)))
    assert client.calls == 4
    assert client.most_in_flight > 1  # one lock per request, not one for the whole cache
