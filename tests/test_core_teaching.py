import nbformat
import pytest

from hepml_nb.core.catalog import TOPICS, notebook_path
from hepml_nb.core.errors import DataError
from hepml_nb.core.teaching import strip_solutions, student_notebook, write_student_notebooks


def test_strip_solutions_keeps_indentation_and_context():
    src = "x = 1\ndef f():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION\nprint(f())"
    assert strip_solutions(src) == ("x = 1\ndef f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
                                    "print(f())")


@pytest.mark.parametrize("src,match", [("### BEGIN SOLUTION\nx = 1", "without a matching"),
                                        ("x = 1\n### END SOLUTION", "without a BEGIN")])
def test_strip_solutions_unbalanced_markers(src, match):
    with pytest.raises(DataError, match=match):
        strip_solutions(src)


@pytest.mark.parametrize("topic", list(TOPICS))
def test_student_notebook_removes_every_solution(topic):
    path = notebook_path(topic)
    if not path.exists():
        pytest.skip(f"{path.name} not written yet")
    nb, count = student_notebook(nbformat.read(path, as_version=4))
    assert count >= (1 if topic == "setup" else 3)
    text = "\n".join(c.source for c in nb.cells)
    assert "BEGIN SOLUTION" not in text and text.count("raise NotImplementedError()") == count


def test_write_student_notebooks_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        write_student_notebooks([tmp_path / "nope.ipynb"], tmp_path / "out")


@pytest.mark.slow
def test_student_setup_notebook_still_runs(tmp_path, monkeypatch):
    """An unsolved student notebook executes to the end (nbclient honours raises-exception)."""
    from nbclient import NotebookClient

    from hepml_nb.core.runner import current_env_kernel

    (student, count), = write_student_notebooks([notebook_path("setup")], tmp_path / "student")
    nb = nbformat.read(student, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = params.source.replace("n_events = 20", "n_events = 2").replace("check_fpga = True", "check_fpga = False")
    monkeypatch.setenv("HEPML_NB_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("HEPML_NB_HEADLESS", "1")
    NotebookClient(nb, kernel_name=current_env_kernel(), timeout=300).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [e.ename for e in errors] == ["NotImplementedError", "NameError"]
    assert (tmp_path / "run" / "metrics.json").exists()  # the last cell ran


def test_notebook_from_cells_kinds_and_tags():
    from hepml_nb.core.teaching import notebook_from_cells

    nb = notebook_from_cells([("md", "# t"), ("code", "import x"), ("params", "a = 1  # a"),
                              ("code:raises-exception,x", "1/0")])
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code", "code"]
    assert nb.cells[2].metadata["tags"] == ["parameters"]
    assert nb.cells[3].metadata["tags"] == ["raises-exception", "x"]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    with pytest.raises(DataError, match="unknown cell kind 'raw'"):
        notebook_from_cells([("raw", "x")])


def test_notebook_from_cells_ids_are_stable():
    from hepml_nb.core.teaching import notebook_from_cells

    cells = [("md", "# t"), ("code", "x = 1")]
    assert [c.id for c in notebook_from_cells(cells).cells] == [c.id for c in notebook_from_cells(cells).cells]
