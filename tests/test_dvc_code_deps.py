"""Each dvc.yaml stage lists the cbt code it runs: its import closure, found statically.

A stage's entry comes from its cmd: a console script (the packages' [project.scripts]) with its
subcommand, `python -m MODULE` or `python scripts/X.py`. From there the closure follows the
names the code uses, with ast and without importing anything:

- a unit is a top-level function or class of a module, or the module's own top-level code;
  a unit needs the imports inside it (function-level ones too), the names it uses, and the
  top-level code of its module and of the packages above it (they run when it is imported);
- `from pkg import name` follows a package's re-exports, eager or lazy (`_EXPORTS`);
- in the entry module, a branch on the subcommand (`args.command == ...`, `argv[:1] == ...`)
  that is not the stage's own is skipped, and one that ends in return or raise ends its block;
  cbt-datagen's COMMANDS table names the module each subcommand imports;
- `if TYPE_CHECKING:` blocks never run and are skipped.

The files of those units are compared with the stage's deps under packages/ and scripts/: a
listed package folder covers every file in it, and lists nothing extra when the closure uses at
least one of them. A failure prints, per stage, the files missing from dvc.yaml and the ones it
lists that the stage never imports.
"""

from __future__ import annotations

import ast
import shlex
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = {p.name: p for p in ROOT.glob("packages/*/src/*") if (p / "__init__.py").is_file()}
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]

Unit = tuple[str, str | None]  # (module, top-level name); None: the module's own top-level code


def module_file(name: str) -> Path | None:
    head, *rest = name.split(".")
    if head == "scripts":  # `python scripts/X.py`
        path = ROOT.joinpath("scripts", *rest).with_suffix(".py")
        return path if rest and path.is_file() else None
    if head not in SRC:  # a script's sibling: scripts/ is first on sys.path when one runs
        path = (ROOT / "scripts" / head).with_suffix(".py")
        return path if not rest and path.is_file() else None
    base = SRC[head].joinpath(*rest)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    defs: dict[str, ast.stmt] = field(default_factory=dict)        # top-level def and class
    bindings: dict[str, Unit] = field(default_factory=dict)        # top-level imports
    exports: dict[str, str] = field(default_factory=dict)          # a lazy __init__'s _EXPORTS
    commands: dict[str, str] = field(default_factory=dict)         # cbt-datagen's COMMANDS


@cache
def load(name: str) -> Module:
    path = module_file(name)
    assert path is not None, name
    mod = Module(name, path, ast.parse(path.read_text(encoding="utf-8")))
    for node in mod.tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            mod.defs[node.name] = node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            mod.bindings |= _bindings(mod, node)
        elif (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
              and isinstance(node.targets[0], ast.Name)
              and node.targets[0].id in ("_EXPORTS", "COMMANDS")):
            pairs = {ast.literal_eval(k): v for k, v in zip(node.value.keys, node.value.values,
                                                           strict=True) if k is not None}
            if node.targets[0].id == "_EXPORTS":
                mod.exports = {k: ast.literal_eval(v) for k, v in pairs.items()}
            else:  # subcommand -> (module under <package>.commands, help)
                package = name.rsplit(".", 1)[0]
                mod.commands = {k: f"{package}.commands.{ast.literal_eval(v)[0]}"
                                for k, v in pairs.items()}
    return mod


def _absolute(mod: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = mod.name if mod.path.name == "__init__.py" else mod.name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _bindings(mod: Module, node: ast.Import | ast.ImportFrom) -> dict[str, Unit]:
    if isinstance(node, ast.Import):
        return {(a.asname or a.name.split(".")[0]): (a.name if a.asname else
                                                    a.name.split(".")[0], None)
                for a in node.names}
    source = _absolute(mod, node)
    return {(a.asname or a.name): (source, a.name) for a in node.names if a.name != "*"}


def resolve(module: str, name: str | None, depth: int = 0) -> Unit | None:
    """The unit that `name` of `module` is, following re-exports; None outside cbt."""
    if module_file(module) is None or depth > 10:
        return None
    if name is None:
        return (module, None)
    if module_file(f"{module}.{name}") is not None:
        return (f"{module}.{name}", None)
    mod = load(module)
    if name in mod.defs:
        return (module, name)
    if name in mod.bindings:
        return resolve(*mod.bindings[name], depth + 1)
    if name in mod.exports:
        return resolve(mod.exports[name], name, depth + 1)
    return (module, None)


def _is_dispatch(test: ast.expr) -> bool:
    return any((isinstance(n, ast.Attribute) and n.attr == "command")
               or (isinstance(n, ast.Name) and n.id in ("command", "argv"))
               for n in ast.walk(test))


def _ends(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise)


class _Uses(ast.NodeVisitor):
    """The imports and names of one unit; `command` set in the entry module's units."""

    def __init__(self, mod: Module, command: str | None) -> None:
        self.mod, self.command = mod, command
        self.local: dict[str, Unit] = {}
        self.imported: list[Unit] = []
        self.names: set[str] = set()
        self.attributes: set[tuple[str, str]] = set()

    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if not isinstance(stmt, ast.If):
                self.visit(stmt)
            elif self._taken(stmt):
                return

    def _taken(self, node: ast.If) -> bool:
        """Visit an if; True when it is this subcommand's branch and ends the block."""
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            self.block(node.orelse)
            return False
        self.visit(node.test)
        if self.command is None or not _is_dispatch(node.test):
            self.block(node.body)
            self.block(node.orelse)
            return False
        named = {n.value for n in ast.walk(node.test) if isinstance(n, ast.Constant)
                 and isinstance(n.value, str)}
        if named and self.command not in named:
            self.block(node.orelse)
            return False
        self.block(node.body)
        return bool(named) and _ends(node.body)

    def generic_visit(self, node: ast.AST) -> None:
        for _, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self.block(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_Import(self, node: ast.Import) -> None:
        bound = _bindings(self.mod, node)
        self.local |= bound
        self.imported += [(a.name, None) for a in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        bound = _bindings(self.mod, node)
        self.local |= bound
        self.imported += list(bound.values())
        if not bound:  # from X import *
            self.imported.append((_absolute(self.mod, node), None))

    def visit_Name(self, node: ast.Name) -> None:
        self.names.add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name):
            self.attributes.add((node.value.id, node.attr))
        self.visit(node.value)


def needs(unit: Unit, command: str | None = None) -> set[Unit]:
    """The units that `unit` uses directly (the module's and its packages' top level too)."""
    module, name = unit
    mod = load(module)
    found: set[Unit] = set()
    parts = module.split(".")
    found |= {(".".join(parts[:i]), None) for i in range(1, len(parts))
              if module_file(".".join(parts[:i])) is not None}
    if name is not None:
        found.add((module, None))
    uses = _Uses(mod, command)
    if name is None:
        uses.block([s for s in mod.tree.body if s not in mod.defs.values()])
    else:
        uses.visit(mod.defs[name])
    scope = {**mod.bindings, **uses.local}
    refs = list(uses.imported)
    for local in uses.names:
        if local in scope:
            refs.append(scope[local])
        elif local in mod.defs and local != name:
            refs.append((module, local))
    for local, attr in uses.attributes:
        target = scope.get(local)
        if target is not None and module_file(".".join(filter(None, target))) is not None:
            refs.append((".".join(filter(None, target)), attr))
    if command is not None and command in mod.commands and name is not None:
        refs.append((mod.commands[command], "main"))
    found |= {u for ref in refs if (u := resolve(*ref)) is not None}
    found.discard(unit)
    return found


def closure(entry: Unit, command: str | None) -> set[Path]:
    """The files of every unit `entry` needs, run as `command`."""
    seen: set[Unit] = set()
    todo = [entry]
    while todo:
        unit = todo.pop()
        if unit in seen:
            continue
        seen.add(unit)
        todo += needs(unit, command if unit[0] == entry[0] else None)
    return {load(m).path for m, _ in seen if not _only_docstring(load(m).tree)}


def _only_docstring(tree: ast.Module) -> bool:
    """An __init__.py that runs nothing (a docstring at most) is no dependency."""
    return all((isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               or (isinstance(s, ast.ImportFrom) and s.module == "__future__") for s in tree.body)


@cache
def console_scripts() -> dict[str, str]:
    scripts: dict[str, str] = {}
    for pyproject in ROOT.glob("packages/*/pyproject.toml"):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        scripts |= project.get("scripts", {})
    return scripts


def entry(cmd: str) -> tuple[Unit, str | None]:
    """The unit a stage's cmd starts in, and the subcommand it runs."""
    words = shlex.split(cmd)
    if words[0] in ("python", "python3") and words[1] == "-m":
        unit, rest = (words[2], None), words[3:]
    elif words[0] in ("python", "python3"):
        unit, rest = (f"scripts.{Path(words[1]).stem}", None), words[2:]
    else:
        module, _, func = console_scripts()[words[0]].partition(":")
        unit, rest = (module, func), words[1:]
    return unit, rest[0] if rest and not rest[0].startswith("-") else None


def code_deps(stage: dict) -> list[str]:
    return [d for d in stage.get("deps", []) if d.startswith(("packages/", "scripts/"))
            and (d.endswith(".py") or (ROOT / d).is_dir())]


def drift(name: str) -> tuple[list[str], list[str]]:
    stage = STAGES[name]
    used = {str(p.relative_to(ROOT)) for p in closure(*entry(stage["cmd"]))}
    listed = code_deps(stage)
    folders = [d for d in listed if not d.endswith(".py")]
    missing = sorted(u for u in used if u not in listed
                     and not any(u.startswith(f + "/") for f in folders))
    extra = sorted(d for d in listed if d not in used
                   and not any(u.startswith(d + "/") for u in used))
    return missing, extra


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_lists_the_code_it_imports(name: str) -> None:
    missing, extra = drift(name)
    lines = [f"  missing from dvc.yaml: {m}" for m in missing]
    lines += [f"  listed but never imported: {e}" for e in extra]
    assert not lines, f"stage {name}: deps drifted from its imports\n" + "\n".join(lines)
