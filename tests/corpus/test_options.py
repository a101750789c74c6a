from __future__ import annotations

from dataclasses import dataclass, fields

import pytest

from corpus.errors import RagtuneError
from corpus.options import check_options, flag_name, option


@dataclass
class Sample:
    batch_size: int = option(32, help="rows per batch", min=1)
    ratio: float = option(0.1, help="a share", min=0.0, max=1.0)
    loss: str = option("mnrl", help="loss", choices=("mnrl", "cached-mnrl"))
    ks: list[int] = option(default_factory=lambda: [1, 10], help="cut-offs", min=1)
    lr: float = option(1e-4, help="learning rate", flag="--lr", min=0.0)

    def __post_init__(self):
        check_options(self)


def test_metadata_keys_and_flag():
    meta = {f.name: f.metadata for f in fields(Sample)}
    assert meta["batch_size"]["help"] == "rows per batch" and meta["batch_size"]["min"] == 1
    assert meta["loss"]["choices"] == ("mnrl", "cached-mnrl")
    assert [flag_name(f) for f in fields(Sample)] == ["--batch-size", "--ratio", "--loss", "--ks", "--lr"]
    assert Sample().ks == [1, 10] and Sample().ks is not Sample().ks


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "--batch-size must be ≥ 1, got 0"),
        ({"ratio": 1.5}, "--ratio must be ≤ 1.0, got 1.5"),
        ({"loss": "x"}, "--loss must be one of: mnrl, cached-mnrl; got 'x'"),
        ({"ks": [5, -3]}, "--ks must be ≥ 1, got -3"),
        ({"lr": float("nan")}, "--lr must be a number, got nan"),
    ],
)
def test_bad_values_name_the_flag(kwargs, message):
    with pytest.raises(RagtuneError) as err:
        Sample(**kwargs)
    assert str(err.value) == message


def test_good_values_pass():
    assert Sample(batch_size=1, ratio=1.0, ks=[3]).batch_size == 1
