"""Regression tests of the security and robustness review (issue #10): kernelspecs, parameter
injection, file modes of shared caches, unwritable caches, leftovers and run status."""

import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import write_notebook

from hepml_nb.core.cache import cached_arrays, cached_file
from hepml_nb.core.errors import NotebookExecutionError, OutputError, ParameterError
from hepml_nb.core.results import TMP_TAG, atomic_output, remove_stale_temporaries
from hepml_nb.course.cli import main
from hepml_nb.course.kernel import KERNEL_NAME
from hepml_nb.course.params import check_injection, read_parameters, validate_parameters
from hepml_nb.course.runner import execute, read_status

INJECTION = '(\'"; import pathlib; pathlib.Path(MARKER).write_text("pwned"); x="\',)'


@pytest.fixture
def path_notebook(tmp_path, monkeypatch):
    """A 'setup' notebook with an untyped path parameter (like the topics' data_path)."""
    folder = tmp_path / "notebooks"
    write_notebook(
        folder / "00_setup_check.ipynb",
        "n_events = 2  # events\njet_radius = 0.4  # radius\ndata_path = None  # input files\nseed = 1  # seed",
        "hn.record_metrics(data_path=data_path, kind=type(data_path).__name__)",
    )
    monkeypatch.setenv("HEPML_NB_NOTEBOOKS", str(folder))
    return folder


def _as_nobody(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a Python child that drops root to uid/gid 65534 (nobody) after its imports.

    (The interpreter may live in root's home, unreadable by nobody: import first, then switch.)
    """
    pre = (
        "import os, zipfile, encodings.cp437, numpy, numpy.lib.format\n"
        "from hepml_nb.core.cache import cached_arrays, cached_file\n"
        "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", pre + code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def shared_tmp():
    """A folder another user can traverse (pytest's tmp_path sits below an owner-only folder)."""
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="hepml-nb-shared-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="switching to another user needs root"
)


# 1. kernelspec hijack ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_planted_kernelspecs_in_shared_temp_are_not_used(toy_notebooks, tmp_path, monkeypatch):
    marker = tmp_path / "hijacked"
    evil = {
        "argv": [sys.executable, "-c", f"open({str(marker)!r}, 'w').write('x')"],
        "display_name": "evil",
        "language": "python",
    }
    import hashlib

    old_name = f"hepml-nb-{hashlib.sha1(sys.executable.encode()).hexdigest()[:10]}"
    shared = Path(tempfile.gettempdir())
    planted = [
        shared / f"hepml-nb-jupyter-{os.getuid()}" / "kernels" / old_name / "kernel.json",
        tmp_path / "shared-jupyter" / "kernels" / KERNEL_NAME / "kernel.json",
    ]
    for path in planted:  # the old predictable path, and a same-named spec on the user's JUPYTER_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(evil))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "shared-jupyter"))
    try:
        result = execute("setup", out=tmp_path / "run", n_events=3)
    finally:
        planted[0].unlink()
    assert not marker.exists() and result.metrics["n_events"] == 3
    assert os.environ["JUPYTER_PATH"] == str(tmp_path / "shared-jupyter")  # the caller's environment untouched


# 2. code injection through parameter values --------------------------------------------------------------------


def test_injection_payload_stays_a_string(path_notebook, tmp_path):
    params = read_parameters(path_notebook / "00_setup_check.ipynb")
    value = validate_parameters(params, {"data_path": INJECTION})["data_path"]
    assert isinstance(value, list) and len(value) == 1 and "import pathlib" in value[0]
    check_injection({"data_path": value})  # papermill writes it back as the same literal


@pytest.mark.slow
def test_injection_payload_runs_no_code(path_notebook, tmp_path):
    marker = tmp_path / "pwned"
    payload = INJECTION.replace("MARKER", json.dumps(str(marker)))
    result = execute("setup", out=tmp_path / "run", data_path=payload)
    assert not marker.exists()
    recorded = json.loads((tmp_path / "run" / "params.json").read_text())["parameters"]["data_path"]
    assert result.metrics["data_path"] == recorded and result.metrics["kind"] == "list"


@pytest.mark.parametrize("value", ["{'a.root', 'b.root'}", {"a.root"}, object(), b"bytes", float("nan"), "{1: 'x'}"])
def test_non_json_values_are_rejected(path_notebook, value):
    params = read_parameters(path_notebook / "00_setup_check.ipynb")
    with pytest.raises(ParameterError, match="parameter 'data_path'"):
        validate_parameters(params, {"data_path": value})


@pytest.mark.parametrize("value", ["('a.root', 'b.root')", ("a.root", "b.root"), ["a.root", "b.root"]])
def test_tuple_of_paths_becomes_a_list_not_a_string(path_notebook, value):
    params = read_parameters(path_notebook / "00_setup_check.ipynb")
    assert validate_parameters(params, {"data_path": value}) == {"data_path": ["a.root", "b.root"]}


def test_set_literal_on_command_line_exits_2_without_traceback(path_notebook, tmp_path, capsys):
    assert main(["run", "setup", "-p", "data_path", "{'a', 'b'}", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "type set" in err and "Traceback" not in err and not (tmp_path / "r").exists()


# 3. modes of caches and results --------------------------------------------------------------------------------


def test_atomic_output_applies_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
        os.umask(0o007)
        with atomic_output(tmp_path / "b.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o660


@needs_root
def test_warmed_cache_is_readable_by_another_user(shared_tmp, monkeypatch):
    cache = shared_tmp / "shared-cache"
    monkeypatch.setenv("HEPML_NB_CACHE", str(cache))
    old = os.umask(0o022)
    try:
        cached_arrays("toy", {"n": 4}, "1", lambda: {"x": np.arange(4)})
    finally:
        os.umask(old)
    code = (
        "from hepml_nb.core.cache import cached_arrays\n"
        "def fail():\n    raise SystemExit('rebuilt: the warmed entry was not readable')\n"
        "print(cached_arrays('toy', {'n': 4}, '1', fail)['x'].sum())"
    )
    proc = _as_nobody(code, {"HEPML_NB_CACHE": str(cache)})
    assert proc.returncode == 0 and proc.stdout.strip() == "6", proc.stderr


# 6. unwritable cache -------------------------------------------------------------------------------------------


def test_unwritable_cache_names_folder_and_variable(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HEPML_NB_CACHE", str(blocker / "cache"))
    with pytest.raises(OutputError, match=r"cannot create the data cache folder .*a-file/cache.*HEPML_NB_CACHE"):
        cached_file("toy", {"n": 1}, "1", lambda p: p.write_text("x"))


@needs_root
def test_read_only_cache_serves_entries_and_explains_missing_ones(shared_tmp, monkeypatch):
    cache = shared_tmp / "ro-cache"
    monkeypatch.setenv("HEPML_NB_CACHE", str(cache))
    cached_file("toy", {"n": 1}, "1", lambda p: p.write_text("warm"), suffix=".txt")
    for path in [cache, *cache.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    code = (
        "from hepml_nb.core.cache import cached_file\n"
        "print(open(cached_file('toy', {'n': 1}, '1', None, suffix='.txt')).read())\n"
        "try:\n    cached_file('toy', {'n': 2}, '1', lambda p: p.write_text('x'), suffix='.txt')\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)"
    )
    proc = _as_nobody(code, {"HEPML_NB_CACHE": str(cache)})
    out = proc.stdout.splitlines()
    assert proc.returncode == 0 and out[0] == "warm", proc.stderr
    assert out[1].startswith("OutputError") and str(cache / "toy") in out[1] and "HEPML_NB_CACHE" in out[1]


# 8. leftovers --------------------------------------------------------------------------------------------------


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path, monkeypatch):
    import socket

    monkeypatch.setenv("HEPML_NB_CACHE", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    folder = tmp_path / "toy"
    folder.mkdir()
    stale = folder / f".abc.npz.{TMP_TAG}-{host}-{int(dead.stdout)}-x1y2.tmp.npz"
    alive = folder / f".abc.npz.{TMP_TAG}-{host}-{os.getpid()}-z3.tmp.npz"
    foreign = folder / f".abc.npz.{TMP_TAG}-otherhost-{int(dead.stdout)}-q.tmp.npz"
    for path in (stale, alive, foreign):
        path.touch()
    assert remove_stale_temporaries(folder) == [stale]
    cached_arrays("toy", {"n": 1}, "1", lambda: {"x": np.zeros(1)})  # a build cleans the folder too
    assert alive.exists() and foreign.exists() and not stale.exists()


def test_concurrent_builders_of_one_key_build_once(tmp_path, monkeypatch):
    monkeypatch.setenv("HEPML_NB_CACHE", str(tmp_path))
    calls = []

    def build(path):
        calls.append(threading.get_ident())
        time.sleep(0.5)
        path.write_text("built")

    paths = []
    threads = [
        threading.Thread(target=lambda: paths.append(cached_file("toy", {"n": 1}, "1", build))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(set(paths)) == 1 and paths[0].read_text() == "built"


@pytest.mark.slow
def test_failed_run_folder_is_marked_failed(toy_notebooks, tmp_path):
    with pytest.raises(NotebookExecutionError) as info:
        execute("setup", out=tmp_path / "run", seed=-1)
    status = read_status(tmp_path / "run")
    assert status["status"] == "failed" and status["cell_first_line"] == "if seed < 0:"
    assert status["error"] == "ValueError: negative seed -1"
    # the execution count in the message is the one the executed notebook shows for that cell
    import nbformat

    nb = nbformat.read(tmp_path / "run" / "00_setup_check.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.get("execution_count") == status["cell"])
    assert cell.source.startswith("if seed < 0:") and f"[{status['cell']}]" in str(info.value)
    execute("setup", out=tmp_path / "run", n_events=2)
    assert read_status(tmp_path / "run")["status"] == "ok"


# 7. value checks before any kernel starts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv,match",
    [
        (["particlenet", "-p", "epochs", "-1"], r"parameter 'epochs' got -1; allowed: 0 to 1000"),
        (
            ["particlenet", "-p", "taggers", "['particlenet', 'bdt']"],
            r"parameter 'taggers' got 'bdt'; allowed: each one of: particlenet_lite, particlenet, part_small, part",
        ),
        (["particlenet", "-p", "n_jets_per_class", "0"], r"parameter 'n_jets_per_class' got 0; allowed: 10 to 1e\+06"),
        (["particlenet", "-p", "baseline_kind", "svm"], r"allowed: one of: bdt, mlp"),
        (["particlenet", "-p", "device", "gpu"], r"device 'gpu' is not a device name"),
        (["qml", "-p", "backgrounds", "['zz']"], r"parameter 'backgrounds' got 'zz'; allowed: each one of: gammagamma"),
        (["qml", "-p", "entanglement", "star"], r"allowed: one of: full, linear, reverse_linear, circular"),
        (["calogan", "-p", "n_eval", "-5"], r"parameter 'n_eval' got -5"),
        (
            ["fpga", "-p", "reference_precision", "ap_fixed<16>"],
            r"'ap_fixed<16>'; allowed: an hls4ml type such as ap_fixed<16,6>",
        ),
        (["fpga", "-p", "reuse_factors", "[1, 0]"], r"parameter 'reuse_factors' got 0; allowed: each >= 1"),
        (["fpga", "-p", "strategy", "latency"], r"allowed: one of: Latency, Resource"),
    ],
)
def test_bad_values_exit_2_before_any_kernel(argv, match, tmp_path, capsys):
    import re

    assert main(["run", *argv, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err
    assert "Traceback" not in err and not (tmp_path / "r").exists()


def test_params_command_shows_allowed_values(capsys):
    assert main(["params", "particlenet"]) == 0
    out = capsys.readouterr().out
    assert "one of: particlenet_lite, particlenet" in out and ">= 0" in out


# 4. input files checked before any kernel starts ------------------------------------------------------------------


def test_bad_data_paths_exit_2_naming_the_file(tmp_path, capsys):
    text = tmp_path / "notes.root"
    text.write_text("not a ROOT file")
    cases = [
        (["particlenet", "-p", "data_path", str(tmp_path / "none" / "*.root")], "matches no file"),
        (["particlenet", "-p", "data_path", str(text)], "notes.root"),
        (["calogan", "-p", "data_path", str(tmp_path / "missing.h5")], "missing.h5 not found"),
    ]
    for argv, match in cases:
        assert main(["run", *argv, "--out", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err
        assert match in err and "parameter 'data_path'" in err and "Traceback" not in err, err
        assert not (tmp_path / "r").exists()


def test_shower_file_with_too_few_showers_for_n_eval_exits_2(tmp_path, capsys):
    from hepml_nb.calo.data import ShowerSet
    from hepml_nb.calo.io import write_calogan_h5

    rng = np.random.default_rng(1)
    cells = rng.exponential(1.0, size=(12, 3 * 96 + 12 * 12 + 12 * 6)).astype(np.float32) * 20.0
    path = write_calogan_h5(ShowerSet(cells.sum(axis=1) / 1000.0, cells, "calogan"), tmp_path / "small.h5")
    assert (
        main(["run", "calogan", "-p", "data_path", str(path), "-p", "n_eval", "10", "--out", str(tmp_path / "r")]) == 2
    )
    err = capsys.readouterr().err
    assert "holds 12 showers but 120 are needed" in err and not (tmp_path / "r").exists(), err  # 2 * n_eval + 100
