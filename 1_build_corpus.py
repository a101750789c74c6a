#!/usr/bin/env python
"""Step 1: the candidate pool for evaluation (`ragtune pool`)."""

from corpus.cli import exit_with
from ragtune.cli import entry

if __name__ == "__main__":
    exit_with(entry("pool", prog="1_build_corpus.py"))
