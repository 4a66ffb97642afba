"""Execute a topic's notebook into a run folder: first a plan, then its launch.

:func:`prepare_run` checks everything and starts nothing: the topic and profile, the parameters
(names and types against the notebook's ``parameters`` cell, values against the topic's rules,
input files), and the run folder (new, empty, or a run folder of the same topic; anything else
only with ``force``). It reads the notebook once and returns a :class:`RunPlan`.

:func:`launch` executes a plan with papermill in a private kernel (:mod:`hepml_nb.course.kernel`:
the kernel never imports from the working folder, talks over IPC sockets in a private folder and
may be confined by :class:`~hepml_nb.course.kernel.KernelLimits`). The run folder gets the executed
notebook, ``params.json``, ``status.json`` (running / ok / failed with the cell and error; a run
whose process died is reported ``killed`` by :func:`read_status`), ``run_card.json``, and what the
notebook writes (``metrics.json``, figures). ``hepml-nb run``, sweeps, the book, student builds and
grading all go through these two functions.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from hepml_nb.core.errors import NotebookExecutionError, ParameterError
from hepml_nb.core.results import METRICS_FILE, RUN_DIR_ENV, load_metrics, write_json_atomic
from hepml_nb.core.widgets import HEADLESS_ENV

if TYPE_CHECKING:
    from papermill.exceptions import PapermillExecutionError
from hepml_nb.course.catalog import notebook_path, profile_overrides, topic_rules
from hepml_nb.course.kernel import KernelLimits, KernelSandbox, kernel_sandbox
from hepml_nb.course.params import notebook_parameters, validate_parameters
from hepml_nb.course.runcard import (
    STATUS_FILE,
    read_executed_notebook,
    read_status,
    write_run_card,
    write_status,
)

__all__ = [
    "RunPlan",
    "RunResult",
    "STATUS_FILE",
    "PARAMS_FILE",
    "prepare_run",
    "launch",
    "run_environment",
    "run",
    "execute",
    "default_run_dir",
    "read_status",
]

PARAMS_FILE = "params.json"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: files a run writes (a folder holding only these and the notebook is a run folder)
_RUN_FILES = (PARAMS_FILE, STATUS_FILE, METRICS_FILE, "run_card.json", "exercises.json")


class RunPlan(NamedTuple):
    """A checked run, ready to launch: nothing has been started or written yet.

    ``source`` is the notebook to execute (read once; the student build with ``student``),
    ``params`` the validated parameters, ``folder`` the run folder (absolute), ``record`` extra
    fields for ``params.json``.
    """

    topic: str
    profile: str
    notebook: Path
    source: Any
    params: dict[str, Any]
    folder: Path
    student: bool = False
    record: Mapping[str, Any] = MappingProxyType({})


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


def _run_folder_topic(folder: Path) -> str | None:
    """The topic of the run folder ``folder`` (from its ``params.json``), or None when it is not one."""
    try:
        record = json.loads((folder / PARAMS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record.get("topic") if isinstance(record, dict) else None


def _check_run_folder(folder: Path, topic: str, *, force: bool) -> Path:
    """``folder`` resolved; ParameterError when it holds files that are not a run of ``topic`` (unless force)."""
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"the run folder {folder} is a file; give a folder (new, or a run folder of {topic!r})")
    if force or not folder.exists():
        return folder.resolve()
    entries = sorted(p.name for p in folder.iterdir())
    if not entries or _run_folder_topic(folder) == topic:
        return folder.resolve()
    other = _run_folder_topic(folder)
    what = f"a run folder of topic {other!r}" if other else f"files that are not a run: {', '.join(entries[:5])}"
    raise ParameterError(
        f"the run folder {folder} already holds {what}; a run would overwrite or delete them. Choose a new or "
        f"empty folder (or a run folder of {topic!r}), or add --force (force=True) to write into it anyway"
    )


def prepare_run(
    topic: str,
    profile: str = "default",
    params: Mapping[str, Any] | None = None,
    *,
    out: Path | str | None = None,
    force: bool = False,
    student: bool = False,
    source: Any = None,
    record: Mapping[str, Any] | None = None,
) -> RunPlan:
    """Check a run without starting or writing anything; return its :class:`RunPlan`.

    Profile overrides come first, then ``params``; both are checked against the notebook's
    parameters cell (names, types) and the topic's rules (choices, ranges, input files). ``out``
    is the run folder (default ``runs/<topic>/<time>-<profile>``); an existing folder must be
    empty or a run folder of the same topic unless ``force``. ``source`` replaces the notebook
    to execute (a notebook node with the same parameters cell, e.g. a student's submission).

    Raises
    ------
    ParameterError
        Unknown topic, profile or parameter, a value outside its rule, or a run folder holding
        other files.
    DataError
        An input file parameter names a missing or malformed file.
    """
    import nbformat

    nb_path = notebook_path(topic)
    nb = source if source is not None else nbformat.read(nb_path, as_version=4)
    declared = notebook_parameters(nb, nb_path.name)
    merged = dict(profile_overrides(topic, profile))
    merged.update(params or {})
    values = validate_parameters(
        declared, merged, notebook=f"topic {topic!r} ({nb_path.name})", rules=topic_rules(topic)
    )
    folder = _check_run_folder(Path(out) if out is not None else default_run_dir(topic, profile), topic, force=force)
    if student:
        from hepml_nb.course.teaching import student_notebook

        nb, _ = student_notebook(nb)
    return RunPlan(topic, profile, nb_path, nb, values, folder, student, dict(record or {}))


def run_environment(folder: Path) -> dict[str, str]:
    """Environment variables of a run's kernel: its run folder, headless widgets, inline plots."""
    return {
        RUN_DIR_ENV: str(folder),
        HEADLESS_ENV: "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        # OpenMP threads that sleep instead of spinning: torch and sklearn slow down many-fold
        # when spinning threads share cores with other work (laptops, JupyterHub nodes, CI)
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        # glibc: transparent huge pages for the blocks malloc maps (hepml_nb.core.heap maps every block
        # from 1 MiB up, to keep the heap from growing): one page fault per 2 MiB instead of per 4 kiB
        "GLIBC_TUNABLES": os.environ.get("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"),
    }


def _first_line(source: str) -> str:
    lines = [line.strip() for line in (source or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def _peak_text(box: KernelSandbox) -> str:
    peak = box.memory().peak_tree
    return f"; the kernel and its processes peaked at {peak / 2**20:.0f} MiB" if peak else ""


def _execution_error(
    exc: PapermillExecutionError, nb_path: Path, executed: Path, box: KernelSandbox
) -> NotebookExecutionError:
    source = "\n".join("    " + line for line in (exc.source or "").splitlines()[:12])
    trace = _ANSI.sub("", "\n".join(exc.traceback or []))
    tail = "\n".join(trace.splitlines()[-8:])
    memory = ""
    if exc.ename == "MemoryError":
        limits = box.limits
        limit = f"the limit of {limits.memory_mib} MiB" if limits.memory_mib else "the memory of this machine"
        memory = (
            f"\n  the kernel ran out of memory ({limit}{_peak_text(box)}): use a smaller profile (--profile ci) "
            "or smaller sizes"
        )
    return NotebookExecutionError(
        f"{nb_path.name}: the cell [{exc.exec_count}] starting {_first_line(exc.source)!r} failed with "
        f"{exc.ename}: {exc.evalue}{memory}\n  cell source:\n{source}\n  traceback (last lines):\n{tail}\n"
        f"  the executed notebook with the full traceback is {executed} (cell [{exc.exec_count}])"
    )


def _running_cell(nb: Any) -> tuple[int | None, str]:
    """(execution count, first line) of the last cell papermill started in the executed notebook ``nb`` (None
    when unreadable): the one the kernel died in."""
    if nb is None:
        return None, ""
    started = [c for c in nb.cells if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return (started[-1].get("execution_count"), _first_line(started[-1].source)) if started else (None, "")


def _kernel_death(exc: Exception, box: KernelSandbox, nb_path: Path, executed: Path, nb: Any) -> NotebookExecutionError:
    count, first = _running_cell(nb)
    number = f" [{count}]" if count is not None else ""
    where = f"while running the cell{number} starting {first!r}" if first else "while starting"
    limits = box.limits
    if box.out_of_memory:
        why = (
            f"the kernel and its processes used {box.out_of_memory / 2**20:.0f} MiB, above the memory limit of "
            f"{limits.memory_mib} MiB, so it was stopped (a JupyterHub or Binder session stops a kernel the same way); "
            "use a smaller profile (--profile ci) or smaller sizes"
        )
    elif box.timed_out:
        why = f"it was stopped after the wall-time limit of {limits.wall_seconds:g} s"
    elif type(exc).__name__ == "CellTimeoutError":
        why = "the cell ran longer than the per-cell timeout"
    else:
        why = (
            f"it died{_peak_text(box)}: most often the system killed it for using too much memory; use a "
            "smaller profile (--profile ci) or smaller sizes"
        )
    return NotebookExecutionError(f"{nb_path.name}: the kernel stopped {where}: {why}; see {executed}")


def _literal_path(path: Path) -> str:
    """``path`` for papermill, which formats output paths with the parameters: braces doubled."""
    return str(path).replace("{", "{{").replace("}", "}}")


def launch(
    plan: RunPlan,
    *,
    limits: KernelLimits | None = None,
    sandbox: KernelSandbox | None = None,
    cell_timeout: float | None = None,
    progress: bool = False,
    log_output: bool = False,
) -> RunResult:
    """Execute a :class:`RunPlan` into its folder; see the module doc.

    ``limits`` confine the kernel (another user, memory, wall time, clean environment);
    ``sandbox`` is one made by the caller with :func:`~hepml_nb.course.kernel.kernel_sandbox` and
    :func:`run_environment` (to read its work folder afterwards), instead of a fresh one.
    ``progress`` shows papermill's cell progress bar; ``log_output`` streams the notebook's own
    output (prints, progress, warnings) to this process's stdout/stderr as it runs.

    Raises
    ------
    NotebookExecutionError
        A cell raised (the message names it), the kernel died or hit a limit.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    folder = plan.folder
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (METRICS_FILE, STATUS_FILE, "exercises.json"):
        (folder / stale).unlink(missing_ok=True)
    write_json_atomic(
        folder / PARAMS_FILE,
        {"topic": plan.topic, "profile": plan.profile, "student": plan.student, "parameters": plan.params}
        | dict(plan.record),
    )
    write_status(folder, "running")
    executed = folder / plan.notebook.name
    streams = {"stdout_file": sys.stdout, "stderr_file": sys.stderr} if log_output else {}
    done = None  # the executed notebook's node, as papermill returns it after the last cell
    with contextlib.ExitStack() as stack:
        box = sandbox or stack.enter_context(kernel_sandbox(limits))
        box.set_environment(**run_environment(folder))
        try:
            done = papermill.execute_notebook(
                plan.source,
                _literal_path(executed),
                parameters=plan.params,
                kernel_name=box.kernel_name,
                progress_bar=progress,
                cwd=None,
                kernel_manager_class=box.manager_class(),
                execution_timeout=cell_timeout,
                **streams,
            )
        except PapermillExecutionError as exc:
            error = _execution_error(exc, plan.notebook, executed, box)
            short = f"{exc.ename}: {exc.evalue}"  # the full message (cell source, traceback) is in the raised error
            write_status(folder, "failed", cell=exc.exec_count, cell_first_line=_first_line(exc.source), error=short)
            raise error from None
        except (DeadKernelError, CellTimeoutError, RuntimeError) as exc:
            if type(exc) is RuntimeError and "died" not in str(exc):  # jupyter_client: "Kernel died before ..."
                write_status(folder, "failed", error=f"{type(exc).__name__}: {exc}")
                raise
            done, _ = read_executed_notebook(executed)  # read once, for the message and the run card
            error = _kernel_death(exc, box, plan.notebook, executed, done)
            write_status(folder, "failed", error=str(error))
            raise error from None
        except BaseException as exc:
            write_status(folder, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        finally:  # run_card.json (versions, device, cell times, peak memory), on success and failure
            write_run_card(folder, executed if executed.exists() else None, nb=done, memory=box.memory())
    write_status(folder, "ok")
    return RunResult(folder, plan.params, load_metrics(folder))


def execute(
    topic: str,
    profile: str = "default",
    out: Path | str | None = None,
    *,
    progress: bool = False,
    log_output: bool = False,
    student: bool = False,
    force: bool = False,
    **params: Any,
) -> RunResult:
    """Plan and launch ``topic``'s notebook with ``profile`` and ``params``; see :func:`run`.

    ``student`` executes the student build (solutions removed: exercises are reported as not
    attempted); ``force`` writes into an existing folder that is not a run folder of the topic.
    """
    plan = prepare_run(topic, profile, params, out=out, force=force, student=student)
    return launch(plan, progress=progress, log_output=log_output)


def run(topic: str, profile: str = "default", out: Path | str | None = None, **params: Any) -> dict[str, Any]:
    """Execute a topic's notebook and return the metrics it recorded.

    Parameters
    ----------
    topic
        Topic key from the catalog (``hepml-nb list``).
    profile
        ``ci``, ``default`` or ``full``: parameter overrides from the catalog.
    out
        Run folder (default ``runs/<topic>/<time>-<profile>``): new, empty, or a run folder of
        the same topic.
    **params
        Parameter values, checked against the notebook's parameters cell and the catalog's rules.

    Raises
    ------
    ParameterError
        Unknown topic, profile or parameter, a value of the wrong type or outside its allowed
        values, or an ``out`` folder holding other files (before any kernel starts).
    DataError
        An input file parameter names a missing or malformed file (before any kernel starts).
    NotebookExecutionError
        A cell raised; the message names the cell and shows its exception.
    """
    return execute(topic, profile, out, **params).metrics
