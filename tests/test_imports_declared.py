"""Every import is declared: each package imports only what its own pyproject names, product
code never imports the test tooling, and the scripts people run import no test package.

Imports are read with ast (those inside functions and under TYPE_CHECKING too) from
packages/*/src, scripts/ and bench/. An import's top-level module maps to the distribution that
installs it (importlib.metadata.packages_distributions; `cbt_x` is `cbt-x`); the standard
library and a folder's own modules need no declaration. Declared means listed in the
pyproject's dependencies or any of its extras; bench/ may also use the workspace's dev group.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent.name for p in (ROOT / "packages").glob("*/pyproject.toml"))
TEST_PACKAGE = "cbt-testing"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalize(re.split(r"[\s\[<>=!~;@]", req.strip(), maxsplit=1)[0])
            for req in requirements}


def declared(pyproject: Path, groups: tuple[str, ...] = ()) -> set[str]:
    """The distributions a pyproject names: dependencies, every extra, and `groups`."""
    data = tomllib.loads(pyproject.read_text())
    project = data["project"]
    names = requirement_names(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        names |= requirement_names(extra)
    for group in groups:
        names |= requirement_names(data.get("dependency-groups", {}).get(group, []))
    return names | {normalize(project["name"])}


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) of every absolute import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


@cache
def distributions() -> dict[str, set[str]]:
    from importlib.metadata import packages_distributions

    return {module: {normalize(d) for d in dists}
            for module, dists in packages_distributions().items()}


def provided_by(module: str) -> set[str]:
    """The distributions that install `module` (cbt_x is cbt-x: the house rule)."""
    if module.startswith("cbt_"):
        return {normalize(module)}
    return distributions().get(module, {normalize(module)})


def undeclared(files: list[Path], allowed: set[str], local: set[str]) -> list[str]:
    """One line per import of a distribution not in `allowed`."""
    problems = []
    for path in files:
        for line, module in imports(path):
            if module in sys.stdlib_module_names or module in local:
                continue
            dists = provided_by(module)
            if not dists & allowed:
                problems.append(f"{_shown(path)}:{line}: imports {module} "
                                f"({' or '.join(sorted(dists))}), not declared")
    return problems


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_it_declares(package: str) -> None:
    folder = ROOT / "packages" / package
    allowed = declared(folder / "pyproject.toml")
    local = {p.name for p in (folder / "src").iterdir() if p.is_dir()}
    problems = undeclared(python_files(folder / "src"), allowed, local)
    assert not problems, f"{package}/pyproject.toml lacks:\n" + "\n".join(problems)


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != TEST_PACKAGE])
def test_product_code_never_imports_the_test_tooling(package: str) -> None:
    """cbt-testing is a dev dependency of the workspace: no installed package may need it."""
    found = [f"{_shown(path)}:{line}"
             for path in python_files(ROOT / "packages" / package / "src")
             for line, module in imports(path) if module == "cbt_testing"]
    assert not found, f"{package} imports cbt_testing at: {', '.join(found)}"


def test_scripts_import_only_what_the_project_declares() -> None:
    """scripts/ run on the root project's own dependencies (`uv run python scripts/...`)."""
    files = python_files(ROOT / "scripts")
    problems = undeclared(files, declared(ROOT / "pyproject.toml"), {p.stem for p in files})
    assert not problems, "the root pyproject.toml lacks:\n" + "\n".join(problems)


def test_benchmarks_import_only_what_the_workspace_declares() -> None:
    """bench/ runs in the whole workspace's environment: the project with its dev group, and
    every package with its extras (a benchmark of the llama.cpp path needs cbt-infer[llama])."""
    files = python_files(ROOT / "bench")
    allowed = declared(ROOT / "pyproject.toml", ("dev",)).union(
        *(declared(ROOT / "packages" / p / "pyproject.toml") for p in PACKAGES))
    problems = undeclared(files, allowed, {p.stem for p in files})
    assert not problems, "no pyproject in the workspace declares:\n" + "\n".join(problems)


def test_the_scripts_people_run_import_no_test_package() -> None:
    """scripts/ are what a user runs (plan, preflight, check_repro...): a test package there
    would make the dev tooling a runtime dependency."""
    found = [f"{_shown(path)}:{line}" for path in python_files(ROOT / "scripts")
             for line, module in imports(path)
             if module in ("cbt_testing", "pytest", "hypothesis")]
    assert not found, f"scripts import a test package at: {', '.join(found)}"


def test_the_reader_catches_what_it_should(tmp_path: Path) -> None:
    """The checks themselves: a function-level import, an extra, a missing declaration."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "cbt-x"\ndependencies = ["cbt-schema", "PyYAML>=6"]\n'
        '[project.optional-dependencies]\nfast = ["orjson>=3 ; python_version >= \'3.11\'"]\n')
    code = tmp_path / "m.py"
    code.write_text("import os\nimport yaml\nfrom cbt_schema import x\nfrom . import y\n"
                    "def f():\n    import orjson\n    from cbt_train.data import z\n")
    allowed = declared(tmp_path / "pyproject.toml")
    assert allowed == {"cbt-x", "cbt-schema", "pyyaml", "orjson"}
    assert undeclared([code], allowed, set()) == [
        "m.py:7: imports cbt_train (cbt-train), not declared"]
