"""The real local server with the tiny SmolLM2 GGUF: start on a free port, answer, stream, stop."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from rag.llm_client import EndpointConfig, LLMClient
from rag.local_model import smollm2
from rag.local_server import LocalServer, ServerConfig


def test_start_answer_stream_stop():
    model = smollm2()
    with LocalServer(model, ServerConfig(threads=1, ctx_per_slot=1024)) as server:
        address = server.address
        assert address.startswith("http://127.0.0.1:")
        client = LLMClient(EndpointConfig(server.base_url, model.name, max_retries=0, timeout_s=120))
        client.check()
        msg = [{"role": "user", "content": "Passage [1]: Chefs cook food.\nWho cooks food? Cite the passage."}]
        done = client.complete(msg, max_tokens=12)
        assert done.text.strip() and done.prompt_tokens > 10 and 0 < done.completion_tokens <= 12
        assert done.latency_s > 0
        again = client.complete(msg, max_tokens=12)
        assert again.text == done.text  # temperature 0: the same prompt gives the same answer
        pieces = list(client.stream(msg, max_tokens=12))
        assert len(pieces) > 1 and "".join(pieces) == done.text
    assert server.address is None
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"{address}/health", timeout=2)
