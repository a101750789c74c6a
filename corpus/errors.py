"""The one exception type for problems a user can fix; scripts print it as one line and exit 2."""

from __future__ import annotations

from pathlib import Path


class RagtuneError(Exception):
    """An input, argument or environment problem the user can act on (never a bug)."""


class DataError(RagtuneError):
    """A problem inside a data file, located by file, line and field."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None, field: str | None = None):
        self.path = str(path)
        self.line = line
        self.field = field
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        what = problem if field is None else f"field '{field}': {problem}"
        super().__init__(f"{where}: {what}")
