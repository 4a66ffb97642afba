"""Execute a topic's notebook with papermill into a run folder.

A run folder holds the executed notebook, ``params.json`` (the parameters it ran
with), ``metrics.json`` (written by the notebook) and its figures. Names and types
of the parameters are checked against the notebook's ``parameters`` cell before
any kernel starts. The kernel is always the Python running this code, whatever
kernel name the notebook stores, so a user in a venv never gets NoSuchKernel.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping, NamedTuple

from hepml_nb.core.catalog import notebook_path, profile_overrides
from hepml_nb.core.errors import NotebookExecutionError
from hepml_nb.core.params import read_parameters, validate_parameters
from hepml_nb.core.results import METRICS_FILE, RUN_DIR_ENV, load_metrics, write_json_atomic
from hepml_nb.core.widgets import HEADLESS_ENV

__all__ = ["RunResult", "prepare_run", "run", "execute", "default_run_dir", "current_env_kernel"]

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


def current_env_kernel() -> str:
    """Name of a kernelspec that runs ``sys.executable``; registered in a private JUPYTER_PATH dir."""
    digest = hashlib.sha1(sys.executable.encode()).hexdigest()[:10]
    name = f"hepml-nb-{digest}"
    root = Path(tempfile.gettempdir()) / f"hepml-nb-jupyter-{os.getuid() if hasattr(os, 'getuid') else 0}"
    spec = root / "kernels" / name / "kernel.json"
    if not spec.exists():
        write_json_atomic(spec, {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python ({sys.executable})", "language": "python",
        })
    paths = os.environ.get("JUPYTER_PATH", "").split(os.pathsep)
    if str(root) not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([str(root), *filter(None, paths)])
    return name


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


def prepare_run(topic: str, profile: str = "default", params: Mapping[str, Any] | None = None,
                ) -> tuple[Path, dict[str, Any]]:
    """Validate a run's parameters without starting anything: (notebook path, merged parameters).

    Profile overrides come first, then ``params``; both are checked against the
    notebook's parameters cell.
    """
    nb_path = notebook_path(topic)
    declared = read_parameters(nb_path)
    merged = dict(profile_overrides(topic, profile))
    merged.update(params or {})
    return nb_path, validate_parameters(declared, merged, notebook=f"topic {topic!r} ({nb_path.name})")


def _execution_error(exc: Exception, nb_path: Path, executed: Path) -> NotebookExecutionError:
    source = "\n".join("    " + line for line in (exc.source or "").splitlines()[:12])
    trace = _ANSI.sub("", "\n".join(exc.traceback or []))
    tail = "\n".join(trace.splitlines()[-8:])
    return NotebookExecutionError(
        f"{nb_path.name}: cell {exc.cell_index} (execution count {exc.exec_count}) failed with "
        f"{exc.ename}: {exc.evalue}\n  cell source:\n{source}\n  traceback (last lines):\n{tail}\n"
        f"  the executed notebook with the full traceback is {executed}"
    )


def execute(topic: str, profile: str = "default", out: Path | str | None = None, *,
            progress: bool = False, **params: Any) -> RunResult:
    """Execute ``topic``'s notebook with ``profile`` and ``params``; see :func:`run`."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    nb_path, merged = prepare_run(topic, profile, params)
    folder = Path(out) if out is not None else default_run_dir(topic, profile)
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / METRICS_FILE).unlink(missing_ok=True)
    write_json_atomic(folder / "params.json", {"topic": topic, "profile": profile, "parameters": merged})
    executed = folder / nb_path.name
    env = {RUN_DIR_ENV: str(folder), HEADLESS_ENV: "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           # OpenMP threads that sleep instead of spinning: torch and sklearn slow down many-fold
           # when spinning threads share cores with other work (laptops, JupyterHub nodes, CI)
           "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    kernel = current_env_kernel()
    with _environment(env):
        try:
            papermill.execute_notebook(
                str(nb_path), str(executed), parameters=merged, kernel_name=kernel,
                progress_bar=progress, cwd=None,
            )
        except PapermillExecutionError as exc:
            raise _execution_error(exc, nb_path, executed) from None
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
        Parameter values, checked against the notebook's parameters cell.

    Raises
    ------
    ParameterError
        Unknown topic, profile or parameter, or a value of the wrong type (before any kernel starts).
    NotebookExecutionError
        A cell raised; the message names the cell and shows its exception.
    """
    return execute(topic, profile, out, **params).metrics

