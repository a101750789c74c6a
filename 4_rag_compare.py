#!/usr/bin/env python
"""Step 4: RAG answers from every arm and the closed-book/oracle brackets, with answer-level evidence (`ragtune rag`)."""

from corpus.cli import exit_with
from ragtune.cli import entry

if __name__ == "__main__":
    exit_with(entry("rag", prog="4_rag_compare.py"))
