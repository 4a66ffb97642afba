"""The sandboxed kernel (hepml_nb.course.kernel) and the runner's plan and launch: isolation from the working
folder, limits, leftovers, stale folders and killed runs (issue #22)."""

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from conftest import write_notebook

from hepml_nb.core.errors import NotebookExecutionError, ParameterError
from hepml_nb.course.cli import main
from hepml_nb.course.kernel import KERNEL_FOLDER_PREFIX, KernelLimits, kernel_argv, kernel_sandbox
from hepml_nb.course.runcard import read_status, write_status
from hepml_nb.course.runner import execute, launch, prepare_run

PARAMS = "n_events = 20  # events\njet_radius = 0.4  # radius\ncheck_fpga = True  # fpga\nseed = 1  # seed"


def _toy(*cells: str):
    """A notebook node with the toy setup notebook's parameters cell, then ``cells``."""
    path = Path(tempfile.mkdtemp()) / "nb.ipynb"
    write_notebook(path, PARAMS, *cells)
    return nbformat.read(path, as_version=4)


def _nobody_can_run_python() -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    try:
        done = subprocess.run([sys.executable, "-c", "pass"], user=65534, group=65534, extra_groups=[], timeout=60)
    except OSError:
        return False
    return done.returncode == 0


as_nobody = pytest.mark.skipif(
    not _nobody_can_run_python(),
    reason="needs root, and an interpreter user nobody can run (on images with Python under /root, "
    "chmod o+x /root as .ci/run does)",
)

CLI = "import sys; from hepml_nb.course.cli import main; sys.exit(main())"
PLANTS = ("ipykernel_launcher", "hepml_nb", "papermill", "numpy", "sitecustomize", "matplotlib_inline")


def _plant(folder: Path, marker: Path) -> None:
    """Modules in ``folder`` that leave ``marker`` when imported (then fail), as a hostile user would plant them."""
    for name in PLANTS:
        (folder / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write('{name} ')\nraise SystemExit(3)\n")


def test_kernel_argv_keeps_the_working_folder_off_sys_path():
    argv = kernel_argv()
    assert argv[0] == sys.executable and argv[1] == "-P" and "--IPKernelApp.ignore_cwd=True" in argv


def test_kernel_sandbox_is_fresh_private_and_removed():
    with kernel_sandbox() as box:
        info = box.folder.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
        assert box.folder.name.startswith(KERNEL_FOLDER_PREFIX) and f"-{os.getpid()}-" in box.folder.name
        env = box.environment({})
        assert env["PYTHONSAFEPATH"] == "1" and len(env["HEPML_NB_KERNEL_TOKEN"]) == 32
        with kernel_sandbox() as other:
            assert other.folder != box.folder and other.token != box.token
    assert not box.folder.exists()


def test_clean_environment_drops_the_callers_secrets(monkeypatch):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "secret-token")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with kernel_sandbox(KernelLimits(clean_environment=True)) as box:
        env = box.environment(None)
    assert "QISKIT_IBM_TOKEN" not in env and env["OMP_NUM_THREADS"] == "1" and env["HOME"] == str(box.work)
    with kernel_sandbox() as box:  # a user's own run keeps its environment (the token for hardware runs)
        assert box.environment(None)["QISKIT_IBM_TOKEN"] == "secret-token"


@pytest.mark.slow
def test_planted_modules_in_the_working_folder_are_never_imported(toy_notebooks, tmp_path, monkeypatch):
    # hole 1: a student leaves ipykernel_launcher.py (and friends) where the instructor runs hepml-nb
    planted = tmp_path / "shared-folder"
    planted.mkdir()
    marker = tmp_path / "pwned"
    _plant(planted, marker)
    monkeypatch.chdir(planted)
    result = execute("setup", out=tmp_path / "run", n_events=3)
    assert not marker.exists(), marker.read_text()
    assert result.metrics["n_events"] == 3


@pytest.mark.slow
def test_planted_modules_are_not_imported_by_the_command_line(toy_notebooks, tmp_path):
    planted = tmp_path / "shared-folder"
    planted.mkdir()
    marker = tmp_path / "pwned"
    _plant(planted, marker)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from hepml_nb.course.cli import main; sys.exit(main())",
            "run",
            "setup",
            "-q",
        ],
        cwd=planted,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONSAFEPATH": "1"},  # the test's own interpreter must not import them either
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert not marker.exists(), marker.read_text()


@pytest.mark.slow
def test_kernel_sys_path_has_no_working_folder(toy_notebooks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = _toy("import os, sys\nhn.record_metrics(on_path=[p for p in sys.path if p in ('', '.', os.getcwd())])")
    result = launch(prepare_run("setup", source=nb, out=tmp_path / "run"))
    assert result.metrics["on_path"] == []


@pytest.mark.slow
def test_memory_limit_stops_the_kernel_and_names_the_limit(toy_notebooks, tmp_path):
    nb = _toy("import numpy as np\nbig = np.ones(2**28)")  # 2 GiB
    plan = prepare_run("setup", source=nb, out=tmp_path / "run")
    with pytest.raises(
        NotebookExecutionError,
        match=r"(?s)starting 'import numpy as np'.*used \d+ MiB, above the memory limit of 512 MiB, so it was stopped",
    ):
        launch(plan, limits=KernelLimits(memory_mib=512))
    assert read_status(tmp_path / "run")["status"] == "failed"


@pytest.mark.slow
def test_memory_error_in_a_cell_is_reported_as_running_out_of_memory(toy_notebooks, tmp_path):
    nb = _toy("import numpy as np\nbig = np.ones(2**50)")  # 8 PiB: refused at once
    plan = prepare_run("setup", source=nb, out=tmp_path / "run")
    with pytest.raises(
        NotebookExecutionError, match=r"(?s)MemoryError.*ran out of memory \(the memory of this machine"
    ):
        launch(plan)


@pytest.mark.slow
def test_wall_time_limit_stops_the_kernel_and_says_so(toy_notebooks, tmp_path):
    nb = _toy("import time\ntime.sleep(120)")
    plan = prepare_run("setup", source=nb, out=tmp_path / "run")
    start = time.monotonic()
    with pytest.raises(NotebookExecutionError, match=r"(?s)starting .import time.*wall-time limit of 30 s"):
        launch(plan, limits=KernelLimits(wall_seconds=30))
    assert time.monotonic() - start < 100


@pytest.mark.slow
def test_processes_left_behind_by_the_kernel_are_killed(toy_notebooks, tmp_path):
    pid_file = tmp_path / "child.pid"
    nb = _toy(
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))"
    )
    launch(prepare_run("setup", source=nb, out=tmp_path / "run"))
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        if "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            break  # a zombie waiting for its parent is dead
        time.sleep(0.2)
    else:
        assert not Path(f"/proc/{pid}").exists(), "the child of the kernel is still running"


@as_nobody
@pytest.mark.slow
def test_kernel_as_another_user_cannot_read_the_callers_files(toy_notebooks, tmp_path):
    secret = tmp_path / "answer-key.txt"
    secret.write_text("42")
    secret.chmod(0o600)
    nb = _toy(
        "import os\n"
        f"print('uid', os.getuid(), 'read', os.access({str(secret)!r}, os.R_OK))\n"
        "hn.record_metrics(uid=os.getuid())"
    )
    plan = prepare_run("setup", source=nb, out=tmp_path / "run")
    launch(plan, limits=KernelLimits(user="nobody", clean_environment=True))
    executed = nbformat.read(tmp_path / "run" / "00_setup_check.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "uid 65534 read False" in text
    assert not (tmp_path / "run" / "metrics.json").exists()  # another user writes its results in the sandbox


def test_another_user_needs_root_or_an_existing_account():
    with (
        pytest.raises(ParameterError, match="unknown user 'no-such-user-x'"),
        kernel_sandbox(KernelLimits(user="no-such-user-x")),
    ):
        pass


def test_stale_kernel_folders_of_dead_runners_are_removed(tmp_path):
    from hepml_nb.course.kernel import _host, remove_stale_kernel_folders

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{KERNEL_FOLDER_PREFIX}{_host()}-{dead.pid}-abc123"
    live = tmp_path / f"{KERNEL_FOLDER_PREFIX}{_host()}-{os.getpid()}-def456"
    elsewhere = tmp_path / f"{KERNEL_FOLDER_PREFIX}otherhost-{dead.pid}-ghi789"
    for folder in (stale, live, elsewhere):
        (folder / "kernel").mkdir(parents=True)
    link = tmp_path / f"{KERNEL_FOLDER_PREFIX}{_host()}-{dead.pid}-link00"
    link.symlink_to(live)
    assert remove_stale_kernel_folders(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and elsewhere.exists() and link.is_symlink()


def test_read_status_marks_a_run_whose_process_is_gone_as_killed(tmp_path):
    write_status(tmp_path, "running")
    assert read_status(tmp_path)["status"] == "running"  # this process is alive
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = json.loads((tmp_path / "status.json").read_text())
    (tmp_path / "status.json").write_text(json.dumps({**record, "pid": dead.pid}))
    assert read_status(tmp_path)["status"] == "killed"
    assert json.loads((tmp_path / "status.json").read_text())["status"] == "killed"  # kept for the next reader


@pytest.mark.slow
def test_a_run_killed_with_sigkill_is_listed_as_killed(toy_notebooks, tmp_path, capsys):
    nb_cell = "import time\ntime.sleep(300)"
    write_notebook(toy_notebooks / "00_setup_check.ipynb", PARAMS, nb_cell)
    runner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from hepml_nb.course.cli import main; sys.exit(main())",
            "run",
            "setup",
            "-q",
            "--out",
            str(tmp_path / "runs" / "one"),
        ],
        env={**os.environ, "HEPML_NB_NOTEBOOKS": str(toy_notebooks)},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and read_status(tmp_path / "runs" / "one").get("status") != "running":
        time.sleep(0.3)
    time.sleep(3)  # the kernel is up and sleeping
    kernel_folders = set(Path(tempfile.gettempdir()).glob(f"{KERNEL_FOLDER_PREFIX}*-{runner.pid}-*"))
    assert kernel_folders
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    assert main(["list", "--runs", str(tmp_path / "runs")]) == 0
    assert "killed" in capsys.readouterr().out
    assert not any(folder.exists() for folder in kernel_folders)


# the run folder (--out) --------------------------------------------------------------------------------------


def test_out_folder_holding_other_files_is_refused_before_anything_runs(toy_notebooks, tmp_path, capsys):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "metrics.json").write_text('{"my": "results"}')
    (mine / "00_setup_check.ipynb").write_text("my own notebook")
    assert main(["run", "setup", "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert "already holds files that are not a run: 00_setup_check.ipynb, metrics.json" in err and "--force" in err
    assert (mine / "metrics.json").read_text() == '{"my": "results"}'
    assert (mine / "00_setup_check.ipynb").read_text() == "my own notebook"


def test_out_folder_of_another_topic_is_refused(toy_notebooks, tmp_path):
    other = tmp_path / "run"
    other.mkdir()
    (other / "params.json").write_text('{"topic": "qml"}')
    with pytest.raises(ParameterError, match="already holds a run folder of topic 'qml'"):
        prepare_run("setup", out=other)
    assert prepare_run("setup", out=other, force=True).folder == other.resolve()


@pytest.mark.slow
def test_out_folder_of_a_previous_run_of_the_topic_is_reused(toy_notebooks, tmp_path):
    execute("setup", out=tmp_path / "run", n_events=3)
    assert execute("setup", out=tmp_path / "run", n_events=4).metrics["n_events"] == 4


@pytest.mark.slow
def test_out_folder_with_braces_is_taken_literally(toy_notebooks, tmp_path):
    folder = tmp_path / "{name}-{seed}"
    result = execute("setup", out=folder, n_events=3)
    assert result.run_dir == folder and (folder / "00_setup_check.ipynb").exists()
