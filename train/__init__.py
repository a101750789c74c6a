"""Fine-tuning on top of corpus' formats: training data, the trainer, its card."""

import os

import corpus  # noqa: F401  (switches off every call home before models load)

# rich draws ragtune's progress; tqdm bars inside the trainer and model-card code would interleave with it
os.environ.setdefault("TQDM_DISABLE", "1")
