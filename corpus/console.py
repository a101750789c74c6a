"""One rich console for every stage (progress goes through corpus.progress)."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)
