"""Student builds of notebooks (nbgrader-style solution regions).

``### BEGIN SOLUTION`` ... ``### END SOLUTION`` in a code cell is replaced by
``# YOUR CODE HERE`` and ``raise NotImplementedError()`` (same indentation). The exercise cell and the
checker cell after it are tagged ``raises-exception``, so Run All and papermill go
on past an unsolved exercise (the checker then fails with a NameError, shown in
place). Outputs are stripped.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from hepml_nb.core.errors import DataError

__all__ = ["strip_solutions", "student_notebook", "write_student_notebooks", "strip_outputs", "notebook_from_cells"]

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)###\s*BEGIN SOLUTION\s*$")
_END = re.compile(r"^[ \t]*###\s*END SOLUTION\s*$")


def strip_solutions(source: str) -> str:
    """Replace every solution region of a cell's source by the student stub."""
    out, inside, indent = [], False, ""
    for number, line in enumerate(source.splitlines(), 1):
        begin = _BEGIN.match(line)
        if begin and not inside:
            inside, indent = True, begin.group("indent")
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
        elif _END.match(line):
            if not inside:
                raise DataError(f"line {number}: '### END SOLUTION' without a BEGIN before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise DataError("'### BEGIN SOLUTION' without a matching '### END SOLUTION'")
    return "\n".join(out)


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove outputs and execution counts from every code cell (in a copy)."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def student_notebook(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Return the student version of ``nb`` and the number of exercise cells found."""
    nb = strip_outputs(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    count = 0
    for index, cell in enumerate(code):
        if "BEGIN SOLUTION" not in cell.source:
            continue
        try:
            cell.source = strip_solutions(cell.source)
        except DataError as exc:
            raise DataError(f"code cell {index}: {exc}") from None
        _tag_raises(cell)
        if index + 1 < len(code) and "check" in code[index + 1].source:
            _tag_raises(code[index + 1])
        count += 1
    return nb, count


def _tag_raises(cell: nbformat.NotebookNode) -> None:
    tags = cell.metadata.setdefault("tags", [])
    if "raises-exception" not in tags:
        tags.append("raises-exception")


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


def notebook_from_cells(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """Build an output-free notebook from ``(kind, source)`` pairs (used by ``scripts/make_notebook_*``).

    ``kind`` is ``"md"``, ``"code"``, ``"params"`` (the cell tagged ``parameters``) or
    ``"code:tag1,tag2"`` (a code cell with tags). The kernelspec is the generic ``python3``;
    the runner always executes with the Python that runs it. Cell ids are numbered, so that
    writing the notebook again gives a diff of what changed only.
    """
    nb = new_notebook()
    for kind, source in cells:
        if kind == "md":
            nb.cells.append(new_markdown_cell(source))
            continue
        if kind == "params":
            tags = ["parameters"]
        elif kind == "code" or kind.startswith("code:"):
            tags = [t for t in kind.partition(":")[2].split(",") if t]
        else:
            raise DataError(f"unknown cell kind {kind!r}; choose one of: md, code, params, code:TAGS")
        cell = new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index:03d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb
