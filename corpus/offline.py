"""Nothing ragtune runs may contact a model hub, an analytics host or a tracing service.

Set at a program's entry (the `ragtune` command and the numbered scripts through corpus.cli.run_cli, the test
suite in its conftest), before a library that reads these at import time is loaded. Importing a ragtune module
never sets them: a notebook that imports harness.metrics keeps its own hub access and progress bars.
"""

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
# defaults only: tqdm bars inside the trainer and model-card code would interleave with rich's progress, but a user
# who asks for them (TQDM_DISABLE=0) gets them
QUIET_ENV = {"TQDM_DISABLE": "1"}


def force_offline() -> None:
    # Assigned, not setdefault: a user's HF_HUB_OFFLINE=0 must not turn the network back on.
    os.environ.update(OFFLINE_ENV)
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
