"""Execute a topic's notebook with papermill into a run folder.

A run folder holds the executed notebook, ``params.json`` (the parameters it ran
with), ``status.json`` (running / ok / failed with the cell and error),
``metrics.json`` (written by the notebook) and its figures. Names, types and
allowed values of the parameters are checked against the notebook's ``parameters``
cell and the catalog's rules before any kernel starts.

The kernel is always the Python running this code, whatever kernel name the notebook
stores, so a user in a venv never gets NoSuchKernel. Its kernelspec is written for
each run into a fresh private temporary folder (mode 0700, removed afterwards), and
the kernel talks to papermill over IPC sockets in that folder: no other local user
can plant or reach either.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from hepml_nb.core.catalog import notebook_path, profile_overrides, topic_rules
from hepml_nb.core.errors import NotebookExecutionError
from hepml_nb.core.params import read_parameters, validate_parameters
from hepml_nb.core.results import METRICS_FILE, RUN_DIR_ENV, load_metrics, write_json_atomic
from hepml_nb.core.widgets import HEADLESS_ENV

__all__ = [
    "RunResult",
    "STATUS_FILE",
    "prepare_run",
    "run",
    "execute",
    "default_run_dir",
    "private_kernel",
    "read_status",
]

STATUS_FILE = "status.json"
KERNEL_NAME = "hepml-nb-python"
_ENV_LOCK = threading.Lock()
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class RunResult(NamedTuple):
    """Where a run wrote its results, the parameters it ran with and its metrics."""

    run_dir: Path
    params: dict[str, Any]
    metrics: dict[str, Any]


def default_run_dir(topic: str, profile: str) -> Path:
    """``runs/<topic>/<YYYYmmdd-HHMMSS>-<profile>`` under the working directory (unique)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path.cwd() / "runs" / topic / f"{stamp}-{profile}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


@contextlib.contextmanager
def private_kernel() -> Iterator[tuple[str, Path]]:
    """A kernelspec running ``sys.executable``, in a fresh private folder: yields (kernel name, folder).

    The folder comes from :func:`tempfile.mkdtemp` (mode 0700, unpredictable name, owned by
    this user) and is removed afterwards; ``kernel.json`` is always written here, never
    read from a shared location. Put ``folder`` first in ``JUPYTER_PATH`` while the kernel starts.
    """
    root = Path(tempfile.mkdtemp(prefix="hepml-nb-kernel-"))
    try:
        spec = root / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": f"Python ({sys.executable})",
                    "language": "python",
                }
            )
        )
        yield KERNEL_NAME, root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _ipc_kernel_manager(folder: Path):
    """A KernelManager class whose kernels use IPC sockets inside ``folder`` (no TCP ports)."""
    from jupyter_client.manager import KernelManager

    class _IPCKernelManager(KernelManager):
        def __init__(self, **kwargs: Any):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(folder / "kernel")

    return _IPCKernelManager


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the kernel, restoring them afterwards."""
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for key, old in saved.items():
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old


def prepare_run(
    topic: str,
    profile: str = "default",
    params: Mapping[str, Any] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Validate a run's parameters without starting anything: (notebook path, merged parameters).

    Profile overrides come first, then ``params``; both are checked against the
    notebook's parameters cell (names, types) and the catalog's rules (choices, ranges,
    input files).
    """
    nb_path = notebook_path(topic)
    declared = read_parameters(nb_path)
    merged = dict(profile_overrides(topic, profile))
    merged.update(params or {})
    return nb_path, validate_parameters(
        declared, merged, notebook=f"topic {topic!r} ({nb_path.name})", rules=topic_rules(topic)
    )


def _first_line(source: str) -> str:
    lines = [line.strip() for line in (source or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def _execution_error(exc: Exception, nb_path: Path, executed: Path) -> NotebookExecutionError:
    source = "\n".join("    " + line for line in (exc.source or "").splitlines()[:12])
    trace = _ANSI.sub("", "\n".join(exc.traceback or []))
    tail = "\n".join(trace.splitlines()[-8:])
    return NotebookExecutionError(
        f"{nb_path.name}: the cell [{exc.exec_count}] starting {_first_line(exc.source)!r} failed with "
        f"{exc.ename}: {exc.evalue}\n  cell source:\n{source}\n  traceback (last lines):\n{tail}\n"
        f"  the executed notebook with the full traceback is {executed} (cell [{exc.exec_count}])"
    )


def _write_status(folder: Path, status: str, **details: Any) -> None:
    write_json_atomic(
        folder / STATUS_FILE, {"status": status, "time": _dt.datetime.now().isoformat(), "pid": os.getpid(), **details}
    )


def read_status(folder: Path | str) -> dict[str, Any]:
    """``status.json`` of a run folder: ``{"status": "running" | "ok" | "failed", ...}`` (empty if absent)."""
    path = Path(folder) / STATUS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def _student_source(nb_path: Path, folder: Path) -> Path:
    """Write the student build of ``nb_path`` (solutions removed) into ``folder``; return its path."""
    import nbformat

    from hepml_nb.core.teaching import student_notebook

    nb, _ = student_notebook(nbformat.read(nb_path, as_version=4))
    target = folder / f"student_{nb_path.name}"
    nbformat.write(nb, target)
    return target


def execute(
    topic: str,
    profile: str = "default",
    out: Path | str | None = None,
    *,
    progress: bool = False,
    log_output: bool = False,
    student: bool = False,
    **params: Any,
) -> RunResult:
    """Execute ``topic``'s notebook with ``profile`` and ``params``; see :func:`run`.

    ``progress`` shows papermill's cell progress bar; ``log_output`` streams the notebook's own
    output (prints, progress, warnings) to this process's stdout/stderr as it runs; ``student``
    executes the student build (solutions removed: exercises are reported as not attempted).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    nb_path, merged = prepare_run(topic, profile, params)
    folder = (Path(out) if out is not None else default_run_dir(topic, profile)).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (METRICS_FILE, STATUS_FILE, "exercises.json"):
        (folder / stale).unlink(missing_ok=True)
    write_json_atomic(
        folder / "params.json", {"topic": topic, "profile": profile, "student": student, "parameters": merged}
    )
    _write_status(folder, "running")
    source = _student_source(nb_path, folder) if student else nb_path
    executed = folder / nb_path.name
    env = {
        RUN_DIR_ENV: str(folder),
        HEADLESS_ENV: "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        # OpenMP threads that sleep instead of spinning: torch and sklearn slow down many-fold
        # when spinning threads share cores with other work (laptops, JupyterHub nodes, CI)
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
    }
    streams = {"stdout_file": sys.stdout, "stderr_file": sys.stderr} if log_output else {}
    try:
        with private_kernel() as (kernel, kernel_dir):
            jupyter_path = [str(kernel_dir), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
            with _environment({**env, "JUPYTER_PATH": os.pathsep.join(jupyter_path)}):
                papermill.execute_notebook(
                    str(source),
                    str(executed),
                    parameters=merged,
                    kernel_name=kernel,
                    progress_bar=progress,
                    cwd=None,
                    kernel_manager_class=_ipc_kernel_manager(kernel_dir),
                    **streams,
                )
    except PapermillExecutionError as exc:
        error = _execution_error(exc, nb_path, executed)
        _write_status(
            folder,
            "failed",
            cell=exc.exec_count,
            cell_first_line=_first_line(exc.source),
            error=f"{exc.ename}: {exc.evalue}",
        )
        raise error from None
    except BaseException as exc:
        _write_status(folder, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:  # run_card.json (versions, device, cell times, peak memory), on success and failure
        from hepml_nb.core.runcard import write_run_card

        write_run_card(folder, executed)
    _write_status(folder, "ok")
    return RunResult(folder, merged, load_metrics(folder))


def run(topic: str, profile: str = "default", out: Path | str | None = None, **params: Any) -> dict[str, Any]:
    """Execute a topic's notebook and return the metrics it recorded.

    Parameters
    ----------
    topic
        Topic key from the catalog (``hepml-nb list``).
    profile
        ``ci``, ``default`` or ``full``: parameter overrides from the catalog.
    out
        Run folder (default ``runs/<topic>/<time>-<profile>``).
    **params
        Parameter values, checked against the notebook's parameters cell and the catalog's rules.

    Raises
    ------
    ParameterError
        Unknown topic, profile or parameter, a value of the wrong type or outside its allowed
        values (before any kernel starts).
    DataError
        An input file parameter names a missing or malformed file (before any kernel starts).
    NotebookExecutionError
        A cell raised; the message names the cell and shows its exception.
    """
    return execute(topic, profile, out, **params).metrics
