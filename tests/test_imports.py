"""The packages' import graph, read from the source (ast): no two modules import each other, and no package reaches
up a floor (corpus < harness < train, rag < ragtune; train and rag stand side by side and import neither each other).

Every import counts, at any depth: a function-level import is still a dependency, and deferring one is how a
cycle hides until the day both modules are imported from the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("corpus", "harness", "train", "rag", "ragtune")
FLOOR = {"corpus": 0, "harness": 1, "train": 2, "rag": 2, "ragtune": 3}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """Our modules that `name` imports anywhere in its body: `import a.b`, `from a import b` (b a submodule or a
    name in a) and relative forms, each resolved to the most specific module that exists."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if source.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                add(sub if sub in known else source)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imported_modules(name, path, set(modules)) for name, path in modules.items()}


def test_the_graph_sees_function_level_and_submodule_imports(graph):
    """The reader itself: a deferred `from corpus.outside import ...` and a `from corpus import paths` both count."""
    assert "corpus.outside" in graph["corpus.pool"]  # inside external_distractors()
    uses_paths = [m for m, deps in graph.items() if "corpus.paths" in deps]
    assert len(uses_paths) > 5 and "corpus.paths" not in graph["corpus.pool"]


def test_no_two_modules_import_each_other(graph):
    pairs = sorted({tuple(sorted((a, b))) for a, deps in graph.items() for b in deps if a in graph.get(b, ())})
    assert not pairs, "modules that import each other: " + "; ".join(f"{a} <-> {b}" for a, b in pairs)


def test_no_package_imports_a_higher_floor_or_its_neighbour(graph):
    wrong = sorted(
        (a, b)
        for a, deps in graph.items()
        for b in deps
        if (pa := a.split(".")[0]) != (pb := b.split(".")[0]) and FLOOR[pb] >= FLOOR[pa]
    )
    assert not wrong, "imports against the floors: " + "; ".join(f"{a} -> {b}" for a, b in wrong)
