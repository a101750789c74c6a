#!/usr/bin/env python
"""Step 0a (own documents only): a BEIR dataset with LLM-written queries (`ragtune generate-queries`)."""

from corpus.cli import exit_with
from ragtune.cli import entry

if __name__ == "__main__":
    exit_with(entry("generate-queries", prog="0a_generate_queries.py"))
