"""The import picture of the package: layers that import one way and no cycle (issue #26).

Every ``import`` and ``from ... import`` of a ``hepml_nb`` module anywhere in a module (at the top or
inside a function; ``if TYPE_CHECKING:`` blocks aside) is an arrow. The layers: ``core`` (the runtime
kit) imports no topic and not the course machinery; a topic (``jets``, ``qml``, ``calo``, ``fpga``)
imports ``core`` and its own modules only (``fpga`` may import ``jets``); ``course`` may import
anything. No module may reach itself again along the arrows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "hepml_nb"
TOPICS = ("jets", "qml", "calo", "fpga")
ALLOWED = {"core": {"core"}, **{t: {"core", t} for t in TOPICS}, "course": None}
ALLOWED["fpga"] = {"core", "fpga", "jets"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """The hepml_nb modules ``module`` imports; ``from hepml_nb.x import y`` counts as x.y when y is a module."""
    found: set[str] = set()
    todo = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            todo.append(child)
            if isinstance(child, ast.Import):
                found |= {a.name for a in child.names if a.name.startswith("hepml_nb")}
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = module.split(".")[: len(module.split(".")) - child.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, *([base] if base else [])])
                if base.startswith("hepml_nb"):
                    found |= {_resolve(f"{base}.{a.name}") or base for a in child.names}
    return found


def _resolve(name: str) -> str | None:
    """``name`` when it is a module or package of the tree, else None."""
    path = ROOT.parent.joinpath(*name.split("."))
    return name if path.with_suffix(".py").exists() or (path / "__init__.py").exists() else None


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in ROOT.rglob("*.py"):
        module = _module_name(path)
        graph[module] = _imports(ast.parse(path.read_text()), module, path.name == "__init__.py") - {module}
    return graph


def _layer(module: str) -> str:
    """The layer of a module: core, course, a topic; "" for the package root and its leaves (_version)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and not parts[1].startswith("_") else ""


GRAPH = _graph()


def test_the_graph_sees_the_packages_imports():
    assert "hepml_nb.core.errors" in GRAPH["hepml_nb.core.cache"]
    assert "hepml_nb.course.catalog" in GRAPH["hepml_nb.course.runner"]


@pytest.mark.parametrize("layer", sorted(k for k, v in ALLOWED.items() if v is not None))
def test_each_layer_imports_only_what_it_may(layer):
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if _layer(module) == layer
        for target in targets
        if _layer(target) and _layer(target) not in ALLOWED[layer]
    )
    assert wrong == []


def test_core_takes_the_version_from_version_not_the_package_root():
    wrong = sorted(m for m, targets in GRAPH.items() if _layer(m) in ("core", *TOPICS) and "hepml_nb" in targets)
    assert wrong == []


def test_no_import_cycle():
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []
