"""The `ragtune` command: one subcommand per step, its flags generated from the step's config dataclass (in the
spirit of transformers' HfArgumentParser). Each subcommand parses, builds the config, calls the step's run() and
prints the result's tables; nothing here decides anything a notebook could not."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass

from corpus.cli import ArgumentParser, run_cli
from corpus.errors import RagtuneError
from corpus.options import flag_name

# subcommand -> (module under ragtune.steps, config class, one line for `ragtune --help`), in run order
STEPS: dict[str, tuple[str, str, str]] = {
    "generate-queries": ("generate_queries", "GenerateQueriesConfig", "step 0a: own documents → BEIR dataset"),
    "triplets": ("triplets", "TripletsConfig", "step 0: dataset and training triplets with hard negatives"),
    "pool": ("pool", "PoolStepConfig", "step 1: the candidate pool for evaluation"),
    "train": ("train", "TrainStepConfig", "step 2: fine-tune the embedder"),
    "train-reranker": ("train_reranker", "TrainRerankerConfig", "step 2b: train a cross-encoder reranker"),
    "eval": ("eval", "EvalConfig", "step 3: retrieval metrics, base vs fine-tuned"),
    "rag": ("rag", "RagConfig", "step 4: RAG answers side by side"),
    "chat": ("chat", "ChatStepConfig", "step 5: the chatbot page"),
    "run": ("run", "PipelineConfig", "everything from --docs or --data to the report page, planned to a --budget"),
}


def step_module(name: str) -> types.ModuleType:
    return importlib.import_module(f"ragtune.steps.{STEPS[name][0]}")


def _unwrap_optional(tp):
    """X | None -> (X, True); anything else -> (tp, False)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return tp, False


def _list_item(text: str, item_type) -> list:
    # lists take space- or comma-separated values: --k 1 3 10 and --k 1,3,10 mean the same
    return [item_type(part) for part in text.split(",") if part.strip()]


def _default_text(f: dataclasses.Field) -> str:
    if f.default is not MISSING:
        value = f.default
    elif f.default_factory is not MISSING:
        value = f.default_factory()
    else:
        return ""
    if value in (None, "", [], False):
        return ""
    shown = " ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f" (default: {shown})"


def _add_field(group, f: dataclasses.Field, tp) -> None:
    flag, meta = flag_name(f), f.metadata
    help_text = meta.get("help", "")
    if meta.get("choices"):
        help_text += f" [{', '.join(map(str, meta['choices']))}]"
    tp, optional = _unwrap_optional(tp)
    dest = f.name
    if tp is bool:
        if f.default is True:
            # on by default: --x states it explicitly (as in a documented command line), --no-x turns it off
            group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, help=help_text)
        else:
            group.add_argument(flag, dest=dest, action="store_true", help=help_text)
        return
    help_text = (help_text + _default_text(f)).replace("%", "%%")
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)

        def convert(text: str, item=item) -> list:
            return _list_item(text, item)

        convert.__name__ = item.__name__  # argparse names the type in "invalid int value: 'x'"
        group.add_argument(flag, dest=dest, nargs="+", type=convert, metavar=item.__name__.upper(), help=help_text)
        return
    group.add_argument(flag, dest=dest, type=tp, help=help_text, metavar=f.name.upper())


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, group=None) -> None:
    """One flag per field; a nested config dataclass is flattened, its fields under their own names."""
    hints = typing.get_type_hints(cls)
    group = group or parser
    for f in fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        if is_dataclass(tp):
            add_config_arguments(
                parser, tp, parser.add_argument_group(tp.__doc__.split("\n")[0].rstrip(".") if tp.__doc__ else None)
            )
            continue
        _add_field(group, f, tp)
    parser.set_defaults(**{f.name: None for f in fields(cls) if f.init and not is_dataclass(hints[f.name])})


def config_from_namespace(cls: type, ns: argparse.Namespace):
    """The config a namespace describes: flags not given keep the dataclass defaults (so help and defaults can
    never disagree), list values given as several comma lists are joined."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in fields(cls):
        if not f.init:
            continue
        if is_dataclass(hints[f.name]):
            kwargs[f.name] = config_from_namespace(hints[f.name], ns)
            continue
        value = getattr(ns, f.name, None)
        if value is None:
            continue
        if isinstance(value, list) and value and isinstance(value[0], list):
            value = [v for part in value for v in part]
        kwargs[f.name] = value
    return cls(**kwargs)


def build_parser(prog: str = "ragtune") -> ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description="ragtune: does fine-tuning my embedding model make my RAG system better? One subcommand per step.",
    )
    sub = parser.add_subparsers(dest="step", metavar="STEP", required=True, parser_class=ArgumentParser)
    for name, (_, cls_name, summary) in STEPS.items():
        module = step_module(name)
        p = sub.add_parser(name, help=summary, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
        add_config_arguments(p, getattr(module, cls_name))
    return parser


def step_parser(name: str, prog: str) -> ArgumentParser:
    """The parser of one step alone (the numbered scripts: errors and --help name the script)."""
    module = step_module(name)
    parser = ArgumentParser(prog=prog, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_arguments(parser, getattr(module, STEPS[name][1]))
    return parser


def run_step(name: str, argv: list[str], prog: str | None = None):
    """Parse a step's flags, run it, print its tables; returns the step's typed result."""
    parser = step_parser(name, prog or f"ragtune {name}")
    ns = parser.parse_args(argv)
    module = step_module(name)
    try:
        config = config_from_namespace(getattr(module, STEPS[name][1]), ns)
    except RagtuneError as exc:
        # a bad value reads like a bad flag (one line naming the command), and stays a RagtuneError for run_cli
        raise RagtuneError(f"{parser.prog}: {exc} (see --help)") from None
    result = module.run(config)
    module.show(result)
    return result


def entry(name: str, prog: str | None = None) -> Callable[[list[str] | None], object]:
    """main(argv) for one step, for corpus.cli.run_cli / exit_with (the numbered scripts and tests)."""
    return lambda argv=None: run_step(name, list(sys.argv[1:] if argv is None else argv), prog)


def _main(argv: list[str] | None = None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in STEPS:
        build_parser().parse_args(argv)  # --help lists the steps; an unknown step is one line, exit 2
        return None
    return run_step(argv[0], argv[1:])


def main(argv: list[str] | None = None) -> None:
    sys.exit(run_cli(_main, argv))
