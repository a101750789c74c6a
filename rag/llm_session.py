"""Opening the LLM a stage talks to: an explicit OpenAI-compatible endpoint, or ragtune's own local server,
behind the answer cache, with the description that goes into the stage's card.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass

from corpus.console import console
from corpus.options import check_options, option
from corpus.progress import working
from rag.answer_cache import AnswerCache
from rag.cached_llm import CachedLLM
from rag.llm_client import EndpointConfig, LLMClient, endpoint_from_args

# what a run card says of an endpoint ragtune does not run: its batching and kernels are out of our hands
REMOTE_DETERMINISM = {
    "promised": False,
    "condition": "a remote endpoint may batch requests together or change its weights: identical prompts can get "
    "different answers; the answer cache keeps each run's first answer",
}


@dataclass
class EndpointOptions:
    """LLM endpoint (default: ragtune's local server): the options of every step that talks to an LLM (0a, 4, 5)."""

    llm_base_url: str | None = option(
        None,
        help="OpenAI-compatible base URL, e.g. http://host:8000/v1 (default: $OPENAI_BASE_URL, else the local server)",
    )
    llm_model: str | None = option(None, help="model name at that endpoint (required with an external endpoint)")
    llm_api_key_env: str = option("OPENAI_API_KEY", help="environment variable holding the API key")
    timeout: float = option(600.0, help="seconds per request", min=0.001)
    retries: int = option(3, help="retries on 429/5xx/connection errors", min=0)
    local_model: str = option(
        "qwen2.5-coder-1.5b", help="local GGUF: qwen2.5-coder-1.5b, smollm2 (tiny, for tests) or a .gguf path"
    )
    threads: int | None = option(
        None,
        help="local server CPU threads (default: every core on a machine with ≤ 2 cores, else cores - 1; "
        "use 1 while another job holds a core)",
        min=1,
    )
    ctx: int = option(4096, help="local server context tokens per request", min=1)

    def __post_init__(self):
        check_options(self)

    def endpoint(self) -> EndpointConfig | None:
        """The explicit endpoint (flags or $OPENAI_BASE_URL); None means: serve the local model."""
        return endpoint_from_args(
            self.llm_base_url, self.llm_model, self.llm_api_key_env, timeout_s=self.timeout, max_retries=self.retries
        )

    def local(self, slots: int, deterministic: bool = False) -> LocalOptions:
        return LocalOptions(self.local_model, self.threads, self.ctx, slots=slots, deterministic=deterministic)


@dataclass(frozen=True)
class LocalOptions:
    model: str | None = None  # resolve_local_model spec: default Qwen, 'smollm2' or a .gguf path
    threads: int | None = None  # None: rag.local_server.default_threads()
    ctx_per_slot: int = 4096
    slots: int = 1  # requests decoded together; match the stage's worker count
    # one request decoded at a time whatever `slots` says, so answers are byte-identical across reruns, worker
    # counts and restarts (rag.local_server.ServerConfig.deterministic); workers then queue at the server
    deterministic: bool = False

    def server_config(self, threads: int):
        from rag.local_server import ServerConfig

        return ServerConfig(threads, self.ctx_per_slot, 1 if self.deterministic else self.slots)


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
        card = {**endpoint.describe(), "determinism": REMOTE_DETERMINISM}
        return client, card, f"{endpoint.base_url}|{endpoint.model}"
    from rag.local_model import resolve_local_model
    from rag.local_server import default_threads

    with working("preparing the local LLM"):
        model = resolve_local_model(local.model)
    threads = local.threads or default_threads()
    server_cfg = local.server_config(threads)
    client = LazyLocalClient(stack, model, server_cfg, timeout_s, max_retries)
    if not lazy:
        client = client._get()
    described = EndpointConfig(
        "local (127.0.0.1, free port)", model.name, api_key_env="", timeout_s=timeout_s, max_retries=max_retries
    ).describe()
    card = {
        **described,
        "gguf": str(model.path),
        "sha256": model.sha256,
        "threads": threads,
        "slots": server_cfg.slots,
        "determinism": server_cfg.determinism(),
    }
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
