#!/usr/bin/env python
"""Step 5: the chatbot page, base vs fine-tuned retriever side by side (`ragtune chat`)."""

from corpus.cli import exit_with
from ragtune.cli import entry

if __name__ == "__main__":
    exit_with(entry("chat", prog="5_chatbot.py"))
