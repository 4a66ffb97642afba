"""Student builds: solution regions become ``name = None  # YOUR CODE HERE`` stubs that keep a notebook running."""

import ast
import glob
import json
from pathlib import Path

import nbformat
import pytest

from hepml_nb.core.errors import DataError
from hepml_nb.course.catalog import notebook_path, notebooks_dir
from hepml_nb.course.teaching import solution_names, strip_solutions, student_notebook, write_student_notebooks

ALL_NOTEBOOKS = sorted(Path(p) for p in glob.glob(str(notebooks_dir() / "*.ipynb")))


def _region(body: str, indent: str = "") -> str:
    return f"{indent}### BEGIN SOLUTION\n{body}\n{indent}### END SOLUTION"


def test_strip_solutions_stubs_each_assigned_name_with_indentation():
    src = "x = 1\ndef f():\n" + _region("    a, (b, *c) = 1, (2, 3)\n    d += 1\n    e: int = 2\n    return a", "    ")
    assert strip_solutions(src + "\nprint(f())") == (
        "x = 1\ndef f():\n    a = None  # YOUR CODE HERE\n    b = None  # YOUR CODE HERE\n"
        "    c = None  # YOUR CODE HERE\n    d = None  # YOUR CODE HERE\n    e = None  # YOUR CODE HERE\n"
        "print(f())"
    )


def test_strip_solutions_without_assignment_keeps_a_pass():
    src = "def f():\n" + _region("    return 2", "    ") + "\nprint(f())"
    assert strip_solutions(src) == "def f():\n    # YOUR CODE HERE\n    pass\nprint(f())"
    assert strip_solutions(_region("print(1)")) == "# YOUR CODE HERE\npass"


def test_solution_names_scope_rules():
    solution = """
for i, row in enumerate(rows):
    if row:
        total = row
    else:
        total = 0
with open(p) as fh:
    text = fh.read()
def helper(v):
    inner = v
    return inner
class Answer:
    field = 1
import math
from os import path
squares = [k * k for k in range(3)]
fpr, tpr, _ = roc_curve(y, s)
if (n := len(rows)) > 2:
    pass
try:
    value = 1
except ValueError:
    value = 2
obj.attr = 3
table[0] = 4
annotated_only: int
match rows:
    case [first, *_]:
        head = first
"""
    assert solution_names(solution) == [
        "i",
        "row",
        "total",
        "fh",
        "text",
        "helper",
        "Answer",
        "squares",
        "fpr",
        "tpr",
        "n",
        "value",
        "head",
    ]


def test_strip_solutions_several_regions_and_names_once():
    src = _region("x = 1\nx = x + 1") + "\nprint(x)\n" + _region("y = 2")
    assert strip_solutions(src) == "x = None  # YOUR CODE HERE\nprint(x)\ny = None  # YOUR CODE HERE"


@pytest.mark.parametrize(
    "src,match",
    [
        ("### BEGIN SOLUTION\nx = 1", "line 1: .*without a matching"),
        ("x = 1\n### END SOLUTION", "line 2: .*without a BEGIN"),
        ("### BEGIN SOLUTION\nx = (1,\n### END SOLUTION", "line 2: .*not valid Python"),
    ],
)
def test_strip_solutions_bad_regions(src, match):
    with pytest.raises(DataError, match=match):
        strip_solutions(src)


def _compile_cell(source: str, name: str) -> None:
    from IPython.core.inputtransformer2 import TransformerManager

    compile(TransformerManager().transform_cell(source), name, "exec")


def _checker_answer(source: str) -> str | None:
    """Name passed as the first argument of the ``check_*`` call in a cell, if any."""
    for node in ast.walk(ast.parse(source)):
        is_check = isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")).startswith(
            "check_"
        )
        if is_check and node.args and isinstance(node.args[0], ast.Name):
            return node.args[0].id
    return None


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_student_build_of_every_notebook(path):
    """Every solution is stubbed, every exercise cell compiles, and its checker gets a stubbed (None) answer."""
    solved = nbformat.read(path, as_version=4)
    nb, count = student_notebook(solved)
    assert count >= (1 if path.name.startswith("00_") else 3)
    code = [c for c in nb.cells if c.cell_type == "code"]
    exercises = [i for i, c in enumerate(solved.cells) if c.cell_type == "code" and "BEGIN SOLUTION" in c.source]
    assert len(exercises) == count
    text = "\n".join(c.source for c in nb.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text and "NotImplementedError" not in text
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert [c.metadata.get("tags") for c in nb.cells] == [c.metadata.get("tags") for c in solved.cells]
    for index, cell in enumerate(code):
        if "# YOUR CODE HERE" not in cell.source:
            continue
        _compile_cell(cell.source, f"{path.name} code cell {index}")
        checked = next((_checker_answer(c.source) for c in code[index : index + 2] if _checker_answer(c.source)), None)
        assert checked is not None, f"{path.name} code cell {index}: no checker call after the exercise"
        assert f"{checked} = None  # YOUR CODE HERE" in cell.source


def test_write_student_notebooks_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        write_student_notebooks([tmp_path / "nope.ipynb"], tmp_path / "out")


def _student_setup(tmp_path: Path) -> Path:
    ((student, count),) = write_student_notebooks([notebook_path("setup")], tmp_path / "student")
    assert count == 1
    return student


def _assert_ran_to_the_end_unattempted(nb, run: Path) -> None:
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "Not attempted yet" in text and "Incorrect" not in text
    assert json.loads((run / "exercises.json").read_text())[0]["verdict"] == "not attempted"
    assert (run / "metrics.json").exists()  # the last cell ran


SMALL_SETUP = {"n_events": 2, "check_fpga": False, "fail_on_error": False}


@pytest.mark.slow
def test_student_setup_notebook_runs_under_papermill(tmp_path):
    """papermill (through the runner's student mode) stops at the first error whatever the tags say."""
    from hepml_nb.course.runner import execute

    result = execute("setup", "ci", tmp_path / "run", student=True, **SMALL_SETUP)
    executed = nbformat.read(result.run_dir / notebook_path("setup").name, as_version=4)
    _assert_ran_to_the_end_unattempted(executed, result.run_dir)


@pytest.mark.slow
def test_student_setup_notebook_runs_under_nbclient(tmp_path):
    from nbclient import NotebookClient

    from hepml_nb.course.kernel import kernel_sandbox

    nb = nbformat.read(_student_setup(tmp_path), as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in SMALL_SETUP.items())
    (tmp_path / "run").mkdir()
    with kernel_sandbox(env={"HEPML_NB_RUN_DIR": str(tmp_path / "run"), "HEPML_NB_HEADLESS": "1"}) as box:
        client = NotebookClient(nb, kernel_name=box.kernel_name, kernel_manager_class=box.manager_class(), timeout=300)
        client.execute()
    _assert_ran_to_the_end_unattempted(nb, tmp_path / "run")
