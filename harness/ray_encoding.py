"""Encoding documents on a Ray cluster: Ray Data ``map_batches`` over a pool of actors, one model per actor.

It computes exactly what harness.encoding.encode computes (the model's stored prompt, its max_seq_length,
unit-length rows in input order) and reads and writes the same embedding-cache entry, so a corpus encoded on a
cluster is a cache hit for a local run and the reverse. GPUs are used when the cluster has them (one per actor).

On one 2-core machine Ray is slower than a plain encode (measured ~2×, see docs/store.md): it pays on clusters.
Running Ray offline takes care, all measured on these machines: usage stats off, no Windows/OSX cluster probe,
``~/ray_bootstrap_config.yaml`` holding ``{}`` (else Ray probes DNS and cloud metadata), ``address="local"`` for a
local run, and fractional CPUs per actor (two 1-CPU actors on 2 cores deadlocked).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.errors import RagtuneError
from corpus.models import Embedder
from corpus.offline import OFFLINE_ENV
from corpus.options import option
from harness.embedding_cache import EmbeddingCache, text_digests
from harness.encoding import KINDS, cache_key, row_group

RAY_OFFLINE_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


@dataclass(frozen=True)
class RayConfig:
    address: str = option(
        "local", help="Ray cluster: 'local' starts one for this run; otherwise an address such as ray://head:10001"
    )
    actors: int = option(0, help="encoding actors, one model each; 0 = one per GPU, or 2 without GPUs", min=0, max=4096)
    cpus_per_actor: float = option(
        0.5, help="CPUs reserved per actor (fractional: two 1-CPU actors on 2 cores deadlocked)", min=0.0, max=64.0
    )
    batch_size: int = option(64, help="texts per model forward pass", min=1, max=4096)
    rows_per_block: int = option(1024, help="texts per Ray Data block and per actor call", min=1, max=1_000_000)


class _TextEncoder:
    """A Ray actor: loads the model once, then encodes the batches sent to it."""

    def __init__(self, model_path: str, prompt: str, max_seq_length: int | None, batch_size: int):
        import torch
        from sentence_transformers import SentenceTransformer

        device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model = SentenceTransformer(model_path, device=device, local_files_only=True)
        if max_seq_length is not None:
            self.model.max_seq_length = max_seq_length
        self.prompt = prompt or None
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        emb = self.model.encode(
            list(batch["text"]),
            prompt=self.prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return {"row": batch["row"], "emb": emb.astype(np.float32)}


def encode_with_ray(
    model: Embedder,
    texts: list[str],
    kind: str = "document",
    cache: EmbeddingCache | None = None,
    config: RayConfig = RayConfig(),
) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text, in input order — the same array and cache entry as
    harness.encoding.encode, computed on Ray actors."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    key = cache_key(model, texts, kind) if cache is not None else None
    if key is not None:
        hit = cache.get(key, len(texts))
        if hit is not None:
            return hit
    out = np.zeros((len(texts), model.dim), dtype=np.float32)
    if texts:
        with RaySession(config.address):
            _encode_on_ray(out, texts, str(model.path), model.prompt(kind), model.max_seq_length, config)
    if key is not None:
        cache.put(key, out, row_group(model, kind), text_digests(texts))
    return out


def _encode_on_ray(
    out: np.ndarray, texts: list[str], model_path: str, prompt: str, max_seq_length: int | None, config: RayConfig
) -> None:
    import pandas as pd
    import ray

    gpus = int(ray.cluster_resources().get("GPU", 0))
    actors = config.actors or (gpus if gpus else 2)
    step = config.rows_per_block
    frames = [
        pd.DataFrame({"row": np.arange(s, min(s + step, len(texts))), "text": texts[s : s + step]})
        for s in range(0, len(texts), step)
    ]
    ds = ray.data.from_pandas(frames).map_batches(
        _TextEncoder,
        batch_size=step,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=config.cpus_per_actor,
        num_gpus=1 if gpus else 0,
        fn_constructor_kwargs={
            "model_path": model_path,
            "prompt": prompt,
            "max_seq_length": max_seq_length,
            "batch_size": config.batch_size,
        },
    )
    seen = 0
    # blocks come back in any order: each carries its row numbers, so input order is restored by index
    for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
        out[batch["row"]] = batch["emb"]
        seen += len(batch["row"])
    if seen != len(texts):
        raise RagtuneError(f"Ray returned {seen} embeddings for {len(texts)} texts")


class RaySession:
    """Ray connected for a ``with`` block: started here (and shut down after) unless already initialised."""

    def __init__(self, address: str = "local"):
        self.address = address
        self.started_here = False

    def __enter__(self) -> RaySession:
        prepare_ray_environment()
        import ray

        if ray.is_initialized():
            return self
        import corpus
        import harness

        # workers import ragtune's packages from the driver's copy, so a remote cluster needs no install of it
        runtime_env = {"env_vars": {**OFFLINE_ENV, **RAY_OFFLINE_ENV}, "py_modules": [corpus, harness]}
        try:
            ray.init(
                address=self.address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level="WARNING",
                runtime_env=runtime_env,
                configure_logging=True,
            )
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise RagtuneError(f"cannot start or reach Ray at '{self.address}': {str(exc).splitlines()[0]}") from None
        self.started_here = True
        import ray.data

        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # ragtune draws its own progress
        ctx.print_on_execution_start = False
        return self

    def __exit__(self, *exc) -> None:
        if self.started_here:
            import ray

            ray.shutdown()
            self.started_here = False


def prepare_ray_environment() -> None:
    """The settings without which Ray calls home from an offline machine (set before ``ray.init``)."""
    os.environ.update(RAY_OFFLINE_ENV)
    bootstrap = Path.home() / "ray_bootstrap_config.yaml"
    if not bootstrap.exists():
        try:
            bootstrap.write_text("{}\n")
        except OSError:
            pass  # a read-only home: Ray then only loses a probe's time, not correctness
