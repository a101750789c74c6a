"""Reference answers for own data: an optional ``<dataset>/answers.jsonl``.

One object per line: ``{"query_id": "q1", "answer": "Paris"}``; several acceptable answers are a list,
``{"query_id": "q1", "answer": ["Paris", "the city of Paris"]}``. A query may appear on one line only.
Every problem is a DataError naming the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path

from corpus.errors import DataError
from corpus.jsonl import iter_jsonl, require_str

ANSWERS_FILE = "answers.jsonl"


def answers_path(dataset_dir: Path) -> Path:
    return Path(dataset_dir) / ANSWERS_FILE


def _answer_list(path: Path, lineno: int, value) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise DataError(path, "is an empty list", line=lineno, field="answer")
    out = []
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str):
            raise DataError(
                path, f"expected a string or a list of strings, got {type(v).__name__}", line=lineno, field="answer"
            )
        if not v.strip():
            raise DataError(path, "is empty", line=lineno, field="answer")
        out.append(v)
    return tuple(out)


def read_answers(path: Path, query_ids: set[str] | None = None) -> dict[str, tuple[str, ...]]:
    """query id -> its reference answers. With `query_ids`, an id that is not a query of the dataset is an error
    (a typo would otherwise silently leave that query without a reference)."""
    path = Path(path)
    answers: dict[str, tuple[str, ...]] = {}
    for lineno, obj in iter_jsonl(path):
        qid = require_str(path, lineno, obj, "query_id")
        if "answer" not in obj:
            raise DataError(path, "missing", line=lineno, field="answer")
        if qid in answers:
            raise DataError(
                path,
                f"query '{qid}' already has answers on an earlier line (give several as a list)",
                line=lineno,
                field="query_id",
            )
        if query_ids is not None and qid not in query_ids:
            raise DataError(path, f"no query '{qid}' in the dataset's queries.jsonl", line=lineno, field="query_id")
        answers[qid] = _answer_list(path, lineno, obj["answer"])
    return answers


def load_dataset_answers(dataset_dir: Path, query_ids: set[str] | None = None) -> dict[str, tuple[str, ...]]:
    """The dataset's reference answers, or {} when it has no answers.jsonl (O*NET has none: its answer is the
    relevant document's title)."""
    path = answers_path(dataset_dir)
    return read_answers(path, query_ids) if path.exists() else {}
