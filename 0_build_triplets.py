#!/usr/bin/env python
"""Step 0: prepare the dataset (O*NET by default) and write training triplets (`ragtune triplets`)."""

from corpus.cli import exit_with
from ragtune.cli import entry

if __name__ == "__main__":
    exit_with(entry("triplets", prog="0_build_triplets.py"))
