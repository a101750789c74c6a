#!/usr/bin/env python
"""Step 3: retrieval metrics, base vs fine-tuned (`ragtune eval`)."""

from corpus.cli import exit_with
from ragtune.cli import entry

if __name__ == "__main__":
    exit_with(entry("eval", prog="3_eval_retrieval.py"))
