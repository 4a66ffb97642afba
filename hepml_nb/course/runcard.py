"""Run cards: what a run ran on, written into every run folder and the executed notebook.

``run_card.json`` in a run folder (and ``metadata.hepml_nb.run_card`` of the executed notebook)
records:

- ``packages``: versions of the stack (numpy, torch, qiskit, hls4ml, uproot, ...) read with
  :mod:`importlib.metadata`, so nothing is imported; a missing package is ``null``;
- ``source``: the git commit of the checkout hepml_nb runs from (with ``dirty`` when it has
  uncommitted changes), or the installed version when it is not a checkout;
- ``device``: CPU model, logical CPUs and the CPUs this process may use, platform, Python; the
  GPU from ``nvidia-smi`` when it is installed, or from torch when torch is already imported in
  this process (torch is never imported for this: it costs seconds);
- ``profile``, ``seed``, ``student`` and the parameters (from ``params.json``);
- ``timing``: the wall time of the whole run (from writing ``params.json`` to the card: kernel
  start and shutdown included), the kernel's execution time and the time of every cell, from the
  start / end times papermill writes into the executed notebook;
- ``memory``: the resident memory of the kernel and every process it started, sampled every 0.2 s
  while the run goes (:mod:`hepml_nb.course.memory`): the peak of the tree and of the kernel, the
  processes at the peak, and the peak during each cell (``timing.cells[i].peak_mib``). A card
  written without that trace has ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` instead: the
  largest finished child of the runner process (``exact: false`` when an earlier run of the same
  process peaked higher).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from hepml_nb._version import __version__
from hepml_nb.core.results import atomic_output, flatten_metrics, process_alive, write_json_atomic
from hepml_nb.course.memory import MemoryTrace

__all__ = [
    "RUN_CARD_FILE",
    "STATUS_FILE",
    "read_status",
    "write_status",
    "STACK",
    "package_versions",
    "source_version",
    "device_info",
    "cell_timings",
    "peak_child_memory",
    "run_card",
    "write_run_card",
    "read_executed_notebook",
    "load_run_card",
    "list_runs",
    "format_runs",
]

RUN_CARD_FILE = "run_card.json"
STATUS_FILE = "status.json"
#: distributions whose versions a run card records
STACK = (
    "hepml-nb",
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
    "scikit-learn",
    "torch",
    "onnx",
    "onnxruntime",
    "uproot",
    "awkward",
    "pythia8mc",
    "fastjet",
    "vector",
    "h5py",
    "zuko",
    "qiskit",
    "qiskit-aer",
    "qiskit-machine-learning",
    "qiskit-ibm-runtime",
    "hls4ml",
    "papermill",
    "ipykernel",
    "ipywidgets",
    "jupyterlab",
    "dask",
    "distributed",
)
_PEAK_LOCK = threading.Lock()
_last_peak_kib = 0


def package_versions(names: tuple[str, ...] = STACK) -> dict[str, str | None]:
    """Installed version of each distribution in ``names`` (None when not installed); imports nothing."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(root: Path, *args: str) -> str | None:
    if not shutil.which("git"):
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def source_version() -> dict[str, Any]:
    """``{"version", "commit", "dirty"}`` of the hepml_nb in use; commit and dirty are None outside a checkout."""
    root = Path(__file__).resolve().parents[2]
    commit = _git(root, "rev-parse", "HEAD") if (root / ".git").exists() else None
    dirty = None
    if commit is not None:
        status = _git(root, "status", "--porcelain", "--untracked-files=no")
        dirty = bool(status) if status is not None else None
    return {"version": __version__, "commit": commit, "dirty": dirty}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> list[dict[str, str]]:
    """GPUs from nvidia-smi (fast, no import), else from an already imported torch; empty when none found."""
    if shutil.which("nvidia-smi"):
        try:
            done = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
            )
            if done.returncode == 0:
                return [
                    dict(zip(("name", "memory", "driver"), (f.strip() for f in line.split(",")), strict=False))
                    for line in done.stdout.splitlines()
                    if line.strip()
                ]
        except (OSError, subprocess.SubprocessError):
            pass
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return [{"name": torch.cuda.get_device_name(i)} for i in range(torch.cuda.device_count())]
    return []


def device_info() -> dict[str, Any]:
    """CPU model, logical and usable CPUs, platform, Python and GPUs of this machine."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "gpus": _gpus(),
    }


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        parse = _dt.datetime.fromisoformat
        return round((parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds(), 3)
    except ValueError:
        return None


def cell_timings(nb: Any) -> list[dict[str, Any]]:
    """Wall time of each executed code cell from papermill's cell metadata: index, first line, seconds, status."""
    rows = []
    for index, cell in enumerate(nb.cells):
        pm = cell.get("metadata", {}).get("papermill", {})
        if cell.cell_type != "code" or not pm:
            continue
        seconds = pm.get("duration")
        if seconds is None:
            seconds = _seconds(pm.get("start_time"), pm.get("end_time"))
        first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
        rows.append(
            {
                "cell": index,
                "first_line": first[:80],
                "seconds": None if seconds is None else round(seconds, 3),
                "status": pm.get("status"),
                "start": pm.get("start_time"),
                "end": pm.get("end_time"),
            }
        )
    return rows


def peak_child_memory() -> dict[str, Any]:
    """Peak resident memory of this process's finished children (MiB), and whether it belongs to the last run.

    ``exact`` is True when the figure grew since the previous call in this process (so it was reached
    by a process that finished since), False when an earlier child peaked at least as high (the last
    run's peak is then at most ``peak_rss_mib``).
    """
    global _last_peak_kib
    kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    if sys.platform == "darwin":
        kib //= 1024  # bytes on macOS
    with _PEAK_LOCK:
        exact = kib > _last_peak_kib
        _last_peak_kib = max(_last_peak_kib, kib)
    return {
        "peak_rss_mib": round(kib / 1024, 1),
        "exact": exact,
        "measures": "largest resident set of a finished child process of the runner (the kernel, or a "
        "compiler it ran), resource.getrusage(RUSAGE_CHILDREN).ru_maxrss",
    }


def _status_identity() -> dict[str, Any]:
    """Who is running: process id, its start time and the host (to tell a dead run from a live one)."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": psutil.Process().create_time()}


def write_status(folder: Path, status: str, **details: Any) -> None:
    """Write ``status.json``: the status, the time, and who runs (process id, its start time, host)."""
    write_json_atomic(
        folder / STATUS_FILE,
        {"status": status, "time": _dt.datetime.now().isoformat(), **_status_identity(), **details},
    )


def read_status(folder: Path | str) -> dict[str, Any]:
    """``status.json`` of a run folder: ``{"status": "running" | "ok" | "failed" | "killed", ...}``.

    A run still marked running whose process is gone (killed with SIGKILL, a crashed machine) is
    reported ``killed``, and its file is updated to say so. Empty when there is no status file.
    """
    path = Path(folder) / STATUS_FILE
    try:
        status = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        return {"status": "unknown", "error": f"{STATUS_FILE} is not valid JSON"}
    if status.get("status") == "running" and _process_gone(status):
        status = {**status, "status": "killed", "error": "the run's process is gone: killed before it finished"}
        try:
            write_json_atomic(path, status)
        except OSError:  # another user's folder: report it, leave the file
            pass
    return status


def _process_gone(status: Mapping[str, Any]) -> bool:
    if status.get("host") != socket.gethostname() or not isinstance(status.get("pid"), int):
        return False
    if not process_alive(status["pid"]):
        return True
    import psutil

    try:
        started = psutil.Process(status["pid"]).create_time()
    except psutil.Error:
        return False
    return status.get("started") is not None and abs(started - float(status["started"])) > 1.0


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _default_seed(nb: Any) -> Any:
    """The ``seed`` default of the notebook node's parameters cell (None when it has none)."""
    from hepml_nb.course.params import notebook_parameters

    try:
        declared = notebook_parameters(nb) if nb is not None else {}
    except Exception:  # noqa: BLE001 - an unreadable parameters cell only loses the seed
        return None
    return declared["seed"].default if "seed" in declared else None


def _timing(folder: Path, nb: Any) -> dict[str, Any]:
    """Wall time since ``params.json`` was written, and the kernel's and each cell's time from the node ``nb``."""
    params_file = folder / "params.json"
    started = params_file.stat().st_mtime if params_file.exists() else None
    timing: dict[str, Any] = {"wall_s": None if started is None else round(_dt.datetime.now().timestamp() - started, 3)}
    if nb is not None:
        pm = nb.metadata.get("papermill", {})
        timing["kernel_s"] = pm.get("duration") or _seconds(pm.get("start_time"), pm.get("end_time"))
        timing["cells"] = cell_timings(nb)
    return timing


def run_card(folder: Path | str, nb: Any = None, *, memory: MemoryTrace | None = None) -> dict[str, Any]:
    """The run card of a run folder (see the module doc); ``nb`` is the executed notebook's node, if any.

    ``memory`` is the trace of the kernel's process tree sampled during the run; without it the
    card has the peak of the runner's finished children.
    """
    folder = Path(folder)
    params = _read_json(folder / "params.json")
    parameters = params.get("parameters", {})
    timing = _timing(folder, nb)
    return {
        "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "topic": params.get("topic"),
        "profile": params.get("profile"),
        "student": params.get("student"),
        "seed": parameters.get("seed", _default_seed(nb)),
        "parameters": parameters,
        "source": source_version(),
        "packages": package_versions(),
        "device": device_info(),
        "timing": timing,
        "memory": memory.card(timing.get("cells")) if memory is not None and memory.samples else peak_child_memory(),
    }


def write_run_card(
    folder: Path | str, notebook: Path | str | None = None, *, nb: Any = None, memory: MemoryTrace | None = None
) -> dict[str, Any] | None:
    """Write ``run_card.json`` into ``folder`` and the card into the metadata of the executed notebook ``notebook``.

    ``nb`` is that notebook's node when the caller holds it (papermill returns it after a run that
    finished); otherwise the file is read, once. Never raises (it runs after a notebook failed, too):
    a problem is printed and None returned.
    """
    try:
        unreadable = ""
        if nb is None and notebook is not None and Path(notebook).exists():
            nb, unreadable = read_executed_notebook(notebook)
        card = run_card(folder, nb, memory=memory)
        if unreadable:
            card["timing"]["error"] = unreadable
        write_json_atomic(Path(folder) / RUN_CARD_FILE, card)
        if notebook is not None and nb is not None:
            import nbformat

            nb.metadata.setdefault("hepml_nb", {})["run_card"] = json.loads(json.dumps(card))
            with atomic_output(notebook) as tmp:
                nbformat.write(nb, str(tmp))
        return card
    except Exception as exc:  # noqa: BLE001 - a run card must never hide the run's own outcome
        print(f"warning: the run card of {folder} was not written ({type(exc).__name__}: {exc})", file=sys.stderr)
        return None


def read_executed_notebook(notebook: Path | str) -> tuple[Any, str]:
    """(the executed notebook's node, "") or (None, why it cannot be read: missing, or a kernel killed mid-save)."""
    import nbformat

    try:
        return nbformat.read(notebook, as_version=4), ""
    except (OSError, ValueError) as exc:
        return None, f"cannot read {notebook}: {exc}"


def load_run_card(folder: Path | str) -> dict[str, Any]:
    """``run_card.json`` of a run folder (empty when absent or unreadable)."""
    return _read_json(Path(folder) / RUN_CARD_FILE)


#: metric names shown first by :func:`format_runs` (a substring match, in this order)
_KEY_METRICS = ("auc", "accuracy", "rejection", "jsd", "separation", "latency", "n_failed", "all_ok")


def _key_metrics(metrics: dict[str, Any], limit: int = 3) -> dict[str, Any]:
    flat = {k: v for k, v in flatten_metrics(metrics).items() if isinstance(v, (int, float))}
    ranked = sorted(
        flat, key=lambda k: next((i for i, word in enumerate(_KEY_METRICS) if word in k.lower()), len(_KEY_METRICS))
    )
    return {k: flat[k] for k in ranked[:limit]}


def list_runs(folder: Path | str = "runs") -> list[dict[str, Any]]:
    """Every run folder under ``folder`` (a folder holding ``params.json``), oldest first.

    Each row: ``path`` (relative to ``folder``), ``topic``, ``profile``, ``status``, ``started`` (ISO time),
    ``wall_s``, ``peak_rss_mib`` and ``metrics`` (up to three key metrics).
    """
    folder = Path(folder)
    rows = []
    for params_file in sorted(folder.rglob("params.json"), key=lambda p: p.stat().st_mtime):
        run = params_file.parent
        params, status = _read_json(params_file), read_status(run)
        card, metrics = _read_json(run / RUN_CARD_FILE), _read_json(run / "metrics.json")
        started = _dt.datetime.fromtimestamp(params_file.stat().st_mtime).isoformat(timespec="seconds")
        rows.append(
            {
                "path": str(run.relative_to(folder)) if run != folder else ".",
                "topic": params.get("topic"),
                "profile": params.get("profile"),
                "status": status.get("status", "unknown"),
                "started": started,
                "wall_s": card.get("timing", {}).get("wall_s"),
                "peak_rss_mib": card.get("memory", {}).get("peak_tree_mib", card.get("memory", {}).get("peak_rss_mib")),
                "metrics": _key_metrics(metrics),
                "error": status.get("error", ""),
            }
        )
    return rows


def format_runs(rows: list[dict[str, Any]]) -> str:
    """A text table of :func:`list_runs` rows."""
    header = ("run", "topic", "profile", "status", "started", "wall", "peak mem", "key metrics")
    lines = [header]
    for row in rows:
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row["metrics"].items())
        if row["status"] == "failed" and row["error"]:
            shown = row["error"][:80]
        lines.append(
            (
                row["path"],
                str(row["topic"]),
                str(row["profile"]),
                row["status"],
                row["started"],
                "" if row["wall_s"] is None else f"{row['wall_s']:.0f} s",
                "" if row["peak_rss_mib"] is None else f"{row['peak_rss_mib']:.0f} MiB",
                shown,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        ("  ".join(f"{c:<{w}}" for c, w in zip(line[:-1], widths, strict=False)) + "  " + line[-1]).rstrip()
        for line in lines
    )
