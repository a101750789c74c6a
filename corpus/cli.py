"""The script edge: user errors become one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from corpus.console import err_console
from corpus.errors import RagtuneError
from corpus.offline import force_offline

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line too (argparse prints the whole usage block above it)."""

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, f"error: {self.prog}: {message} (see --help)\n")


def run_cli(main: Callable[[list[str] | None], object], argv: list[str] | None = None) -> int:
    """Run a command's main: offline first (before main imports a model library), user errors as one line."""
    force_offline()
    try:
        main(argv)
    except RagtuneError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]: finished work is cached; rerun the same command to resume")
        return EXIT_INTERRUPTED
    return 0


def exit_with(main: Callable[[list[str] | None], object]) -> None:
    sys.exit(run_cli(main))
