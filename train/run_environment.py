"""What every training run (embedder, reranker) shares about its surroundings: quiet libraries, the versions its
card records, and the step a checkpoint folder holds."""

from __future__ import annotations

import platform
from pathlib import Path


def quiet_libraries() -> None:
    """transformers and sentence-transformers log at warning level, so progress shows through StepProgress only."""
    import logging

    import transformers

    transformers.logging.set_verbosity_error()
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)


def versions() -> dict:
    import sentence_transformers
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
    }


def step_of(checkpoint: Path) -> int:
    """The optimizer step of a trainer checkpoint folder ('checkpoint-200' -> 200)."""
    return int(Path(checkpoint).name.rsplit("-", 1)[-1])
