#!/usr/bin/env python
"""Step 2: fine-tune the embedder on the triplets (`ragtune train`)."""

from corpus.cli import exit_with
from ragtune.cli import entry

if __name__ == "__main__":
    exit_with(entry("train", prog="2_train_embedder.py"))
