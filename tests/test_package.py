"""ragtune as an installed package: its dependencies match its imports, a missing extra is one line, and a wheel
installed into a fresh venv runs steps 0-3 from an empty folder, writing nothing outside it."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

from corpus.cli import EXTRA_OF_MODULE, run_cli
from corpus.offline import OFFLINE_ENV, QUIET_ENV
from tests.helpers import ROOT

PACKAGES = ("corpus", "harness", "train", "rag", "ragtune")
# tools the test extra carries that no file imports: the linter (make lint) and a pytest plugin (pytest.mark.timeout)
TOOLS = {"ruff", "pytest-timeout"}


def canonical(requirement: str) -> str:
    """'sentence-transformers[train]' / 'pytrec_eval-terrier==0.5.11' -> 'sentence-transformers' / 'pytrec-eval-terrier'."""
    name = re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def third_party_imports(folders: list[Path]) -> dict[str, set[str]]:
    """Top-level module names imported anywhere in the folders' .py files (function level too) -> the files."""
    ours = {*PACKAGES, "tests", "benchmarks"}
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in ours:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@functools.cache
def installed_distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_of(module: str) -> str:
    dists = installed_distributions().get(module)
    assert dists, f"no installed distribution provides the module '{module}'"
    return canonical(dists[0])


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def extra_names(project: dict, extra: str) -> set[str]:
    """An extra's distributions, following 'ragtune[other]' references."""
    names: set[str] = set()
    for req in project["optional-dependencies"][extra]:
        if canonical(req) == "ragtune":
            for inner in re.search(r"\[(.*)\]", req).group(1).split(","):
                names |= extra_names(project, inner.strip())
        else:
            names.add(canonical(req))
    return names


def pins(file: str) -> dict[str, str]:
    lines = [ln.split("#")[0].strip() for ln in (ROOT / file).read_text().splitlines()]
    return {canonical(ln): ln for ln in lines if ln}


def test_dependencies_match_the_imports(project):
    core = {canonical(r) for r in project["dependencies"]}
    extras = {name: extra_names(project, name) for name in project["optional-dependencies"]}
    optional = set().union(*(v for k, v in extras.items() if k != "test"))
    imports = third_party_imports([ROOT / p for p in PACKAGES])
    imported = {distribution_of(m): m for m in imports}

    unlisted = {d: sorted(imports[m])[:2] for d, m in imported.items() if d not in core | optional}
    assert not unlisted, f"imported by the packages but in neither the core nor an extra: {unlisted}"
    unused = sorted((core | optional) - set(imported))
    assert not unused, f"listed in pyproject.toml but imported nowhere in {PACKAGES}: {unused}"
    # a module the core imports must not sit only in an extra, and the test tools never in the runtime set
    assert not (extras["test"] & (core | optional)), extras["test"] & (core | optional)
    for module, extra in EXTRA_OF_MODULE.items():
        assert distribution_of(module) in extras[extra] - core, (module, extra)
    for dist, module in imported.items():
        if dist not in core:
            assert module in EXTRA_OF_MODULE, (
                f"{module} ({dist}) is optional: corpus.cli.EXTRA_OF_MODULE must name its extra"
            )


def test_the_test_extra_is_what_tests_and_benchmarks_import(project):
    test_extra = extra_names(project, "test")
    used = {distribution_of(m) for m in third_party_imports([ROOT / "tests", ROOT / "benchmarks"])}
    runtime = {canonical(r) for r in project["dependencies"]} | set().union(
        *(extra_names(project, k) for k in project["optional-dependencies"] if k != "test")
    )
    # a benchmark may read a runtime package's own dependency (safetensors, which transformers requires)
    brought = {canonical(r) for d in runtime for r in (importlib.metadata.requires(d) or [])}
    missing = sorted(used - runtime - brought - test_extra)
    assert not missing, f"tests or benchmarks import packages no extra installs: {missing}"
    assert test_extra - TOOLS <= used, f"in the test extra but imported by no test: {sorted(test_extra - TOOLS - used)}"


def test_every_listed_package_has_an_exact_pin_in_its_requirements_file(project):
    runtime_pins, test_pins = pins("requirements.txt"), pins("requirements-test.txt")
    runtime = {canonical(r) for r in project["dependencies"]}
    optional = set().union(*(extra_names(project, k) for k in project["optional-dependencies"] if k != "test"))
    for name in runtime | optional:
        assert "==" in runtime_pins.get(name, ""), f"requirements.txt pins no exact version of {name}"
    for name in extra_names(project, "test"):
        assert "==" in test_pins.get(name, ""), f"requirements-test.txt pins no exact version of {name}"
    assert not set(test_pins) & set(runtime_pins), "a test tool pinned in the runtime requirements"


def test_a_missing_extra_is_one_line_naming_the_pip_command(capsys):
    def needs_gradio(argv):
        raise ModuleNotFoundError("No module named 'gradio'", name="gradio")

    assert run_cli(needs_gradio, []) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pip install 'ragtune[chat]'" in err

    def broken(argv):
        raise ModuleNotFoundError("No module named 'numpy'", name="numpy")

    with pytest.raises(ModuleNotFoundError):  # a core module missing is a broken install: the traceback helps
        run_cli(broken, [])


def test_the_command_entry_switches_the_hubs_off_before_it_runs(monkeypatch):
    for name in OFFLINE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # a user's 0 must not turn the network back on
    seen = {}
    assert run_cli(lambda argv: seen.update(os.environ), []) == 0
    assert {k: seen.get(k) for k in OFFLINE_ENV} == OFFLINE_ENV


def test_the_entry_modules_load_no_model_library_before_the_entry_runs():
    """The scripts import corpus.cli and ragtune.cli at their top, before run_cli sets the offline variables: a
    library that reads them on import (huggingface_hub, gradio) must not be loaded by then."""
    heavy = (
        "torch",
        "transformers",
        "huggingface_hub",
        "sentence_transformers",
        "datasets",
        "gradio",
        "langchain_core",
    )
    code = f"import corpus.cli, ragtune.cli, sys; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under folder (but __pycache__) -> (size, mtime in ns)."""
    out = {}
    for path in folder.rglob("*"):
        if "__pycache__" in path.parts or path.suffix == ".pyc" or not path.is_file():
            continue
        st = path.stat()
        out[str(path.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


def changes(before: dict, after: dict) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory) -> Path:
    """A fresh venv holding ragtune as a wheel built from this checkout.

    To stay fast and offline, the wheel is installed with --no-deps and the new venv sees the dependencies already
    installed for the test run through a .pth file that lists this interpreter's site-packages folders. Those lines
    are plain paths, so the .pth files inside them (such as an editable install of this checkout) are not run:
    ragtune itself is importable only from the wheel.
    """
    tmp = tmp_path_factory.mktemp("package")
    # build from a copy: an in-tree build leaves build/ and ragtune.egg-info/ in the checkout
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    wheels = tmp / "wheels"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            wheels,
            src,
        ]
    )
    (wheel,) = wheels.glob("ragtune-*.whl")

    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    seen = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    Path(purelib, "_ragtune_test_dependencies.pth").write_text("".join(f"{p}\n" for p in seen))
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel])
    return env_dir


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment less what would hide a fault: no PYTHONPATH (it would import the checkout, not
    the wheel), no RAGTUNE_HOME, none of the offline variables the test suite sets for itself."""
    drop = {"PYTHONPATH", "RAGTUNE_HOME", *OFFLINE_ENV, *QUIET_ENV}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "COLUMNS": "200", **extra}


def run(cmd: list, cwd: Path | None = None, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, (cmd, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


@pytest.mark.slow
def test_importing_the_installed_library_sets_no_environment_variable(installed_venv):
    python = installed_venv / "bin" / "python"
    code = (
        "import harness.metrics, corpus, os, sys; "
        "print(os.environ.get('HF_HUB_OFFLINE')); print(corpus.__file__.startswith(sys.prefix))"
    )
    out = run([python, "-c", code], cwd=installed_venv.parent).stdout.split()
    assert out == ["None", "True"]  # no offline switch on import; corpus came from the wheel in this venv


@pytest.mark.slow
def test_the_installed_wheel_runs_steps_0_to_3_from_an_empty_folder_writing_only_there(
    installed_venv, tiny_dataset, tmp_path
):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(tiny_dataset, work / "tiny")
    ragtune = installed_venv / "bin" / "ragtune"
    steps = [
        ["triplets", "--data", "tiny", "--num-negatives", "1"],
        ["pool", "--data", "tiny", "--size", "15", "--no-external"],
        ["train", "--data", "tiny", "--batch-size", "4", "--max-steps", "2", "--eval-steps", "2",
         "--max-seq-length", "32", "--device", "cpu", "--eval-batch-size", "16"],
        # the default arms: base and the model step 2 wrote under the working folder
        ["eval", "--data", "tiny", "--pool", "tiny/corpus_15.jsonl", "--k", "1", "10", "--bootstrap", "100",
         "--latency-queries", "0"],
    ]  # fmt: skip
    repo_before, venv_before = snapshot(ROOT), snapshot(installed_venv)
    for step in steps:
        run([ragtune, *step], cwd=work)
    assert changes(repo_before, snapshot(ROOT)) == []
    assert changes(venv_before, snapshot(installed_venv)) == []
    # the defaults landed in the working folder: the model where steps 3-5 look, the reports, the cache
    assert (work / "runs" / "tiny" / "final" / "modules.json").is_file()
    import pandas as pd

    assert {"base", "finetuned"} <= set(pd.read_csv(work / "reports" / "retrieval_metrics.csv")["arm"])
    assert any((work / "cache" / "embeddings").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
