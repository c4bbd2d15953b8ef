"""The house keeps its shape: no import circle, each floor imports only the floors beneath it, shipped
migrations call no code of today's, and the wheel a user installs carries every module and data file."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import REPO

PACKAGES = ("storage", "pipeline", "spiders", "demo", "chipwatch")
# What each top-level package may import at module level (besides itself), from the bottom floor up.
# chipwatch.errors, the exception tree, is the one shared foundation.
FOUNDATION = {"chipwatch.errors"}
MAY_IMPORT = {
    "storage": set(),
    "pipeline": {"storage"},
    "spiders": {"storage", "pipeline"},
    "demo": set(),
    "chipwatch": {"storage", "pipeline", "spiders", "demo"},
}


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _module_level_imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules imported when `name` is imported: module-level imports, not those inside functions
    or under TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def resolve(module: str) -> str | None:
        while module and module not in known:
            module = module.rpartition(".")[0]
        return module or None

    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for child in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.ClassDef) else ():
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join([*package.split(".")[: len(package.split(".")) - child.level + 1], base]).strip(".")
                targets = [f"{base}.{alias.name}" for alias in child.names] + [base]
            else:
                continue
            for target in targets:
                module = resolve(target)
                if module and module != name:
                    found.add(module)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _module_level_imports(path, name, set(modules)) for name, path in modules.items()}


def test_no_import_circle_anywhere(graph):
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for other in sorted(graph[module]):
            if state.get(other) == 1:
                cycle = [*stack[stack.index(other) :], other]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if other not in state:
                visit(other)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_each_floor_imports_only_the_floors_beneath_it(graph):
    wrong = []
    for module, imported in graph.items():
        top = module.split(".")[0]
        for other in imported:
            other_top = other.split(".")[0]
            if other_top == top or other in FOUNDATION or other_top in MAY_IMPORT[top]:
                continue
            wrong.append(f"{module} imports {other}")
    assert wrong == []


def test_storage_owns_the_sql():
    """No module outside storage/ (and the synthetic-data benchmarks that build their own databases)
    writes SQL against chipwatch's tables."""
    offenders = []
    for name, path in _modules().items():
        if name.startswith(("storage", "chipwatch.bench")):
            continue
        text = path.read_text(encoding="utf-8")
        for keyword in ("SELECT ", "INSERT INTO", "UPDATE articles", "DELETE FROM"):
            if keyword in text:
                offenders.append(f"{name}: {keyword.strip()}")
    assert offenders == []


def test_shipped_migrations_call_no_code_of_todays():
    imported: set[str] = set()
    for path in sorted((REPO / "storage" / "migrations").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported |= {
            (node.module or "") + ("." + alias.name if node.module == "storage.migrations" else "")
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    ours = {module for module in imported if module.split(".")[0] in PACKAGES}
    # The package's index imports its own migration modules, and nothing else of ours is imported anywhere.
    assert ours and all(module.startswith("storage.migrations.m") for module in ours), ours


@pytest.mark.slow
def test_the_wheel_carries_every_module_and_data_file(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(REPO)],
        capture_output=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr.decode()[-3000:]
    [wheel] = tmp_path.glob("chipwatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in _modules().values():
        assert str(module.relative_to(REPO)) in names, module
    for data in (
        "spiders/sources.toml",
        "pipeline/topics.toml",
        "pipeline/model/classifier.json",
        "chipwatch/digest/templates/digest.html",
        "chipwatch/serve/plugins/chipwatch_match.py",
        "demo/manifest.toml",
        "demo/sources.toml",
    ):
        assert data in names, data
    metadata = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Requires-Python: >=3.11\n" in text
    requirements = [line.split(";")[0] for line in text.splitlines() if line.startswith("Requires-Dist:")]
    assert requirements and not [r for r in requirements if "==" in r]  # ranges here, exact pins in constraints
