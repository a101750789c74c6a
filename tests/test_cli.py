"""ragtune.cli: flags generated from config dataclasses (lists, booleans, optional values, nested configs)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from corpus.cli import ArgumentParser
from corpus.options import check_options, option
from ragtune.cli import STEPS, add_config_arguments, config_from_namespace, step_module


@dataclass
class Inner:
    """inner settings"""

    depth: int = option(5, help="how deep", min=1)
    on: bool = option(True, help="switch")

    def __post_init__(self):
        check_options(self)


@dataclass
class Outer:
    name: str = option("x", help="a name")
    ks: list[int] = option(default_factory=lambda: [1, 10], help="cut-offs", min=1)
    limit: int | None = option(None, help="cap", min=0)
    fast: bool = option(False, help="go fast")
    rate: float = option(0.1, help="learning rate", flag="--lr")
    inner: Inner = field(default_factory=Inner)

    def __post_init__(self):
        check_options(self)


def parse(argv: list[str]) -> Outer:
    parser = ArgumentParser(prog="t")
    add_config_arguments(parser, Outer)
    return config_from_namespace(Outer, parser.parse_args(argv))


def test_defaults_come_from_the_dataclass():
    assert parse([]) == Outer()


def test_every_kind_of_field():
    cfg = parse(["--ks", "3,5", "7", "--limit", "0", "--fast", "--lr", "0.5", "--depth", "9", "--no-on"])
    assert cfg.ks == [3, 5, 7] and cfg.limit == 0 and cfg.fast and cfg.rate == 0.5
    assert cfg.inner == Inner(depth=9, on=False)
    assert parse(["--on"]).inner.on is True  # a default-on switch may be stated explicitly


def test_bad_values(capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(["--ks", "1,x"])
    assert exit_.value.code == 2 and "invalid int value: '1,x'" in capsys.readouterr().err
    with pytest.raises(Exception, match="--depth must be ≥ 1, got 0"):
        parse(["--depth", "0"])


@pytest.mark.parametrize("name", list(STEPS))
def test_every_step_has_config_result_run_and_show(name):
    module = step_module(name)
    config = getattr(module, STEPS[name][1])
    assert callable(module.run) and callable(module.show)
    parser = ArgumentParser(prog=name)
    add_config_arguments(parser, config)  # flags never clash, help texts are all there
    for action in parser._actions:
        assert action.help, (name, action.dest)
