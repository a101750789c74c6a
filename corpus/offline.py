"""Nothing in ragtune may contact a model hub, an analytics host or a tracing service."""

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    # tokenizers forks threads that deadlock with our worker threads; parallelism comes from torch instead.
    "TOKENIZERS_PARALLELISM": "false",
    # rich draws ragtune's progress; the libraries' own tqdm bars would interleave with it
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}


def force_offline() -> None:
    # Assigned, not setdefault: a user's HF_HUB_OFFLINE=0 must not turn the network back on.
    os.environ.update(OFFLINE_ENV)
