"""Arm specs: what the compared retrievers of steps 3, 4 and 5 are, parsed once.

    base                  the shipped MiniLM, named 'base'
    finetuned             the model step 2 fine-tuned on the step's dataset (runs/<dataset>/final), named 'finetuned'
    mpnet                 the optional all-mpnet-base-v2 (`make install-mpnet`), named 'mpnet'
    NAME=PATH             a sentence-transformers folder (or 'base') under NAME
    PATH                  a folder, named after its last path part
    bm25                  the lexical BM25 arm
    NAME=a+b              arms a and b fused by reciprocal rank (k = --rrf-k, 60 by default)
    NAME=a+b:convex       arms a and b fused by a convex combination of min-max normalised scores, a's weight
                          chosen on the dev split (never on test); ':rrf' spells the default out
    NAME=a>RERANKER       arm a's top --rerank-depth reranked by the cross-encoder folder RERANKER (step 2b)

a and b name arms given earlier in the same list: hybrid parts are dense or bm25 arms (a convex weight is fitted
on their dev runs), a reranked arm may start from any earlier arm.

and the one behaviour when the default fine-tuned model is missing: a note, and the step goes on without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import corpus.paths
from corpus.console import console
from corpus.errors import RagtuneError
from corpus.models import resolve_model_path

DENSE, BM25, HYBRID, RERANK = "dense", "bm25", "hybrid", "rerank"
RRF, CONVEX = "rrf", "convex"
FUSIONS = (RRF, CONVEX)
KINDS = (DENSE, BM25, HYBRID, RERANK)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
BASE = "base"
FINETUNED = "finetuned"
# for help texts; default_arms() reads the path at call time (tests and notebooks may move it)
DEFAULT_ARMS = (f"{BASE}={BASE}", f"{FINETUNED}=runs/finetuned/final")


def default_arms(finetuned: Path | None = None) -> tuple[str, ...]:
    """base and the model step 2 fine-tuned (corpus.paths.finetuned_dir of the step's dataset)."""
    return (f"{BASE}={BASE}", f"{FINETUNED}={finetuned or corpus.paths.DEFAULT_FINETUNED}")


@dataclass(frozen=True)
class ArmSpec:
    name: str
    kind: str  # one of KINDS
    model: str = ""  # dense: 'base' or a model folder
    parts: tuple[str, ...] = ()  # hybrid: fused arm names; rerank: (arm name, reranker folder)
    fusion: str = ""  # hybrid: one of FUSIONS

    @property
    def text(self) -> str:
        """The spec as a user writes it (cards, errors)."""
        if self.kind == BM25:
            return BM25 if self.name == BM25 else f"{self.name}={BM25}"
        if self.kind == DENSE:
            return f"{self.name}={self.model}"
        if self.kind == HYBRID:
            return f"{self.name}={'+'.join(self.parts)}" + ("" if self.fusion == RRF else f":{self.fusion}")
        return f"{self.name}={'>'.join(self.parts)}"


def _composite(name: str, value: str, text: str) -> ArmSpec:
    if ">" in value:
        first, _, reranker = value.partition(">")
        if not first.strip() or not reranker.strip():
            raise RagtuneError(f"--arms {text}: a reranked arm is NAME=ARM>RERANKER_FOLDER")
        return ArmSpec(name, RERANK, parts=(first.strip(), reranker.strip()))
    value, _, fusion = value.partition(":")
    fusion = fusion.strip() or RRF
    if fusion not in FUSIONS:
        raise RagtuneError(f"--arms {text}: fusion must be one of {', '.join(FUSIONS)}, got '{fusion}'")
    parts = tuple(p.strip() for p in value.split("+"))
    if len(parts) != 2 or not all(parts):
        raise RagtuneError(f"--arms {text}: a hybrid arm fuses two arms, NAME=a+b")
    if parts[0] == parts[1]:
        raise RagtuneError(f"--arms {text}: a hybrid arm fuses two different arms")
    return ArmSpec(name, HYBRID, parts=parts, fusion=fusion)


def parse_arm(text: str) -> ArmSpec:
    text = text.strip()
    if text == BM25:
        return ArmSpec(BM25, BM25)
    name, sep, value = text.partition("=")
    if not sep:
        name, value = (BASE, BASE) if text == BASE else (text.rstrip("/").split("/")[-1], text)
    name, value = name.strip(), value.strip()
    if not name or not value:
        raise RagtuneError(f"--arms: '{text}' must be NAME=PATH, base, bm25 or a model folder")
    if not NAME_RE.match(name):
        raise RagtuneError(f"--arms: arm name '{name}' must be letters, digits, '_', '.' or '-'")
    if value == BM25:
        return ArmSpec(name, BM25)
    if "+" in value or ">" in value:
        return _composite(name, value, text)
    return ArmSpec(name, DENSE, value)


def _check_references(arm: ArmSpec, earlier: dict[str, ArmSpec]) -> None:
    """Composite arms name arms given before them; a reranker folder must exist before any model loads."""
    if arm.kind == HYBRID:
        for part in arm.parts:
            if part not in earlier:
                raise RagtuneError(f"--arms {arm.text}: '{part}' is not an arm given before it")
            if earlier[part].kind not in (DENSE, BM25):
                raise RagtuneError(f"--arms {arm.text}: hybrid parts are dense or bm25 arms, '{part}' is not")
    elif arm.kind == RERANK:
        if arm.parts[0] not in earlier:
            raise RagtuneError(f"--arms {arm.text}: '{arm.parts[0]}' is not an arm given before it")
        resolve_model_path(arm.parts[1])


def missing_finetuned_note(path: Path | None = None) -> str:
    path = path or corpus.paths.DEFAULT_FINETUNED
    return f"no fine-tuned model at {path} (run step 2, `ragtune train`): going on without the '{FINETUNED}' arm"


def parse_arms(texts: list[str] | tuple[str, ...] | None, finetuned: Path | None = None) -> list[ArmSpec]:
    """Arms in comparison order (the first is the baseline). Leaving out --arms means DEFAULT_ARMS, where a missing
    default fine-tuned model is a note and the step goes on without it; a model folder named explicitly must exist
    (checked now, before any model loads)."""
    given = texts is not None
    arms = []
    finetuned = finetuned or corpus.paths.DEFAULT_FINETUNED
    for text in texts if given else default_arms(finetuned):
        if text.strip() == FINETUNED:
            text = f"{FINETUNED}={finetuned}"
        arm = parse_arm(text)
        if not given and arm.name == FINETUNED and not finetuned.exists():
            console.print(f"[yellow]note:[/] {missing_finetuned_note(finetuned)}")
            continue
        if arm.kind == DENSE:
            resolve_model_path(arm.model)
        _check_references(arm, {a.name: a for a in arms})
        arms.append(arm)
    names = [a.name for a in arms]
    if len(set(names)) != len(names):
        raise RagtuneError(f"--arms: arm names must be unique, got {', '.join(names)}")
    return arms
