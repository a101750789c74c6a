"""The openai-based client against a stub server: retries, timeouts, errors that name the URL, never the key."""

from __future__ import annotations

import pytest

from rag.llm_client import EndpointConfig, EndpointError, LLMClient, endpoint_from_args
from tests.rag.conftest import LONG_ANSWER, closed_port_url

MSG = [{"role": "user", "content": "hello"}]


def client(url, **kw):
    return LLMClient(EndpointConfig(url, "stub", **kw))


def test_429_then_success_is_retried(stub_llm):
    stub_llm.script = ["429", "500"]
    done = client(stub_llm.base_url, max_retries=2).complete(MSG, 16)
    assert done.text == LONG_ANSWER
    assert len(stub_llm.chat_requests) == 3
    assert done.prompt_tokens > 0 and done.completion_tokens == len(LONG_ANSWER.split())


def test_429_beyond_retries_is_one_endpoint_error(stub_llm):
    stub_llm.script = ["429", "429"]
    with pytest.raises(EndpointError, match=r"HTTP 429.*after 1 retries") as exc:
        client(stub_llm.base_url, max_retries=1).complete(MSG, 16)
    assert stub_llm.base_url in str(exc.value)


def test_timeout_names_url_and_never_the_key(stub_llm, monkeypatch):
    monkeypatch.setenv("RAGTUNE_TEST_KEY", "sk-very-secret-123")
    stub_llm.script = ["sleep"]
    with pytest.raises(EndpointError, match="timed out after 0.5 s") as exc:
        client(stub_llm.base_url, api_key_env="RAGTUNE_TEST_KEY", timeout_s=0.5, max_retries=0).complete(MSG, 16)
    assert stub_llm.base_url in str(exc.value)
    assert "sk-very-secret" not in str(exc.value)
    assert stub_llm.auth_headers == ["Bearer sk-very-secret-123"]  # the key did reach the endpoint


def test_unreachable_endpoint_fails_check():
    url = closed_port_url()
    with pytest.raises(EndpointError, match="connection failed") as exc:
        client(url, max_retries=0).check()
    assert url in str(exc.value)


def test_stream_yields_pieces(stub_llm):
    pieces = list(client(stub_llm.base_url).stream(MSG, 16))
    assert len(pieces) > 5
    assert "".join(pieces).strip() == LONG_ANSWER


def test_endpoint_from_env_and_flags(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert endpoint_from_args(None, None) is None  # → local server
    monkeypatch.setenv("OPENAI_BASE_URL", "http://example.invalid/v1/")
    ep = endpoint_from_args(None, "m")
    assert ep.base_url == "http://example.invalid/v1" and ep.model == "m"
    with pytest.raises(Exception, match="--llm-model is required"):
        endpoint_from_args(None, None)


def test_a_prompt_longer_than_the_context_says_what_to_change(stub_llm):
    from rag.llm_client import PromptTooLongError

    stub_llm.context_words = 3
    with pytest.raises(PromptTooLongError, match=r"HTTP 400: .*request \(4 tokens\) exceeds.*--top-k.*--ctx") as exc:
        client(stub_llm.base_url, max_retries=2).complete([{"role": "user", "content": "one two three four"}], 16)
    assert not exc.value.resumable
    assert len(stub_llm.chat_requests) == 1  # a 400 is not retried: it would be refused the same way
    assert client(stub_llm.base_url).complete(MSG, 16).text == LONG_ANSWER  # a prompt that fits is answered
