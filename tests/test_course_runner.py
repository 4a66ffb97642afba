import json

import nbformat
import pytest

import hepml_nb as hn
from hepml_nb.core.errors import NotebookExecutionError, ParameterError
from hepml_nb.course.runcard import load_run_card
from hepml_nb.course.runner import execute, prepare_run


@pytest.mark.slow
def test_run_writes_run_folder_with_any_stored_kernel_name(toy_notebooks, tmp_path):
    # the toy notebook stores kernel 'no-such-kernel': the runner must use this Python anyway
    metrics = hn.run("setup", out=tmp_path / "run", n_events=3, seed=2)
    assert metrics == {"value": pytest.approx(3 * 0.4 + 2), "n_events": 3}
    params = json.loads((tmp_path / "run" / "params.json").read_text())
    assert params["parameters"] == {"n_events": 3, "seed": 2} and params["profile"] == "default"
    assert (tmp_path / "run" / "00_setup_check.ipynb").exists()


@pytest.mark.slow
def test_run_failing_cell_names_cell_and_exception(toy_notebooks, tmp_path):
    with pytest.raises(
        NotebookExecutionError,
        match=r"cell \[\d+\] starting 'if seed < 0:' failed with "
        r"ValueError: negative seed -1",
    ):
        execute("setup", out=tmp_path / "run", seed=-1)


def test_run_rejects_unknown_parameter_before_any_work(toy_notebooks, tmp_path):
    with pytest.raises(ParameterError, match="unknown parameter 'n_evnts'.*did you mean 'n_events'"):
        hn.run("setup", out=tmp_path / "run", n_evnts=3)
    assert not (tmp_path / "run").exists()


def test_prepare_run_reads_the_notebook_once(toy_notebooks, notebook_reads):
    plan = prepare_run("setup", "ci", {"seed": 4})
    assert notebook_reads == {(toy_notebooks / "00_setup_check.ipynb").resolve(): 1}
    assert "parameters" in plan.source.cells[1].metadata["tags"]  # the node the launch executes


@pytest.mark.slow
def test_run_reads_the_notebook_once_and_its_executed_copy_only_after_a_failure(
    toy_notebooks, notebook_reads, tmp_path
):
    """issue #26: ``hepml-nb run`` checks, launches and writes the run card from one read of the notebook (today:
    five); papermill's executed notebook comes back as a node, so a run that finished reads no file back."""
    from hepml_nb.course.cli import main

    source = (toy_notebooks / "00_setup_check.ipynb").resolve()
    assert main(["run", "setup", "--profile", "ci", "--out", str(tmp_path / "ok"), "-q"]) == 0
    assert notebook_reads == {source: 1}
    card = load_run_card(tmp_path / "ok")
    assert card["seed"] == 1 and card["timing"]["kernel_s"] > 0
    assert card["timing"]["cells"][0]["first_line"] == "import hepml_nb as hn"
    notebook_reads.clear()
    with pytest.raises(NotebookExecutionError):
        execute("setup", "ci", tmp_path / "bad", seed=-1)
    assert notebook_reads == {source: 1, (tmp_path / "bad" / "00_setup_check.ipynb").resolve(): 1}
    assert load_run_card(tmp_path / "bad")["timing"]["cells"]
    executed = nbformat.read(tmp_path / "ok" / "00_setup_check.ipynb", as_version=4)
    assert executed.metadata["hepml_nb"]["run_card"]["timing"]["cells"] == card["timing"]["cells"]


def test_prepare_run_checks_a_data_file_through_one_open(tmp_path, h5_opens, root_opens):
    """issue #26: the file checks before the kernel open each data file once (the notebook then reads it
    through one open of its own, see test_calo_io and test_jets_io)."""
    from conftest import toy_showers, write_jet_file

    from hepml_nb.calo.io import write_calogan_h5

    showers = write_calogan_h5(toy_showers("calogan", 300, seed=1), tmp_path / "showers.h5")
    h5_opens.clear()
    prepare_run("calogan", "ci", {"data_path": str(showers), "n_eval": 100}, out=tmp_path / "calo")
    assert h5_opens == ["showers.h5"]
    for name in ("a.root", "b.root"):
        write_jet_file(tmp_path / name)
    root_opens.clear()
    prepare_run("particlenet", "ci", {"data_path": str(tmp_path / "*.root")}, out=tmp_path / "jets")
    assert root_opens == ["a.root", "b.root"]


def test_prepare_run_applies_profile_then_params(toy_notebooks):
    merged = prepare_run("setup", "ci", {"seed": 4}).params
    assert merged == {"n_events": 5, "seed": 4}


def test_prepare_run_unknown_profile_and_topic(toy_notebooks):
    with pytest.raises(ParameterError, match="unknown profile 'quick'; choose one of: ci, default, full"):
        prepare_run("setup", "quick")
    with pytest.raises(ParameterError, match="unknown topic 'jets'; choose one of: setup, particlenet"):
        prepare_run("jets")
