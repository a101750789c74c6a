#!/usr/bin/env python
"""Step 2b: train a cross-encoder reranker on the triplets (`ragtune train-reranker`)."""

from corpus.cli import exit_with
from ragtune.cli import entry

if __name__ == "__main__":
    exit_with(entry("train-reranker", prog="2b_train_reranker.py"))
