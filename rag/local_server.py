"""ragtune's own OpenAI-compatible server: llama.cpp (xllamacpp) in-process on 127.0.0.1, on a free port.

Used as a context manager so the server stops on success, errors and Ctrl-C alike; xllamacpp stops the
server when its Server object is released.
"""

from __future__ import annotations

import gc
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from corpus.errors import RagtuneError
from rag.local_model import LocalModel


def default_threads() -> int:
    # measured on idle 2 cores (the demo's 30 answers): 2 threads 4.2 min, 1 thread 7 min. llama.cpp spins every
    # thread it has, so under another job's load a second thread collapses generation (--threads 1 then); with
    # more cores one is left for the Python side
    cores = os.cpu_count() or 1
    return cores if cores <= 2 else cores - 1


@dataclass(frozen=True)
class ServerConfig:
    threads: int = 1  # callers pass default_threads() or the user's --threads
    ctx_per_slot: int = 4096  # prompt (template + top-k passages) plus the answer
    slots: int = 1  # parallel requests the server decodes together (= --workers)
    # llama.cpp reuses the longest matching prefix of an earlier prompt (in the slot and in its RAM prompt cache);
    # the reused part was computed in other batches, so a greedy answer could depend on the request before it
    # (SmolLM2: 10 of 40 answers changed after a prompt sharing their question and first passages, as step 4's
    # arms do; none with reuse off). Off, every reply depends on its own request alone, at the price of
    # recomputing shared prefixes.
    reuse_prompts: bool = False
    startup_timeout_s: float = 300.0
    # the sampler's seed for requests that bring none (llama.cpp's default draws a random one per start): greedy
    # answers do not use it, sampled ones become repeatable
    seed: int = 0

    @property
    def deterministic(self) -> bool:
        """Byte-identical replies to identical requests, across reruns, worker counts and restarts: one sequence
        decoded at a time (llama.cpp batches the sequences of parallel slots together, and a batch's make-up changes
        the floating-point sums: SmolLM2 changed 1 of 16 greedy answers with 2 slots and 2 workers) and no prompt
        reuse (see reuse_prompts)."""
        return self.slots == 1 and not self.reuse_prompts

    def determinism(self) -> dict:
        """The settings identical answers rest on, for a run card."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            runtime = f"xllamacpp {version('xllamacpp')}"
        except PackageNotFoundError:
            runtime = "xllamacpp (not installed)"
        return {
            "promised": self.deterministic,
            "runtime": runtime,
            "seed": self.seed,
            "threads": self.threads,
            "slots": self.slots,
            "reuse_prompts": self.reuse_prompts,
            "condition": "the same GGUF file (sha256), runtime version and thread count; greedy or seeded sampling"
            if self.deterministic
            else "several slots decode together or prompts are reused: answers may differ between runs",
        }


class LocalServer:
    def __init__(self, model: LocalModel, cfg: ServerConfig = ServerConfig()):
        self.model = model
        self.cfg = cfg
        self._server = None
        self.address: str | None = None

    @property
    def base_url(self) -> str:
        if self.address is None:
            raise RuntimeError("server not started")
        return f"{self.address}/v1"

    def start(self) -> LocalServer:
        try:
            import xllamacpp
        except ImportError:
            raise RagtuneError("the local LLM runtime is missing: pip install xllamacpp==2026.10.11549") from None
        p = xllamacpp.CommonParams()
        p.model.path = str(self.model.path)
        p.hostnames = ["127.0.0.1"]  # never reachable from outside this machine
        p.port = 0  # the OS picks a free port: no race between choosing and binding
        p.model_alias = {self.model.name}
        p.verbosity = -1  # llama.cpp's per-request logs would drown the progress bar
        p.cpuparams.n_threads = self.cfg.threads
        p.cpuparams_batch.n_threads = self.cfg.threads
        p.sampling.seed = self.cfg.seed
        p.n_parallel = self.cfg.slots
        p.n_ctx = self.cfg.ctx_per_slot * self.cfg.slots
        if not self.cfg.reuse_prompts:
            p.cache_prompt = False
            p.cache_ram_mib = 0
        try:
            self._server = xllamacpp.Server(p)
        except RuntimeError as exc:
            raise RagtuneError(f"local LLM server failed to start with {self.model.path}: {exc}") from None
        self.address = self._server.listening_address.rstrip("/")
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        # /health answers 503 while the model loads
        deadline = time.monotonic() + self.cfg.startup_timeout_s
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.address}/health", timeout=5) as r:
                    if r.status == 200:
                        return
                    last = f"HTTP {r.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(getattr(exc, "reason", exc))
            time.sleep(0.2)
        self.stop()
        raise RagtuneError(
            f"local LLM server at {self.address} not healthy after {self.cfg.startup_timeout_s:.0f} s ({last})"
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server = None
            gc.collect()  # the release is what stops it; do not wait for a later collection
        self.address = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
