"""The optional all-mpnet-base-v2: assembled from its registry parts with a checksum, and named like `base`."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from corpus import mpnet
from corpus.errors import RagtuneError

FILES = {
    "modules.json": b'[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]',
    "model.safetensors": bytes(range(256)) * 40,
    "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
    "desktop.ini": b"[.ShellClassInfo]",
    "1_Pooling/desktop.ini": b"[.ShellClassInfo]",
}


@pytest.fixture()
def fake_parts(tmp_path, monkeypatch) -> list[Path]:
    """A small model zip cut into five pieces, standing in for the five installed registry packages."""
    archive = tmp_path / "whole.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in FILES.items():
            zf.writestr(f"{mpnet.FOLDER}/{name}", data)
        zf.writestr("elsewhere/stray.txt", b"not part of the model")
    blob = archive.read_bytes()
    cut = -(-len(blob) // 5)
    parts = []
    for i in range(5):
        part = tmp_path / "parts" / f"{mpnet.FOLDER}.zip.{i + 1:03d}"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(blob[i * cut : (i + 1) * cut])
        parts.append(part)
    monkeypatch.setattr(mpnet, "part_files", lambda: parts)
    monkeypatch.setattr(mpnet, "ZIP_SHA256", hashlib.sha256(blob).hexdigest())
    return parts


def test_install_unpacks_the_verified_zip_once(fake_parts, tmp_path):
    target = tmp_path / "home" / mpnet.FOLDER
    folder, written = mpnet.install(target)
    assert (folder, written) == (target, True) and mpnet.is_installed(target)
    got = {p.relative_to(target).as_posix(): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert got == {k: v for k, v in FILES.items() if not k.endswith("desktop.ini")}, "model files only"
    assert sorted(p.name for p in target.parent.iterdir()) == [mpnet.FOLDER], "no partial files left beside it"
    stamp = (target / "model.safetensors").stat().st_mtime_ns
    assert mpnet.install(target) == (target, False)
    assert (target / "model.safetensors").stat().st_mtime_ns == stamp, "a second install writes nothing"


def test_a_wrong_checksum_is_refused_and_leaves_nothing(fake_parts, tmp_path, monkeypatch):
    monkeypatch.setattr(mpnet, "ZIP_SHA256", "0" * 64)
    target = tmp_path / "home" / mpnet.FOLDER
    with pytest.raises(RagtuneError, match="sha256"):
        mpnet.install(target)
    assert list(target.parent.iterdir()) == []


def test_a_folder_it_did_not_write_is_left_alone(fake_parts, tmp_path):
    target = tmp_path / "home" / mpnet.FOLDER
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("mine")
    with pytest.raises(RagtuneError, match="holds no complete model"):
        mpnet.install(target)
    assert (target / "notes.txt").read_text() == "mine"


def test_a_missing_install_names_the_make_target_in_every_step(tmp_path, monkeypatch, tiny_dataset, capsys):
    from corpus.cli import EXIT_USER_ERROR, run_cli
    from corpus.models import load_embedder, resolve_model_path
    from ragtune.cli import entry

    monkeypatch.setattr(mpnet, "install_dir", lambda: tmp_path / "absent" / mpnet.FOLDER)
    for spec in ("mpnet", "all-mpnet-base-v2"):
        with pytest.raises(RagtuneError, match="make install-mpnet"):
            resolve_model_path(spec)
    with pytest.raises(RagtuneError, match="make install-mpnet"):
        load_embedder("mpnet")  # what `--embedder mpnet` loads in step 2
    argv = ["--data", str(tiny_dataset), "--arms", "base", "mpnet", "--out", str(tmp_path / "reports")]
    assert run_cli(entry("eval"), argv) == EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert "make install-mpnet" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "reports").exists()


def test_the_pinned_size_matches_the_installed_parts():
    try:
        parts = mpnet.part_files()
    except RagtuneError:
        pytest.skip("the mpnet parts are not installed (make install-mpnet)")
    assert sum(p.stat().st_size for p in parts) == mpnet.ZIP_BYTES


@pytest.mark.slow
def test_the_installed_model_is_the_mpnet_arm():
    if not mpnet.is_installed():
        pytest.skip("mpnet is not installed (make install-mpnet)")
    from harness.arms import parse_arms

    arms = parse_arms(["base", "mpnet"])
    assert [(a.name, a.model) for a in arms] == [("base", "base"), ("mpnet", "mpnet")]
    from corpus.models import load_embedder

    model = load_embedder("mpnet", device="cpu")
    assert model.path == mpnet.install_dir() and model.dim == 768
    from train.seq_length import supported_length

    assert (model.max_seq_length, supported_length(model.model)) == (384, 512), "positions start after padding"
    a, b = model.encode(["a nurse cares for patients", "registered nurse"], "document")
    assert float(a @ b) > 0.5
