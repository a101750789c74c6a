"""One client for every LLM endpoint: the openai package's chat completions (OpenAI, Azure, vLLM, Ollama,
llama.cpp all speak it).

Retries are the openai client's own: exponential backoff with jitter on 408/409/429/5xx, timeouts and
connection errors, honouring Retry-After. What is left after the retries becomes one EndpointError that names
the URL and what failed, never the API key.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from corpus.errors import RagtuneError

# a local server needs no key, but the openai client refuses to start without one
NO_KEY = "not-needed"


class EndpointError(RagtuneError):
    """The LLM endpoint could not be used (unreachable, timed out, refused the request)."""

    resumable = True  # the same request may succeed later (a busy or restarted server): a rerun resumes


class PromptTooLongError(EndpointError):
    """The endpoint refused a prompt longer than the model's context. Asking again gets the same refusal, so the
    message says what to change instead."""

    resumable = False


# how llama.cpp ("exceeds the available context size", exceed_context_size_error), OpenAI
# (context_length_exceeded) and vLLM ("maximum context length") word a prompt that does not fit
_CONTEXT_OVERFLOW = re.compile(r"context (size|length|window)|context_length_exceeded|exceed_context_size", re.I)
TOO_LONG_HINT = (
    "the prompt (question and passages) is longer than the model's context: pass fewer passages (--top-k) or give "
    "the model a longer context (--ctx for the local server; the server's own setting for an external endpoint)"
)


@dataclass(frozen=True)
class EndpointConfig:
    base_url: str
    model: str
    # the key itself is read at connect time and never stored in cards; "" = no key (ragtune's local server)
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 600.0
    max_retries: int = 3

    def describe(self) -> dict:
        return {
            "base_url": self.base_url,
            "model": self.model,
            "api_key_env": self.api_key_env,
            "api_key_set": bool(self.api_key_env and os.environ.get(self.api_key_env)),
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
        }


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float
    finish_reason: str | None = None


class LLMClient:
    def __init__(self, cfg: EndpointConfig):
        # httpx (count_tokens) imported here, in one thread: a first import racing in two worker threads leaves the
        # openai client seeing a half-initialised module (AttributeError on httpx.Response)
        import httpx  # noqa: F401
        from openai import OpenAI

        if not cfg.base_url.startswith(("http://", "https://")):
            raise RagtuneError(f"LLM base URL '{cfg.base_url}' must start with http:// or https://")
        self.cfg = cfg
        self._key = (os.environ.get(cfg.api_key_env) if cfg.api_key_env else None) or NO_KEY
        self._client = OpenAI(
            base_url=cfg.base_url, api_key=self._key, timeout=cfg.timeout_s, max_retries=cfg.max_retries
        )
        self._no_tokenize = False

    def _error(self, exc: Exception) -> EndpointError:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            what = f"timed out after {self.cfg.timeout_s:g} s"
        elif isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            what = f"connection failed ({type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''})"
        elif isinstance(exc, openai.APIStatusError):
            what = f"HTTP {exc.status_code}: {_first_line(exc.message)}"
            if exc.status_code in (400, 413) and _CONTEXT_OVERFLOW.search(f"{exc.message} {exc.body}"):
                where = f"LLM endpoint {self.cfg.base_url} (model '{self.cfg.model}')"
                return PromptTooLongError(f"{where}: {what} — {TOO_LONG_HINT}")
        else:
            what = f"{type(exc).__name__}: {_first_line(str(exc))}"
        if self._key != NO_KEY:
            what = what.replace(self._key, "***")
        retried = f" after {self.cfg.max_retries} retries" if self.cfg.max_retries else ""
        return EndpointError(f"LLM endpoint {self.cfg.base_url} (model '{self.cfg.model}'): {what}{retried}")

    def check(self) -> None:
        """Fail fast, before any expensive work, when the endpoint cannot be reached at all."""
        import openai

        try:
            self._client.with_options(max_retries=0, timeout=min(self.cfg.timeout_s, 30)).models.list()
        except openai.NotFoundError:
            pass  # some servers do not list models; the first completion will tell
        except openai.OpenAIError as exc:
            raise self._error(exc) from None

    def complete(self, messages: list[dict], max_tokens: int, temperature: float = 0.0, **extra) -> Completion:
        import openai

        t0 = time.perf_counter()
        try:
            r = self._client.chat.completions.create(
                model=self.cfg.model, messages=messages, max_tokens=max_tokens, temperature=temperature, **extra
            )
        except openai.OpenAIError as exc:
            raise self._error(exc) from None
        latency = time.perf_counter() - t0
        if not r.choices:
            raise EndpointError(f"LLM endpoint {self.cfg.base_url}: reply without choices")
        usage = r.usage
        return Completion(
            r.choices[0].message.content or "",
            getattr(usage, "prompt_tokens", None),
            getattr(usage, "completion_tokens", None),
            latency,
            r.choices[0].finish_reason,
        )

    def count_tokens(self, text: str) -> int | None:
        """Tokens of `text` in the endpoint's own tokenizer, from the /tokenize route that llama.cpp and vLLM
        serve beside /v1. None where there is none (OpenAI's API) or it fails: a count is a measurement for
        the report, never a reason to stop a run; after one failure the endpoint is not asked again."""
        if self._no_tokenize:
            return None
        import httpx

        root = self.cfg.base_url.rstrip("/").removesuffix("/v1")
        headers = {"Authorization": f"Bearer {self._key}"} if self._key != NO_KEY else {}
        try:
            # llama.cpp reads "content", vLLM "prompt" (and "model"); each ignores the other's field
            r = httpx.post(
                f"{root}/tokenize",
                json={"content": text, "prompt": text, "model": self.cfg.model},
                headers=headers,
                timeout=min(self.cfg.timeout_s, 30),
            )
            r.raise_for_status()
            body = r.json()
            if isinstance(body.get("count"), int):
                return body["count"]
            if isinstance(body.get("tokens"), list):
                return len(body["tokens"])
        except (httpx.HTTPError, ValueError, AttributeError):
            pass
        self._no_tokenize = True
        return None

    def stream(self, messages: list[dict], max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        """Answer text piece by piece as the model writes it (for the chatbot)."""
        import openai

        try:
            chunks = self._client.chat.completions.create(
                model=self.cfg.model, messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True
            )
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.OpenAIError as exc:
            raise self._error(exc) from None


def _first_line(text: str) -> str:
    text = (text or "").strip()
    return text.splitlines()[0][:300] if text else ""


def endpoint_from_args(
    base_url: str | None, model: str | None, api_key_env: str = "OPENAI_API_KEY", **kw
) -> EndpointConfig | None:
    """An explicit endpoint from flags or OPENAI_BASE_URL; None means: serve the local model."""
    url = base_url or os.environ.get("OPENAI_BASE_URL")
    if not url:
        return None
    if not model:
        raise RagtuneError(f"--llm-model is required with an external endpoint ({url})")
    return EndpointConfig(url.rstrip("/"), model, api_key_env, **kw)
