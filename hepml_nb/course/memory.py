"""Memory of a run: the kernel's process tree sampled while it runs, and what this machine has free.

:class:`MemorySampler` samples the memory of the kernel and of every process it starts (generation
workers, compilers, forked children) with psutil every 0.2 s. The figure that must fit a JupyterHub or
Binder session is the sum over the tree of each process's *proportional* resident memory (PSS: a page
shared by n processes counts 1/n in each), which counts the pages a forked worker shares with the kernel
once, as the session's memory cgroup does; the plain sum of resident sets (RSS), which counts them once
per process, is recorded beside it. Its :class:`MemoryTrace` gives the peaks, the processes at the peak
and the peak during each cell.

:func:`available_memory` is what this session may still use: the cgroup limit minus its usage where
a limit is set (JupyterHub's spawners and Binder set one), else the free memory of the machine.
:func:`memory_warning` compares it, before a run starts, with the need measured by
``benchmarks/bench_notebooks.py`` for the topic and profile (``measured.json`` beside this module,
written from the benchmark's records by ``python benchmarks/tables.py``).
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import time
from importlib.resources import files
from pathlib import Path
from typing import Any, NamedTuple

import psutil

__all__ = [
    "MemorySample",
    "MemoryTrace",
    "MemorySampler",
    "available_memory",
    "measured_needs",
    "memory_warning",
    "MEASURES",
]

MiB = 2**20
#: what the sampled figure is, for run cards and benchmark records
MEASURES = (
    "sum of the proportional resident memory (PSS) of the kernel and every process it started, sampled every "
    "0.2 s with psutil: pages shared by forked processes counted once, as a session's memory cgroup charges them "
    "(peak_tree_rss_mib: the plain sum of resident sets, shared pages once per process)"
)
#: smaller profiles to suggest when a profile does not fit
_SMALLER = {"full": "default", "default": "ci"}


class MemorySample(NamedTuple):
    """One sample: time (s since the epoch); PSS and RSS summed over the tree, RSS of the kernel alone [bytes]."""

    time: float
    tree: int
    tree_rss: int
    kernel: int


class MemoryTrace(NamedTuple):
    """The samples of a run, its peaks [bytes] and the processes at the tree's peak (command, PSS bytes)."""

    samples: tuple[MemorySample, ...]
    peak_tree: int
    peak_kernel: int
    at_peak: tuple[tuple[str, int], ...]

    @property
    def peak_tree_rss(self) -> int:
        """The largest plain sum of resident sets over the tree."""
        return max((s.tree_rss for s in self.samples), default=0)

    def peak_between(self, start: float, end: float) -> int | None:
        """The tree's peak over samples from ``start`` to ``end`` (a short cell: the first sample after it)."""
        inside = [s.tree for s in self.samples if start <= s.time <= end]
        if inside:
            return max(inside)
        after = [s.tree for s in self.samples if s.time > end]
        return after[0] if after else None

    def card(self, cells: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The run card's ``memory`` section; adds ``peak_mib`` to each of ``cells`` (rows with start/end times)."""
        for row in cells or []:
            start, end = _epoch(row.get("start")), _epoch(row.get("end"))
            peak = self.peak_between(start, end) if start is not None and end is not None else None
            row["peak_mib"] = None if peak is None else round(peak / MiB, 1)
        return {
            "peak_tree_mib": round(self.peak_tree / MiB, 1),
            "peak_tree_rss_mib": round(self.peak_tree_rss / MiB, 1),
            "peak_kernel_mib": round(self.peak_kernel / MiB, 1),
            "at_peak": [{"command": command, "pss_mib": round(pss / MiB, 1)} for command, pss in self.at_peak],
            "samples": len(self.samples),
            "measures": MEASURES,
        }


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return _dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _command(proc: psutil.Process) -> str:
    try:
        words = proc.cmdline()
    except psutil.Error:
        return "?"
    return " ".join(Path(words[0]).name if i == 0 else w for i, w in enumerate(words[:4])) or proc.name()


class MemorySampler:
    """Samples the resident memory of a process and its descendants in a thread, from :meth:`start` to :meth:`stop`.

    With a ``limit`` [bytes], ``on_exceed(tree_bytes)`` is called once when the tree goes above it
    (the kernel sandbox then stops the kernel, as a JupyterHub or Binder session's memory limit would).
    """

    def __init__(self, interval: float = 0.2, *, limit: int | None = None, on_exceed: Any = None):
        self.interval, self.limit, self.on_exceed = interval, limit, on_exceed
        self._samples: list[MemorySample] = []
        self._peak = -1
        self._at_peak: tuple[tuple[str, int], ...] = ()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        """Start sampling the process ``pid`` and everything it starts."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(pid,), daemon=True, name="hepml-nb-memory")
            self._thread.start()

    def _run(self, pid: int) -> None:
        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            self._sample(root)
            self._stop.wait(self.interval)

    def _sample(self, root: psutil.Process) -> None:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        sizes = []
        for proc in procs:
            try:
                info = proc.memory_full_info()
            except psutil.Error:
                continue
            sizes.append((proc, getattr(info, "pss", info.rss), info.rss))
        if not sizes:
            return
        tree, tree_rss = sum(s[1] for s in sizes), sum(s[2] for s in sizes)
        kernel = sizes[0][2] if sizes[0][0] is root else 0
        if tree > self._peak:
            self._peak = tree
            self._at_peak = tuple(sorted(((_command(p), pss) for p, pss, _ in sizes), key=lambda x: -x[1]))[:8]
        self._samples.append(MemorySample(time.time(), tree, tree_rss, kernel))
        if self.limit is not None and tree > self.limit and self.on_exceed is not None:
            exceed, self.on_exceed = self.on_exceed, None
            exceed(tree)

    def stop(self) -> MemoryTrace:
        """Stop sampling; the trace so far."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return self.trace()

    def trace(self) -> MemoryTrace:
        """The samples so far and their peaks."""
        samples = tuple(self._samples)
        return MemoryTrace(
            samples,
            max((s.tree for s in samples), default=0),
            max((s.kernel for s in samples), default=0),
            self._at_peak,
        )


def _cgroup_available(proc: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")):
    """(bytes left under this process's memory cgroup limit, where the limit is), or None without a limit."""
    try:
        lines = proc.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2
            base = root / path.lstrip("/")
            limit, usage = base / "memory.max", base / "memory.current"
        elif "memory" in controllers.split(","):  # cgroup v1
            base = root / "memory" / path.lstrip("/")
            limit, usage = base / "memory.limit_in_bytes", base / "memory.usage_in_bytes"
        else:
            continue
        try:
            text = limit.read_text().strip()
            if text == "max" or int(text) >= 2**60:
                return None
            return int(text) - int(usage.read_text().strip()), f"the memory limit of this session ({limit})"
        except (OSError, ValueError):
            return None
    return None


def available_memory() -> tuple[int, str]:
    """(bytes this session may still use, where the figure comes from): a cgroup's room, else free memory."""
    return _cgroup_available() or (psutil.virtual_memory().available, "the free memory of this machine")


def measured_needs() -> dict[str, Any]:
    """``measured.json``: per topic and profile, the kernel tree's peak and wall time the benchmark measured."""
    try:
        return json.loads((files("hepml_nb.course") / "measured.json").read_text())
    except (OSError, ValueError):
        return {}


def memory_warning(topic: str, profile: str, *, available: tuple[int, str] | None = None) -> str:
    """A warning when the measured peak of ``topic``'s ``profile`` exceeds the memory available; else ''."""
    need = measured_needs().get(topic, {}).get(profile)
    if not need:
        return ""
    free, where = available or available_memory()
    peak = float(need["peak_kernel_tree_mib"]) * MiB
    if peak <= free:
        return ""
    smaller = _SMALLER.get(profile)
    fix = (
        f"run --profile {smaller} (measured {measured_needs()[topic][smaller]['peak_kernel_tree_mib']:.0f} MiB)"
        if (smaller and smaller in measured_needs().get(topic, {}))
        else "make the sizes smaller (hepml-nb params shows them)"
    )
    return (
        f"warning: the {profile} profile of {topic} peaked at {need['peak_kernel_tree_mib']:.0f} MiB when measured "
        f"(benchmarks/bench_notebooks.py, commit {need.get('commit', '?')[:8]}), more than the {free / MiB:.0f} MiB "
        f"{where} has free: the kernel may be killed. To fit, {fix}, or close other notebooks."
    )
