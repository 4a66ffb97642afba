import json

import pytest

import hepml_nb as hn
from hepml_nb.core.errors import NotebookExecutionError, ParameterError
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


def test_prepare_run_applies_profile_then_params(toy_notebooks):
    merged = prepare_run("setup", "ci", {"seed": 4}).params
    assert merged == {"n_events": 5, "seed": 4}


def test_prepare_run_unknown_profile_and_topic(toy_notebooks):
    with pytest.raises(ParameterError, match="unknown profile 'quick'; choose one of: ci, default, full"):
        prepare_run("setup", "quick")
    with pytest.raises(ParameterError, match="unknown topic 'jets'; choose one of: setup, particlenet"):
        prepare_run("jets")
