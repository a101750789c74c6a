#!/usr/bin/env python
"""Step 4: RAG answers side by side, base vs fine-tuned retriever (`ragtune rag`)."""

from corpus.cli import exit_with
from ragtune.cli import entry

if __name__ == "__main__":
    exit_with(entry("rag", prog="4_rag_compare.py"))
