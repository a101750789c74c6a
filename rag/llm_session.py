"""Opening the LLM a stage talks to: an explicit OpenAI-compatible endpoint, or ragtune's own local server,
behind the answer cache, with the description that goes into the stage's card.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass

from corpus.console import console
from rag.answer_cache import AnswerCache
from rag.cached_llm import CachedLLM
from rag.llm_client import EndpointConfig, LLMClient


def add_endpoint_arguments(parser, *, timeout_s: float = 600.0, retries: int = 3, ctx: int = 4096):
    """The LLM flags of every stage that talks to an LLM (0a, 4, 5), so they read the same everywhere.

    Returns the argument group, for the stage's own LLM flags."""
    g = parser.add_argument_group("LLM endpoint (default: ragtune's local server)")
    g.add_argument(
        "--llm-base-url",
        help="OpenAI-compatible base URL, e.g. http://host:8000/v1 (default: $OPENAI_BASE_URL, else the local server)",
    )
    g.add_argument("--llm-model", help="model name at that endpoint (required with an external endpoint)")
    g.add_argument(
        "--llm-api-key-env",
        default="OPENAI_API_KEY",
        help="environment variable holding the API key (default: OPENAI_API_KEY)",
    )
    g.add_argument("--timeout", type=float, default=timeout_s, help=f"seconds per request (default: {timeout_s:g})")
    g.add_argument(
        "--retries", type=int, default=retries, help=f"retries on 429/5xx/connection errors (default: {retries})"
    )
    g.add_argument(
        "--local-model",
        default="qwen2.5-coder-1.5b",
        help="local GGUF: qwen2.5-coder-1.5b (default), smollm2 (tiny, for tests) or a .gguf path",
    )
    g.add_argument(
        "--threads",
        type=int,
        default=None,
        help="local server CPU threads (default: 1 on a machine with ≤ 2 cores, else cores - 1)",
    )
    g.add_argument("--ctx", type=int, default=ctx, help=f"local server context tokens per request (default: {ctx})")
    return g


def check_endpoint_arguments(parser, args) -> None:
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be positive")
    if args.ctx < 1 or args.retries < 0 or args.timeout <= 0:
        parser.error("--ctx and --timeout must be positive, --retries ≥ 0")


@dataclass(frozen=True)
class LocalOptions:
    model: str | None = None  # resolve_local_model spec: default Qwen, 'smollm2' or a .gguf path
    threads: int | None = None  # None: rag.local_server.default_threads()
    ctx_per_slot: int = 4096
    slots: int = 1  # requests decoded together; match the stage's worker count


class LazyLocalClient:
    """The client of ragtune's own server, which starts the server on the first request: a rerun whose
    replies are all cached never loads the model. Thread-safe; the server lives as long as the stack."""

    def __init__(self, stack: ExitStack, model, server_cfg, timeout_s: float, max_retries: int):
        self._stack, self._model, self._server_cfg = stack, model, server_cfg
        self._timeout_s, self._max_retries = timeout_s, max_retries
        self._client: LLMClient | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._client is not None

    def _get(self) -> LLMClient:
        with self._lock:
            if self._client is None:
                from rag.local_server import LocalServer

                # a plain line, not a status spinner: a progress bar may be live when the first request comes
                console.print(
                    f"starting the local LLM server ({self._model.name}, {self._server_cfg.threads} thread(s))"
                )
                server = self._stack.enter_context(LocalServer(self._model, self._server_cfg))
                # api_key_env "": a user's OPENAI_API_KEY is never sent to ragtune's own server
                self._client = LLMClient(
                    EndpointConfig(
                        server.base_url,
                        self._model.name,
                        api_key_env="",
                        timeout_s=self._timeout_s,
                        max_retries=self._max_retries,
                    )
                )
            return self._client

    @property
    def cfg(self) -> EndpointConfig:
        return self._get().cfg

    def check(self) -> None:
        self._get().check()

    def complete(self, *args, **kwargs):
        return self._get().complete(*args, **kwargs)

    def stream(self, *args, **kwargs):
        return self._get().stream(*args, **kwargs)

    def count_tokens(self, text: str):
        return self._get().count_tokens(text)


def open_client(
    stack: ExitStack,
    endpoint: EndpointConfig | None,
    local: LocalOptions,
    timeout_s: float = 600.0,
    max_retries: int = 3,
    lazy: bool = False,
) -> tuple[LLMClient | LazyLocalClient, dict, str]:
    """(client, card entry, identity of the weights for cache keys).

    An endpoint is checked at once, so an unreachable one fails before any slow work. The local server lives as
    long as `stack`; with `lazy` it starts on the first request that the cache cannot answer."""
    if endpoint is not None:
        client = LLMClient(endpoint)
        client.check()
        return client, endpoint.describe(), f"{endpoint.base_url}|{endpoint.model}"
    from rag.local_model import resolve_local_model
    from rag.local_server import ServerConfig, default_threads

    with console.status("preparing the local LLM"):
        model = resolve_local_model(local.model)
    threads = local.threads or default_threads()
    client = LazyLocalClient(
        stack, model, ServerConfig(threads, local.ctx_per_slot, local.slots), timeout_s, max_retries
    )
    if not lazy:
        client = client._get()
    described = EndpointConfig(
        "local (127.0.0.1, free port)", model.name, api_key_env="", timeout_s=timeout_s, max_retries=max_retries
    ).describe()
    card = {**described, "gguf": str(model.path), "sha256": model.sha256, "threads": threads, "slots": local.slots}
    # the key names the weights, not the port: a rerun on a fresh port still finds its cached replies
    return client, card, f"local:{model.name}:{model.sha256[:16]}"


def open_llm(
    stack: ExitStack,
    endpoint: EndpointConfig | None,
    local: LocalOptions,
    cache: AnswerCache,
    timeout_s: float = 600.0,
    max_retries: int = 3,
) -> tuple[CachedLLM, dict]:
    """(cached LLM, card entry): open_client behind the answer cache; a local server starts only when a reply
    is not in the cache."""
    client, card, model_key = open_client(stack, endpoint, local, timeout_s, max_retries, lazy=True)
    return CachedLLM(client, cache, model_key), card
