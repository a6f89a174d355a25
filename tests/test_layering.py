"""The import rules of docs/architecture.md, read from the source with `ast` (nothing is imported).

1. Layers: backend -> templates -> flows -> nodes. A module never imports a higher layer: not at
   the top, not inside a function, not under `if TYPE_CHECKING:` (a type-only import still ties
   the lower layer to the higher one's names, and it stops being type-only the day someone
   needs the value).
2. No import cycles between first-party modules, function-local imports included (a cycle hidden
   in a function still makes the import order matter and the two modules one unit).
   `if TYPE_CHECKING:` imports are left out here: they never run, so they cannot make an import
   order matter, and they are how two modules annotate each other.
3. A first-party import inside a function carries a `# lazy: <reason>` comment, on its own line
   or the line above; every other first-party import is at the module's top.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from flows.graph_algorithms import strongly_connected_components

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("nodes", "flows", "templates", "backend")   # lowest first
LAZY_MARK = "# lazy:"


@dataclass(frozen=True)
class Import:
    module: str          # the importing module, e.g. "templates.merge"
    target: str          # the first-party module imported, e.g. "flows.jsonequal"
    path: str            # the importing file, relative to the root
    line: int
    lazy: bool           # inside a function
    type_checking: bool  # inside `if TYPE_CHECKING:`
    says_why: bool       # a `# lazy:` comment on the statement or the line above it

    def __str__(self) -> str:
        where = "function-local " if self.lazy else "TYPE_CHECKING " if self.type_checking else ""
        return f"{self.path}:{self.line}: {self.module} {where}imports {self.target}"


def modules(root: Path) -> dict[str, Path]:
    """Every first-party module under the layer packages, by dotted name."""
    found: dict[str, Path] = {}
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: dict[str, Path]) -> list[str]:
    """The first-party modules one import statement loads (`from a import b` is a.b when that is a module)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[:len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    out: list[str] = []
    for name in names:
        while name and name not in known:   # `import a.b.c` of a name inside a module: its module
            name = name.rpartition(".")[0]
        if name and name != module and name not in out:
            out.append(name)
    return out


def imports(root: Path = ROOT) -> list[Import]:
    """Every first-party import statement under the layer packages, with where it sits."""
    known = modules(root)
    found: list[Import] = []
    for module, path in known.items():
        source = path.read_text()
        lines = source.splitlines()
        rel = str(path.relative_to(root))

        def visit(node: ast.AST, lazy: bool, type_checking: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    text = lines[child.lineno - 1:child.end_lineno]
                    above = lines[child.lineno - 2].strip() if child.lineno > 1 else ""
                    says_why = any(LAZY_MARK in t for t in text) or above.startswith(LAZY_MARK)
                    for target in _targets(child, module, path.name == "__init__.py", known):
                        found.append(Import(module, target, rel, child.lineno, lazy, type_checking, says_why))
                elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    visit(child, True, type_checking)
                elif isinstance(child, ast.If) and _is_type_checking(child.test):
                    for stmt in child.body:
                        visit(ast.Module(body=[stmt], type_ignores=[]), lazy, True)
                    for stmt in child.orelse:
                        visit(ast.Module(body=[stmt], type_ignores=[]), lazy, type_checking)
                else:
                    visit(child, lazy, type_checking)

        visit(ast.parse(source, filename=rel), False, False)
    return found


def layer_violations(found: list[Import]) -> list[str]:
    """Imports of a higher layer, wherever they sit."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    return [f"{imp}: {imp.module.split('.')[0]} may not import {imp.target.split('.')[0]}"
            for imp in found if rank[imp.target.split(".")[0]] > rank[imp.module.split(".")[0]]]


def import_cycles(found: list[Import]) -> list[list[str]]:
    """Strongly connected groups of modules (more than one) over the imports that run, lazy ones included."""
    graph: dict[str, list[str]] = {}
    for imp in found:
        graph.setdefault(imp.target, [])
        if not imp.type_checking and imp.target not in graph.setdefault(imp.module, []):
            graph[imp.module].append(imp.target)
    return sorted(sorted(group) for group in strongly_connected_components(graph) if len(group) > 1)


def describe_cycles(found: list[Import], groups: list[list[str]]) -> list[str]:
    out = []
    for group in groups:
        members = set(group)
        edges = [str(imp) for imp in found if not imp.type_checking and imp.module in members and imp.target in members]
        out.append(" <-> ".join(group) + "\n    " + "\n    ".join(edges))
    return out


def unexplained_lazy(found: list[Import]) -> list[str]:
    """Function-local first-party imports without a `# lazy: <reason>` comment."""
    seen: set[tuple[str, int]] = set()
    out = []
    for imp in found:
        if imp.lazy and not imp.says_why and (imp.path, imp.line) not in seen:
            seen.add((imp.path, imp.line))
            out.append(f"{imp}: move it to the module's top, or say why it must wait with '{LAZY_MARK} <reason>'")
    return out


# --- the rules, on this repository ---------------------------------------------------------

def test_no_module_imports_a_higher_layer():
    """No module of nodes/, flows/, templates/ or backend/ imports a layer above its own, lazily or not."""
    assert layer_violations(imports()) == []


def test_no_import_cycles_between_first_party_modules():
    """The first-party modules import each other without a cycle, counting imports inside functions."""
    found = imports()
    assert describe_cycles(found, import_cycles(found)) == []


def test_every_function_local_first_party_import_says_why():
    """Each first-party import inside a function carries a '# lazy: <reason>' comment."""
    assert unexplained_lazy(imports()) == []


def test_the_walk_sees_the_whole_tree():
    """The reader finds every layer package and both top-level and function-local imports in this repository."""
    found = imports()
    assert {imp.module.split(".")[0] for imp in found} == set(LAYERS)
    assert any(imp.lazy for imp in found) and any(not imp.lazy for imp in found)


# --- the checker itself, on small made-up trees ----------------------------------------------

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text("")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_checker_finds_an_upward_import_inside_a_function_or_type_checking(tmp_path):
    """A higher layer imported inside a function or under TYPE_CHECKING is reported; a downward import is not."""
    root = _tree(tmp_path, {
        "backend/cron.py": "def check(): pass\n",
        "flows/merge.py": "def f():\n    # lazy: testing\n    from backend.cron import check\n",
        "nodes/sdk.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from flows.merge import f\n",
        "templates/ok.py": "from flows.merge import f\nfrom nodes import sdk\n",
    })
    found = layer_violations(imports(root))
    assert sorted(v.split(":")[0] for v in found) == ["flows/merge.py", "nodes/sdk.py"]


def test_checker_finds_a_cycle_hidden_in_a_function_but_not_one_under_type_checking(tmp_path):
    """A cycle closed by a function-local import is reported; a TYPE_CHECKING back-reference is not a cycle."""
    root = _tree(tmp_path, {
        "nodes/sdk.py": "from nodes.errors import E\n\ndef render():\n    # lazy: testing\n    from nodes.expressions import r\n",
        "nodes/expressions.py": "from nodes.sdk import render\n",
        "nodes/errors.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nodes.sdk import render\n",
    })
    assert import_cycles(imports(root)) == [["nodes.expressions", "nodes.sdk"]]


def test_checker_resolves_relative_and_submodule_imports(tmp_path):
    """`from . import x`, `from ..a import b` and `from pkg import module` count as imports of those modules."""
    root = _tree(tmp_path, {
        "flows/a/__init__.py": "",
        "flows/a/b.py": "from . import c\nfrom ..d import thing\n",
        "flows/a/c.py": "",
        "flows/d.py": "from flows.a import b\n",
    })
    pairs = {(imp.module, imp.target) for imp in imports(root)}
    assert pairs == {("flows.a.b", "flows.a.c"), ("flows.a.b", "flows.d"), ("flows.d", "flows.a.b")}
    assert import_cycles(imports(root)) == [["flows.a.b", "flows.d"]]


def test_checker_wants_a_reason_on_each_function_local_import(tmp_path):
    """A function-local first-party import without '# lazy:' is reported; one with it above or beside it is not."""
    root = _tree(tmp_path, {
        "nodes/a.py": "X = 1\n",
        "nodes/b.py": ("def plain():\n    from nodes.a import X\n\n"
                       "def above():\n    # lazy: heavy\n    from nodes.a import X\n\n"
                       "def beside():\n    from nodes.a import X  # lazy: heavy\n\n"
                       "def stdlib():\n    import json\n"),
    })
    assert [v.split(": ")[0] for v in unexplained_lazy(imports(root))] == ["nodes/b.py:2"]
