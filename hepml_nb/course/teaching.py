"""Student builds of notebooks (nbgrader-style solution regions).

Each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region of a code cell becomes a stub
that keeps the notebook running: for every name the solution binds at the region's own
level (assignment, augmented and annotated assignment targets, ``for`` and ``with``
targets, walrus targets, function and class definitions, including inside ``if`` /
``for`` / ``while`` / ``with`` / ``try`` / ``match`` blocks, in order of first binding) one line
``name = None  # YOUR CODE HERE`` at the marker's indentation. Names bound only inside
nested functions, classes or comprehensions, imports and the throw-away ``_`` get no
stub. A region that binds no name becomes ``# YOUR CODE HERE`` and ``pass``.

Later cells still run (papermill and nbclient stop at the first error, whatever the
cell tags say), and the checker after the exercise sees None and reports "Not attempted
yet" (see :mod:`hepml_nb.core.exercises`). Outputs are stripped; cell tags are kept.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import nbformat

from hepml_nb.core.errors import DataError

__all__ = ["strip_solutions", "solution_names", "student_notebook", "write_student_notebooks", "strip_outputs"]

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)###\s*BEGIN SOLUTION\s*$")
_END = re.compile(r"^[ \t]*###\s*END SOLUTION\s*$")
_STUB = "  # YOUR CODE HERE"


def _target_names(target: ast.expr) -> list[str]:
    """Names bound by an assignment target (tuples, lists and starred unpacked; attributes and items bind none)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _walrus_names(node: ast.AST) -> list[str]:
    """Targets of ``:=`` in an expression (not inside lambdas, whose scope is their own)."""
    if isinstance(node, ast.Lambda):
        return []
    own = [node.target.id] if isinstance(node, ast.NamedExpr) else []
    return own + [name for child in ast.iter_child_nodes(node) for name in _walrus_names(child)]


def _bound_names(statements: list[ast.stmt]) -> list[str]:
    names: list[str] = []
    for stmt in statements:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(stmt.name)
            continue
        if isinstance(stmt, ast.Assign):
            names += [name for target in stmt.targets for name in _target_names(target)]
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and (
            not isinstance(stmt, ast.AnnAssign) or stmt.value is not None
        ):
            names += _target_names(stmt.target)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            names += _target_names(stmt.target)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            names += [
                name
                for item in stmt.items
                if item.optional_vars is not None
                for name in _target_names(item.optional_vars)
            ]
        names += [
            name for expr in ast.iter_child_nodes(stmt) if isinstance(expr, ast.expr) for name in _walrus_names(expr)
        ]
        for field in ("body", "orelse", "finalbody"):
            names += _bound_names(getattr(stmt, field, []))
        for block in [*getattr(stmt, "handlers", []), *getattr(stmt, "cases", [])]:  # except / match-case
            names += _bound_names(block.body)
    return names


def solution_names(solution: str) -> list[str]:
    """Names a solution region binds at its own level, in order of first binding (see the module doc).

    Raises
    ------
    DataError
        The region is not valid Python on its own.
    """
    try:
        tree = ast.parse(textwrap.dedent(solution))
    except SyntaxError as exc:
        raise DataError(
            f"the solution region is not valid Python on its own ({exc.msg}, line {exc.lineno} "
            f"of the region); put whole statements between the markers"
        ) from None
    return [name for name in dict.fromkeys(_bound_names(tree.body)) if name != "_"]


def _stub(region: list[str], indent: str, first_line: int) -> list[str]:
    try:
        names = solution_names("\n".join(region))
    except DataError as exc:
        raise DataError(f"line {first_line}: {exc}") from None
    if not names:
        return [f"{indent}# YOUR CODE HERE", f"{indent}pass"]
    return [f"{indent}{name} = None{_STUB}" for name in names]


def strip_solutions(source: str) -> str:
    """Replace every solution region of a cell's source by the student stub (see the module doc)."""
    out: list[str] = []
    region: list[str] | None = None
    indent, start = "", 0
    for number, line in enumerate(source.splitlines(), 1):
        begin = _BEGIN.match(line)
        if begin and region is None:
            region, indent, start = [], begin.group("indent"), number
        elif _END.match(line):
            if region is None:
                raise DataError(f"line {number}: '### END SOLUTION' without a BEGIN before it")
            out += _stub(region, indent, start + 1)
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise DataError(f"line {start}: '### BEGIN SOLUTION' without a matching '### END SOLUTION'")
    return "\n".join(out)


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove outputs and execution counts from every code cell (in a copy)."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def student_notebook(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Return the student version of ``nb`` (a copy) and the number of exercise cells found."""
    nb = strip_outputs(nb)
    count = 0
    for index, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        if "BEGIN SOLUTION" not in cell.source:
            continue
        try:
            cell.source = strip_solutions(cell.source)
        except DataError as exc:
            raise DataError(f"code cell {index}: {exc}") from None
        count += 1
    return nb, count


def write_student_notebooks(notebooks: list[Path], out_dir: Path | str) -> list[tuple[Path, int]]:
    """Write the student version of each notebook into ``out_dir``; return (path, exercises)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        if not Path(path).is_file():
            raise DataError(f"notebook {path} not found; give a .ipynb path or a topic key")
        nb, count = student_notebook(nbformat.read(path, as_version=4))
        target = out_dir / Path(path).name
        nbformat.write(nb, target)
        written.append((target, count))
    return written
