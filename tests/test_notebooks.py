"""Every catalogued notebook: committed without outputs, follows the contract, runs in the ci profile,
and its ``# NBVAL_CHECK_OUTPUT`` cells reproduce on re-execution (nbval)."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from hepml_nb.course.catalog import PROFILES, TOPICS, notebook_path, notebooks_dir
from hepml_nb.course.params import read_parameters
from hepml_nb.course.runner import prepare_run

HERE = Path(__file__).parent
ALL_NOTEBOOKS = sorted(notebooks_dir().glob("*.ipynb"))


def _existing(topic):
    if not notebook_path(topic).exists():
        pytest.skip(f"{TOPICS[topic].notebook} not written yet")
    return notebook_path(topic)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_catalogued(path):
    assert path.name in {t.notebook for t in TOPICS.values()}


@pytest.mark.parametrize("topic", list(TOPICS))
def test_notebook_contract_parameters_cell(topic):
    nb = nbformat.read(_existing(topic), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[1].metadata.get("tags", []), "the second code cell must be tagged 'parameters'"
    assert "import hepml_nb" in code[0].source
    params = read_parameters(notebook_path(topic))
    assert "seed" in params
    assert all(p.help for p in params.values()), "every parameter needs a one-line comment"
    assert any("NBVAL_CHECK_OUTPUT" in c.source for c in code), "mark a deterministic cell for nbval"
    assert any("record_metrics" in c.source for c in code)


@pytest.mark.parametrize("topic", list(TOPICS))
@pytest.mark.parametrize("profile", PROFILES)
def test_catalog_profiles_are_valid_parameters(topic, profile):
    _existing(topic)
    prepare_run(topic, profile)


@pytest.mark.slow
@pytest.mark.parametrize("topic", list(TOPICS))
def test_notebook_runs_in_ci_profile(topic, ci_run):
    _existing(topic)
    folder, metrics = ci_run(topic)
    assert metrics, "the notebook recorded no metrics"
    assert (folder / "params.json").exists() and (folder / TOPICS[topic].notebook).exists()


@pytest.mark.slow
@pytest.mark.parametrize("topic", list(TOPICS))
def test_notebook_reproduces_under_nbval(topic, ci_run, tmp_path):
    _existing(topic)
    folder, _ = ci_run(topic)
    env = dict(os.environ, HEPML_NB_RUN_DIR=str(tmp_path), HEPML_NB_HEADLESS="1", MPLBACKEND="Agg")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval-lax",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(HERE / "nbval_sanitize.cfg"),
        "--rootdir",
        str(tmp_path),
        "-c",
        os.devnull,
        str(folder / TOPICS[topic].notebook),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("topic", list(TOPICS))
def test_notebook_solutions_pass_their_checkers(topic, ci_run):
    """Every exercise's checker ran with the notebook's own solution and recorded "correct"."""
    from hepml_nb.core.exercises import load_verdicts
    from hepml_nb.course.teaching import student_notebook

    _, count = student_notebook(nbformat.read(_existing(topic), as_version=4))
    folder, _ = ci_run(topic)
    verdicts = load_verdicts(folder)
    assert len(verdicts) == count, verdicts
    assert all(v["verdict"] == "correct" for v in verdicts), verdicts
