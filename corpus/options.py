"""Settings declared once: a dataclass field carries its default, help text and valid range; the CLI and the checks
are generated from that metadata (in the spirit of transformers' HfArgumentParser)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import MISSING, Field, fields, is_dataclass
from typing import Any

from corpus.errors import RagtuneError

METADATA_KEYS = ("help", "min", "max", "choices", "flag")


def option(
    default: Any = MISSING,
    *,
    help: str,
    min: float | None = None,
    max: float | None = None,
    choices: tuple | None = None,
    flag: str | None = None,
    default_factory: Any = MISSING,
) -> Field:
    """A dataclass field whose metadata holds help, min, max, choices and flag (the CLI spelling when it is not
    `--field-name`); min and max are inclusive."""
    metadata = {"help": help, "min": min, "max": max, "choices": tuple(choices) if choices else None, "flag": flag}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def flag_name(f: Field) -> str:
    """The command-line spelling of a field: its `flag` metadata, else --the-field-name."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _check_value(name: str, value: Any, meta: dict) -> None:
    choices = meta.get("choices")
    if choices and value is not None and value not in choices:
        raise RagtuneError(f"{name} must be one of: {', '.join(map(str, choices))}; got '{value}'")
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and math.isnan(value):
        raise RagtuneError(f"{name} must be a number, got nan")
    low, high = meta.get("min"), meta.get("max")
    if low is not None and value < low:
        raise RagtuneError(f"{name} must be ≥ {low}, got {value}")
    if high is not None and value > high:
        raise RagtuneError(f"{name} must be ≤ {high}, got {value}")


def check_options(cfg: Any) -> None:
    """Validate every field of a config dataclass against its min/max/choices (lists element by element); a wrong
    value raises RagtuneError naming the flag, e.g. "--batch-size must be ≥ 1, got 0"."""
    if not is_dataclass(cfg):
        raise TypeError(f"check_options needs a dataclass instance, got {type(cfg).__name__}")
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if is_dataclass(value) and not isinstance(value, type):
            continue  # nested configs check themselves in their own __post_init__
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            _check_value(flag_name(f), item, f.metadata)
