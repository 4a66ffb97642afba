import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.course.sweep import format_rows, sweep, sweep_grid


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


@pytest.mark.slow
def test_sweep_failed_run_does_not_stop_others(toy_notebooks, tmp_path):
    rows = sweep("setup", {"seed": ["2", "-1"]}, out=tmp_path, n_workers=2)
    assert [r["status"] for r in rows] == ["ok", "failed"]
    assert rows[0]["metrics"]["value"] == pytest.approx(20 * 0.4 + 2)
    assert "negative seed" in rows[1]["error"]
    table = format_rows(rows)
    assert "seed=2  ok" in table and "seed=-1  FAILED" in table
