import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.course.sweep import format_rows, sweep, sweep_grid, sweep_plans


def test_sweep_grid_is_cartesian_product():
    assert sweep_grid({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]


def test_sweep_grid_needs_values():
    with pytest.raises(ParameterError, match="has no values"):
        sweep_grid({"a": []})
    with pytest.raises(ParameterError, match="at least one parameter"):
        sweep_grid({})


def test_sweep_validates_before_starting_cluster(toy_notebooks):
    with pytest.raises(ParameterError, match="expects an integer"):
        sweep("setup", {"n_events": ["3", "x"]})


def test_sweep_plans_read_the_notebook_once(toy_notebooks, notebook_reads, tmp_path):
    """issue #26: every point of a sweep is checked before the cluster starts, from one read of the notebook."""
    plans = sweep_plans("setup", sweep_grid({"seed": ["1", "2", "3"]}), profile="ci", out=tmp_path)
    assert notebook_reads == {(toy_notebooks / "00_setup_check.ipynb").resolve(): 1}
    assert [p.params for p in plans] == [{"n_events": 5, "seed": s} for s in (1, 2, 3)]
    assert [p.folder for p in plans] == [(tmp_path / f"seed={s}").resolve() for s in (1, 2, 3)]


@pytest.mark.slow
def test_sweep_failed_run_does_not_stop_others(toy_notebooks, tmp_path):
    rows = sweep("setup", {"seed": ["2", "-1"]}, out=tmp_path, n_workers=2)
    assert [r["status"] for r in rows] == ["ok", "failed"]
    assert rows[0]["metrics"]["value"] == pytest.approx(20 * 0.4 + 2)
    assert "negative seed" in rows[1]["error"]
    table = format_rows(rows)
    assert "seed=2  ok" in table and "seed=-1  FAILED" in table
