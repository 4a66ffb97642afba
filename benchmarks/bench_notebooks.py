"""Time and memory of every topic's notebook, measured the way a learner runs it; the figures behind the docs.

Each topic runs in a fresh process (``hepml-nb run TOPIC --profile P``) with a fresh, empty data cache
(``--warm``: a cache filled by a first run). While it runs, the resident memory of the whole process
tree is sampled with psutil (:mod:`hepml_nb.course.memory`); the run card of the run gives the tree of
the kernel alone (the kernel and every process it starts: what must fit a JupyterHub or Binder
session next to JupyterLab). One JSON record per topic goes to ``benchmarks/results/`` with the
machine and the commit, the run's headline figures (the last lines of ``hepml-nb run``), the CPU time
of the run (``cpu_s``) and what other processes of the machine used meanwhile (``other_cpu_s``: a
shared machine's wall times are upper bounds), and a markdown table is printed.
``python benchmarks/tables.py`` then writes the tables of the docs (tutorials/README.md
and each guide) from these records.

``--concurrent 4`` is the hub-scale check: four ``ci`` runs of different topics at once, sharing one
data cache warmed beforehand and made read-only (as a school's JupyterHub image would ship it). It
records each run's peak and wall time and their sum, checks that every run ends ok with the metrics of
the warm sequential run, and that nothing in the cache changed. Run by root, it runs the four as
another user (``--user``, default ``nobody``), who does not own the cache: the permissions stop a
write as they stop a student's (root's writes would pass, and only the cache's digest would tell).

    python benchmarks/bench_notebooks.py                      # every topic, default profile, cold cache
    python benchmarks/bench_notebooks.py --profile ci qml     # one topic, ci profile
    python benchmarks/bench_notebooks.py calogan -p train_gan True   # default profile with a parameter changed
    python benchmarks/bench_notebooks.py --concurrent 4       # four ci runs at once on a read-only cache
    sudo python benchmarks/bench_notebooks.py --concurrent 4  # ... as user nobody, as students on a hub
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import pwd
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil

from hepml_nb.core.results import flatten_metrics, write_json_atomic
from hepml_nb.course.catalog import PROFILES, TOPICS
from hepml_nb.course.cli import headline_lines
from hepml_nb.course.memory import MEASURES, MemorySampler
from hepml_nb.course.runcard import device_info, load_run_card, source_version

RESULTS = Path(__file__).resolve().parent / "results"
MiB = 2**20
TIMING_WORDS = ("seconds", "_s", "_us", "_ms", "time", "speed", "per_second", "rate", "duration", "timings")


def _machine() -> dict[str, Any]:
    device = device_info()
    return {
        "cpu_model": device["cpu_model"],
        "usable_cpus": device["usable_cpus"],
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": device["platform"],
        "python": device["python"],
    }


def _start(
    topic: str, profile: str, out: Path, cache: Path, *, user: str | None = None, params: Sequence[tuple[str, str]] = ()
) -> subprocess.Popen:
    """``hepml-nb run`` of ``topic`` (``params``: ``-p NAME VALUE`` each) in a fresh process; as ``user`` (root
    only), with a home of its own."""
    command = [
        sys.executable,
        "-P",
        "-m",
        "hepml_nb.course.cli",
        "run",
        topic,
        "--profile",
        profile,
        "-q",
        "--out",
        str(out),
        *(arg for name, value in params for arg in ("-p", name, value)),
    ]
    env = {**os.environ, "HEPML_NB_CACHE": str(cache)}
    if user is None:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    account = pwd.getpwnam(user)
    home = out.parent / f"home-{topic}"
    home.mkdir(parents=True, mode=0o700)
    os.chown(home, account.pw_uid, account.pw_gid)
    os.chown(out.parent, account.pw_uid, account.pw_gid)
    env.update(HOME=str(home), USER=user, LOGNAME=user)
    return subprocess.Popen(
        command,
        env=env,
        cwd=home,
        user=account.pw_uid,
        group=account.pw_gid,
        extra_groups=[],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(topic: str, profile: str, process: subprocess.Popen, sampler: MemorySampler, start: float, out: Path):
    output = process.communicate()[0]
    wall = time.monotonic() - start
    trace = sampler.stop()
    card = load_run_card(out)
    memory = card.get("memory", {})
    return {
        "topic": topic,
        "profile": profile,
        "status": "ok" if process.returncode == 0 else "failed",
        "wall_s": round(wall, 1),
        "peak_process_tree_mib": round(trace.peak_tree / MiB, 1),
        "peak_kernel_tree_mib": memory.get("peak_tree_mib"),
        "peak_kernel_tree_rss_mib": memory.get("peak_tree_rss_mib"),
        "peak_kernel_mib": memory.get("peak_kernel_mib"),
        "at_peak": memory.get("at_peak", []),
        "peak_cells": sorted(
            (
                {"first_line": c["first_line"], "peak_mib": c.get("peak_mib")}
                for c in card.get("timing", {}).get("cells", [])
            ),
            key=lambda c: -(c["peak_mib"] or 0),
        )[:3],
        "measures": f"peak_kernel_tree_mib: {MEASURES}; peak_process_tree_mib: the same for the whole "
        "`hepml-nb run` process tree (the runner included)",
        "error": output[-2000:] if process.returncode else "",
        "metrics": json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").exists() else {},
    }


def _peak_cells(card: dict[str, Any], n: int = 3) -> list[dict[str, Any]]:
    """The ``n`` cells of a run card with the highest memory peak."""
    cells = [
        {"first_line": c["first_line"], "peak_mib": c.get("peak_mib")} for c in card.get("timing", {}).get("cells", [])
    ]
    return sorted(cells, key=lambda c: -(c["peak_mib"] or 0))[:n]


def run_one(
    topic: str, profile: str, cache: Path, work: Path, *, params: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    """Run ``topic`` in a fresh process with ``cache`` (``params``: parameters changed from the profile's);
    its record (see the module doc)."""
    out = work / f"{topic}-{profile}"
    sampler = MemorySampler()
    machine, own = _busy_cpu_s(), _children_cpu_s()
    start = time.monotonic()
    process = _start(topic, profile, out, cache, params=params)
    sampler.start(process.pid)
    record = _finish(topic, profile, process, sampler, start, out)
    if params:
        record["params"] = dict(params)
    own = _children_cpu_s() - own
    record["cpu_s"] = round(own, 1)
    record["other_cpu_s"] = round(max(_busy_cpu_s() - machine - own, 0.0), 1)
    return record


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (every process, every core) since boot."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + getattr(times, "irq", 0) + getattr(times, "softirq", 0)


def _children_cpu_s() -> float:
    """User + system CPU seconds of the finished child processes of this one (the runs and what they started)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _record(
    record: dict[str, Any], *, cache_state: str, command: str, results: list[str] | None = None
) -> dict[str, Any]:
    """``record`` with the machine, commit, date and command (and ``results``: the run's headline figures)."""
    return {
        **record,
        **({"results": results} if results is not None else {}),
        "cache": cache_state,
        "machine": _machine(),
        "commit": source_version(),
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
    }


def _table(records: list[dict[str, Any]]) -> str:
    lines = [
        "| topic | profile | cache | status | peak, kernel + children | wall time |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['topic']} | {r['profile']} | {r.get('cache', '')} | {r['status']} | "
            f"{r['peak_kernel_tree_mib'] or 0:,.0f} MiB | {r['wall_s']:.0f} s |"
        )
    return "\n".join(lines)


def _cache_digest(cache: Path) -> dict[str, str]:
    return {
        str(p.relative_to(cache)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(cache.rglob("*"))
        if p.is_file()
    }


def _read_only(cache: Path) -> None:
    for path in [cache, *cache.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _physics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics without timings (flattened, lists kept)."""
    flat = flatten_metrics(metrics, lists=True)
    return {k: v for k, v in flat.items() if not any(word in k for word in TIMING_WORDS)}


def concurrent(topics: list[str], work: Path, command: str, *, user: str | None = None) -> dict[str, Any]:
    """The hub-scale check of the module doc: ``topics`` at once on a warmed, read-only cache (as ``user``)."""
    cache = work / "cache"
    cache.mkdir()
    warm = {t: run_one(t, "ci", cache, work / "warm") for t in topics}  # fills the cache, gives the metrics
    before = _cache_digest(cache)
    _read_only(cache)
    if user is not None:  # the other user passes through the work folder to the cache and its own folders
        work.chmod(0o711)
    try:
        samplers, processes, start = {}, {}, time.monotonic()
        for topic in topics:
            samplers[topic] = MemorySampler()
            processes[topic] = _start(topic, "ci", work / "together" / f"{topic}-ci", cache, user=user)
            samplers[topic].start(processes[topic].pid)
        with ThreadPoolExecutor(len(topics)) as pool:  # one waiter each: a run's wall time ends when it does
            runs = list(
                pool.map(
                    lambda t: _finish(t, "ci", processes[t], samplers[t], start, work / "together" / f"{t}-ci"),
                    topics,
                )
            )
    finally:
        for path in [cache, *cache.rglob("*")]:
            path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR)
    same = {r["topic"]: _physics(r["metrics"]) == _physics(warm[r["topic"]]["metrics"]) for r in runs}
    record = {
        "topics": topics,
        "profile": "ci",
        "user": user or psutil.Process().username(),
        "cache_owner": pwd.getpwuid(cache.stat().st_uid).pw_name,
        "runs": [{k: v for k, v in r.items() if k != "metrics"} for r in runs],
        "all_ok": all(r["status"] == "ok" for r in runs),
        "metrics_as_alone": same,
        "cache_unchanged": _cache_digest(cache) == before,
        "sum_of_peaks_mib": round(sum(r["peak_kernel_tree_mib"] or 0 for r in runs), 1),
        "wall_s": round(max(r["wall_s"] for r in runs), 1),
    }
    return _record(record, cache_state="warm, read-only", command=command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topics", nargs="*", help="topics (default: every topic)")
    parser.add_argument("--profile", default="default", choices=PROFILES)
    parser.add_argument("--warm", action="store_true", help="run each topic twice and record the second (warm) run")
    parser.add_argument("--concurrent", type=int, metavar="N", help="N ci runs of different topics at once")
    parser.add_argument(
        "--user",
        help="with --concurrent, run as this user (default when root: nobody; 'root' keeps root)",
    )
    parser.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter changed from the profile's, as `hepml-nb run -p` takes it (its own record)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the records (benchmarks/results)")
    args = parser.parse_args(argv)
    params = [(name, value) for name, value in args.param]
    if params and args.concurrent:
        parser.error("--param is for sequential runs; --concurrent runs the ci profile as it is")
    command = "python benchmarks/bench_notebooks.py " + " ".join(argv if argv is not None else sys.argv[1:])
    topics = args.topics or list(TOPICS)
    work = Path(tempfile.mkdtemp(prefix="bench-notebooks-"))
    try:
        if args.concurrent:
            chosen = [t for t in TOPICS if t != "setup"][: args.concurrent] if not args.topics else topics
            user = args.user or ("nobody" if os.geteuid() == 0 else None)
            record = concurrent(chosen, work, command.strip(), user=None if user == "root" else user)
            write_json_atomic(args.out / "notebooks-concurrent-ci.json", record)
            print(_table(record["runs"]))
            print(
                f"all ok: {record['all_ok']}; metrics as when alone: {record['metrics_as_alone']}; cache unchanged: "
                f"{record['cache_unchanged']}; sum of the {len(chosen)} peaks: {record['sum_of_peaks_mib']:,.0f} MiB"
            )
            return (
                0 if record["all_ok"] and record["cache_unchanged"] and all(record["metrics_as_alone"].values()) else 1
            )
        records = []
        for topic in topics:
            cache = work / f"cache-{topic}"
            cache.mkdir()
            if args.warm:
                run_one(topic, args.profile, cache, work / "first", params=params)
            raw = run_one(topic, args.profile, cache, work, params=params)
            record = _record(
                {k: v for k, v in raw.items() if k != "metrics"},
                results=[line.strip() for line in headline_lines(TOPICS[topic].headline, raw["metrics"])],
                cache_state="warm" if args.warm else "cold",
                command=command.strip(),
            )
            suffix = "-warm" if args.warm else ""
            changed = re.sub(r"[^\w.=+-]", "_", "".join(f"+{name}={value}" for name, value in params))
            write_json_atomic(args.out / f"notebooks-{args.profile}{suffix}-{topic}{changed}.json", record)
            records.append(record)
            print(_table([record]).splitlines()[-1], flush=True)
        print(_table(records))
        return 0 if all(r["status"] == "ok" for r in records) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
