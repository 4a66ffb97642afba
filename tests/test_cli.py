import json

import pytest

from hepml_nb.core.results import flatten_metrics
from hepml_nb.course.cli import main


def test_list_shows_every_topic(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for key in ("setup", "particlenet", "qml", "calogan", "fpga"):
        assert key in out


def test_params_shows_defaults_help_and_profiles(capsys):
    assert main(["params", "setup"]) == 0
    out = capsys.readouterr().out
    assert "n_events" in out and "Pythia8" in out and "profile ci: n_events=5" in out


def test_run_unknown_parameter_exits_2_with_one_paragraph(toy_notebooks, capsys, tmp_path):
    assert main(["run", "setup", "-p", "no_such_param", "1", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'no_such_param'" in err and "valid parameters: n_events" in err
    assert "Traceback" not in err and not (tmp_path / "r").exists()


def test_run_non_integer_value_exits_2(toy_notebooks, capsys):
    assert main(["run", "setup", "-p", "n_events", "ten"]) == 2
    assert "parameter 'n_events' expects an integer (default 20), got 'ten'" in capsys.readouterr().err


@pytest.mark.slow
def test_run_failing_cell_exits_nonzero_and_names_cell(toy_notebooks, capsys, tmp_path):
    assert main(["run", "setup", "-q", "-p", "seed", "-1", "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "failed with ValueError: negative seed -1" in err and "cell source" in err


def test_student_all_writes_every_notebook(tmp_path, capsys):
    assert main(["student", "setup", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "00_setup_check.ipynb").exists()
    assert "exercise cells" in capsys.readouterr().out


def test_student_missing_notebook_exits_2(tmp_path, capsys):
    assert main(["student", str(tmp_path / "x.ipynb"), "--out", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err


def test_flatten_metrics_nested_scalars_only():
    assert flatten_metrics({"a": {"b": 1, "c": [1, 2]}, "d": "x"}) == {"a.b": 1, "d": "x"}


# --- issue 22: a refused value exits 2 and creates no run folder (no kernel, nothing half-written)


@pytest.mark.parametrize(
    "topic,name,value,message",
    [
        ("qml", "device_backend", "fake:\udcff", "not UTF-8"),
        ("qml", "mass_window", "[True, 'x', None, {}]", "'mass_window' expects a list of numbers"),
        ("fpga", "reference_precision", "ap_fixed<16,\n6>", "'reference_precision' got"),
        ("particlenet", "n_jets_per_class", "1000000000000", "would need about"),
    ],
)
def test_run_refused_value_exits_2_and_writes_nothing(topic, name, value, message, tmp_path, capsys, monkeypatch):
    import papermill

    started = []
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: started.append(a) or 1 / 0)
    assert main(["run", topic, "--profile", "ci", "-p", name, value, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not started and not (tmp_path / "r").exists()


@pytest.mark.slow
def test_run_under_a_memory_limit_below_its_need_says_so(tmp_path, capsys):
    # the setup notebook's kernel needs more than 300 MiB once torch and qiskit are imported
    status = main(["run", "setup", "--profile", "ci", "-q", "--memory-limit", "300", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 1
    assert "above the memory limit of 300 MiB, so it was stopped" in err and "--profile ci" in err
    assert json.loads((tmp_path / "run" / "status.json").read_text())["status"] == "failed"


@pytest.mark.slow
def test_run_prints_the_headline_and_where_every_metric_is(toy_notebooks, capsys, tmp_path, monkeypatch):
    from dataclasses import replace

    from hepml_nb.core.topics import Headline
    from hepml_nb.course import catalog

    setup = replace(catalog.TOPICS["setup"], headline=(Headline("n", "n_events"),))
    monkeypatch.setattr(catalog, "TOPICS", {**catalog.TOPICS, "setup": setup})
    assert main(["run", "setup", "-q", "-p", "n_events", "3", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "  n: 3\n" in out and f"every metric: {tmp_path / 'run' / 'metrics.json'}" in out and "value" not in out


def test_headline_lines_give_uncertainties_intervals_and_every_tagger():
    from hepml_nb.core.topics import Headline
    from hepml_nb.course.cli import headline_lines

    metrics = {"auc_a": 0.9, "auc_err_a": 0.01, "rej50_b": 20.0, "rej50_low_b": 15.0, "rej50_high_b": None, "x": 1}
    lines = headline_lines(
        (
            Headline("AUC", "auc_*", error="auc_err_*"),
            Headline("R50", "rej50_*", low="rej50_low_*", high="rej50_high_*"),
        ),
        metrics,
    )
    assert lines == ["  AUC (a): 0.9 +- 0.01", "  R50 (b): 20 [15, inf]"]
