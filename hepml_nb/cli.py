"""The ``hepml-nb`` command: list topics, show parameters, run notebooks, sweeps, student builds."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from hepml_nb.core.catalog import PROFILES, TOPICS, get_topic, notebook_path
from hepml_nb.core.errors import HepmlError, ParameterError

__all__ = ["main", "flatten_metrics"]


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metrics as ``{"a.b": value}`` with scalar values only (lists are skipped)."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, f"{name}."))
        elif isinstance(value, (int, float, str, bool)) or value is None:
            flat[name] = value
    return flat


def _print_metrics(metrics: Mapping[str, Any]) -> None:
    flat = flatten_metrics(metrics)
    width = max((len(k) for k in flat), default=0)
    for key, value in flat.items():
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown}")


def _cmd_list(args: argparse.Namespace) -> int:
    for topic in TOPICS.values():
        print(f"{topic.key:<12} {topic.notebook:<36} {topic.title}")
        print(f"{'':<12} {topic.summary}")
        print(f"{'':<12} profiles: {', '.join(PROFILES)}")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    from hepml_nb.core.params import format_parameters, read_parameters

    topic = get_topic(args.topic)
    print(f"parameters of {topic.key} ({topic.notebook}):\n")
    print(format_parameters(read_parameters(notebook_path(topic.key))))
    for profile in PROFILES:
        overrides = topic.profiles.get(profile, {})
        shown = ", ".join(f"{k}={v!r}" for k, v in overrides.items()) or "(notebook defaults)"
        print(f"\nprofile {profile}: {shown}")
    return 0


def _run_one(topic: str, args: argparse.Namespace, out: Path | None) -> int:
    from hepml_nb.core.runner import execute

    params = dict(args.param or [])
    result = execute(topic, args.profile, out, progress=not args.quiet, **params)
    print(f"{topic}: finished, results in {result.run_dir}")
    _print_metrics(result.metrics)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from hepml_nb.core.runner import prepare_run

    topics = list(TOPICS) if args.topic == "all" else [get_topic(args.topic).key]
    params = dict(args.param or [])
    for topic in topics:  # validate everything before the first kernel starts
        prepare_run(topic, args.profile, params)
    failed = []
    for topic in topics:
        out = (Path(args.out) / topic if len(topics) > 1 else Path(args.out)) if args.out else None
        try:
            _run_one(topic, args, out)
        except HepmlError as exc:
            if len(topics) == 1:
                raise
            print(f"error: {exc}", file=sys.stderr)
            failed.append(topic)
    if failed:
        print(f"failed topics: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from hepml_nb.core.sweep import format_rows, sweep

    grid: dict[str, list[str]] = {}
    for name, *values in args.param or []:
        if not values:
            raise ParameterError(f"-p {name} needs at least one value: -p {name} V1 V2 ...")
        grid[name] = values
    rows = sweep(get_topic(args.topic).key, grid, profile=args.profile, out=args.out,
                 scheduler=args.scheduler, n_workers=args.workers)
    print(format_rows(rows))
    return 0 if all(row["status"] == "ok" for row in rows) else 1


def _cmd_student(args: argparse.Namespace) -> int:
    from hepml_nb.core.teaching import write_student_notebooks

    if args.notebook == "all":
        paths = [notebook_path(key) for key in TOPICS]
    elif args.notebook in TOPICS:
        paths = [notebook_path(args.notebook)]
    else:
        paths = [Path(args.notebook)]
    for path, count in write_student_notebooks(paths, args.out):
        print(f"{path}  ({count} exercise cells)")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hepml-nb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="topics, notebooks and profiles")
    params = sub.add_parser("params", help="parameters of a topic's notebook")
    params.add_argument("topic")
    run = sub.add_parser("run", help="execute a topic's notebook (or 'all') with papermill")
    run.add_argument("topic", help="topic key or 'all'")
    run.add_argument("--profile", default="default", choices=PROFILES)
    run.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"))
    run.add_argument("--out", help="run folder (default runs/<topic>/<time>-<profile>)")
    run.add_argument("-q", "--quiet", action="store_true", help="no cell progress bar")
    sweep = sub.add_parser("sweep", help="a grid of runs on a Dask cluster")
    sweep.add_argument("topic")
    sweep.add_argument("-p", "--param", nargs="+", action="append", metavar="NAME V1",
                       help="a parameter and its values: -p NAME V1 V2 ...")
    sweep.add_argument("--profile", default="default", choices=PROFILES)
    sweep.add_argument("--out", help="base folder of the runs")
    sweep.add_argument("--scheduler", help="address of an existing Dask scheduler (default: a local cluster)")
    sweep.add_argument("--workers", type=int, help="workers of the local cluster (default: one per core)")
    student = sub.add_parser("student", help="student version of a notebook (solutions removed)")
    student.add_argument("notebook", help="topic key, notebook path or 'all'")
    student.add_argument("--out", required=True, help="folder for the student notebooks")
    return parser


_COMMANDS = {"list": _cmd_list, "params": _cmd_params, "run": _cmd_run, "sweep": _cmd_sweep,
             "student": _cmd_student}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hepml-nb``; returns the exit status (2 for a usage mistake)."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except HepmlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
