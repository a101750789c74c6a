"""One rich console for every stage (progress goes through corpus.progress)."""

from __future__ import annotations

import os

from rich.console import Console

# Piped into a log file, rich would fold every table to 80 columns, and step 3's table of several arms then cuts
# each figure to its first digit; logs are read in editors, so they get a wide page (COLUMNS, when set, still wins).
LOG_WIDTH = 240

console = Console()
if not console.is_terminal and "COLUMNS" not in os.environ:
    console = Console(width=LOG_WIDTH)
err_console = Console(stderr=True)
