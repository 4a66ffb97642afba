"""Run cards (hepml_nb.course.runcard) and `hepml-nb list --runs`."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from hepml_nb.course.runcard import (
    RUN_CARD_FILE,
    cell_timings,
    device_info,
    format_runs,
    list_runs,
    load_run_card,
    package_versions,
    run_card,
    source_version,
    write_run_card,
)


def _executed_notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"duration": 3.5}
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    cells = [("import hepml_nb as hn", 1.25), ("seed = 7  # seed", 0.5)]
    for source, seconds in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["papermill"] = {"duration": seconds, "status": "completed"}
        nb.cells.append(cell)
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.cells.append(nbformat.v4.new_markdown_cell("text"))
    nbformat.write(nb, path)
    return path


@pytest.fixture
def run_folder(tmp_path):
    folder = tmp_path / "runs" / "setup" / "r1"
    folder.mkdir(parents=True)
    (folder / "params.json").write_text(json.dumps({"topic": "setup", "profile": "ci", "parameters": {"n": 5}}))
    (folder / "status.json").write_text(json.dumps({"status": "ok"}))
    (folder / "metrics.json").write_text(json.dumps({"n_checks": 3, "roc": {"auc": 0.91}, "name": "x"}))
    return folder, _executed_notebook(folder / "00_setup_check.ipynb")


def test_package_versions_reads_metadata_without_importing():
    before = set(sys.modules)
    versions = package_versions(("numpy", "no-such-distribution-xyz"))
    assert versions["numpy"] and versions["no-such-distribution-xyz"] is None
    assert "no_such_distribution_xyz" not in set(sys.modules) - before


def test_source_version_has_version_and_commit_or_none():
    source = source_version()
    assert source["version"] and (source["commit"] is None or len(source["commit"]) == 40)


def test_device_info_does_not_import_torch():
    code = (
        "import sys; from hepml_nb.course.runcard import device_info; d = device_info(); print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    info = device_info()
    assert info["logical_cpus"] >= 1 and info["cpu_model"] and isinstance(info["gpus"], list)


def test_cell_timings_from_papermill_metadata(run_folder):
    _, nb_path = run_folder
    rows = cell_timings(nbformat.read(nb_path, as_version=4))
    assert [(r["cell"], r["first_line"], r["seconds"]) for r in rows] == [
        (0, "import hepml_nb as hn", 1.25),
        (1, "seed = 7  # seed", 0.5),
    ]


def test_peak_child_memory_is_exact_only_when_it_grew():
    # in a fresh process: RUSAGE_CHILDREN keeps the largest child of the whole test session otherwise
    code = (
        "import subprocess, sys\n"
        "from hepml_nb.course.runcard import peak_child_memory\n"
        "first = peak_child_memory()\n"
        "subprocess.run([sys.executable, '-c', 'x = bytearray(400_000_000)'], check=True)\n"
        "grown, again = peak_child_memory(), peak_child_memory()\n"
        "assert grown['peak_rss_mib'] >= 380 and grown['peak_rss_mib'] >= first['peak_rss_mib'], grown\n"
        "assert grown['exact'] and not again['exact'], (grown, again)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_run_card_records_seed_profile_timing_and_versions(run_folder):
    folder, nb_path = run_folder
    card = run_card(folder, nbformat.read(nb_path, as_version=4))
    assert (card["topic"], card["profile"], card["seed"]) == ("setup", "ci", 7)  # seed: the notebook's default
    assert card["timing"]["kernel_s"] == 3.5 and len(card["timing"]["cells"]) == 2
    assert card["timing"]["wall_s"] >= 0 and card["packages"]["numpy"]
    assert "RUSAGE_CHILDREN" in card["memory"]["measures"]


def test_write_run_card_writes_folder_and_notebook_metadata(run_folder):
    folder, nb_path = run_folder
    write_run_card(folder, nb_path)
    assert load_run_card(folder)["topic"] == "setup"
    assert nbformat.read(nb_path, as_version=4).metadata["hepml_nb"]["run_card"]["profile"] == "ci"


def test_write_run_card_reads_the_executed_notebook_only_when_not_given(run_folder, notebook_reads):
    folder, nb_path = run_folder
    nb = nbformat.reads(nb_path.read_text(), as_version=4)  # as papermill returns it
    assert write_run_card(folder, nb_path, nb=nb)["timing"]["kernel_s"] == 3.5
    assert notebook_reads == {}
    assert write_run_card(folder, nb_path)["seed"] == 7 and notebook_reads == {nb_path.resolve(): 1}
    nb_path.write_text("{not json")  # a kernel killed while papermill saved
    assert "cannot read" in write_run_card(folder, nb_path)["timing"]["error"]


def test_write_run_card_never_raises(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert write_run_card(blocker / "run") is None
    assert "run card" in capsys.readouterr().err


def test_list_runs_and_format_runs(run_folder, tmp_path):
    folder, nb_path = run_folder
    write_run_card(folder, nb_path)
    rows = list_runs(tmp_path / "runs")
    assert [(r["path"], r["topic"], r["status"]) for r in rows] == [("setup/r1", "setup", "ok")]
    assert list(rows[0]["metrics"]) == ["roc.auc", "n_checks"]
    table = format_runs(rows)
    assert table.splitlines()[0].startswith("run") and "roc.auc=0.91" in table


def test_list_runs_command(run_folder, tmp_path, capsys):
    from hepml_nb.course.cli import main

    assert main(["list", "--runs", str(tmp_path / "runs")]) == 0
    assert "setup/r1" in capsys.readouterr().out
    assert main(["list", "--runs", str(tmp_path / "nope")]) == 2
    assert "no run folder" in capsys.readouterr().err


@pytest.mark.slow
def test_execute_writes_run_card_on_success_and_failure(toy_notebooks, tmp_path):
    from hepml_nb.core.errors import NotebookExecutionError
    from hepml_nb.course.runner import execute

    result = execute("setup", "ci", tmp_path / "ok")
    card = load_run_card(result.run_dir)
    assert card["profile"] == "ci" and card["seed"] == 1 and card["memory"]["peak_tree_mib"] > 0
    assert card["timing"]["cells"][0]["first_line"] == "import hepml_nb as hn"
    executed = nbformat.read(result.run_dir / "00_setup_check.ipynb", as_version=4)
    assert executed.metadata["hepml_nb"]["run_card"]["topic"] == "setup"
    with pytest.raises(NotebookExecutionError):
        execute("setup", "ci", tmp_path / "bad", seed=-1)
    assert (tmp_path / "bad" / RUN_CARD_FILE).exists()


@pytest.mark.slow
def test_run_card_memory_counts_every_process_of_the_kernel_and_each_cell(toy_notebooks, tmp_path):
    import sys

    from conftest import write_notebook

    from hepml_nb.course.runner import execute

    child = "import numpy as np, time; a = np.ones(40 * 2**20); time.sleep(3)"  # 320 MiB in a child process
    write_notebook(
        toy_notebooks / "00_setup_check.ipynb",
        "n_events = 20  # events\njet_radius = 0.4  # radius\nseed = 1  # seed",
        "x = 1",
        f"import subprocess\nsubprocess.run([{sys.executable!r}, '-c', {child!r}], check=True)",
        "y = 2",
    )
    card = load_run_card(execute("setup", out=tmp_path / "run").run_dir)
    memory = card["memory"]
    assert memory["peak_tree_rss_mib"] - memory["peak_kernel_mib"] > 250 and memory["peak_tree_mib"] > 400
    children = [p for p in memory["at_peak"] if "ipykernel" not in p["command"]]
    assert any(p["command"].startswith("python -c import numpy") and p["pss_mib"] > 300 for p in children)
    peaks = {c["first_line"]: c["peak_mib"] for c in card["timing"]["cells"]}
    assert peaks["import subprocess"] == max(peaks.values()) and peaks["import subprocess"] > peaks["y = 2"] + 250
