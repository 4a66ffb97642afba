"""The ``hepml-nb`` command: list topics, show parameters, run notebooks, sweeps, student builds."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hepml_nb._version import __version__
from hepml_nb.core.errors import DataError, HepmlError, ParameterError
from hepml_nb.core.results import flatten_metrics
from hepml_nb.core.topics import Headline
from hepml_nb.course.catalog import PROFILES, TOPICS, get_topic, notebook_path

__all__ = ["main", "headline_lines"]


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _fills(item: Headline, flat: Mapping[str, Any]) -> list[str]:
    """What the ``*`` of a headline stands for: the names of its first companion pattern (else of its key)."""
    if "*" not in item.key:
        return [""] if item.key in flat else []
    pattern = next(p for p in (item.error, item.low, item.key) if p)
    prefix, _, suffix = pattern.partition("*")
    fills = [k[len(prefix) : len(k) - len(suffix)] for k in flat if k.startswith(prefix) and k.endswith(suffix)]
    return [f for f in fills if item.key.replace("*", f) in flat]


def headline_lines(headline: Sequence[Headline], metrics: Mapping[str, Any]) -> list[str]:
    """The headline figures of a run, one line each: ``label (name): value +- error`` or ``value [low, high]``.

    A ``*`` in a headline's key stands for every name that fills it (every tagger); figures absent
    from ``metrics`` are left out.
    """
    flat = flatten_metrics(metrics)
    lines = []
    for item in headline:
        for fill in _fills(item, flat):
            key = item.key.replace("*", fill)
            value = _shown(flat[key])
            if item.error and flat.get(item.error.replace("*", fill)) is not None:
                value += f" +- {_shown(flat[item.error.replace('*', fill)])}"
            low = flat.get(item.low.replace("*", fill)) if item.low else None
            if low is not None and item.high:
                high = flat.get(item.high.replace("*", fill))
                value += f" [{_shown(low)}, {'inf' if high is None else _shown(high)}]"
            lines.append(f"  {item.label}{f' ({fill})' if fill else ''}: {value}")
    return lines


def _cmd_list(args: argparse.Namespace) -> int:
    if getattr(args, "runs", None):
        return _cmd_list_runs(args)
    for topic in TOPICS.values():
        print(f"{topic.key:<12} {topic.notebook:<36} {topic.title}")
        print(f"{'':<12} {topic.summary}")
        print(f"{'':<12} profiles: {', '.join(PROFILES)}")
    return 0


def _cmd_list_runs(args: argparse.Namespace) -> int:
    from hepml_nb.course.kernel import remove_stale_kernel_folders
    from hepml_nb.course.runcard import format_runs, list_runs

    remove_stale_kernel_folders()  # left behind by runs killed with SIGKILL
    if not Path(args.runs).is_dir():
        raise ParameterError(f"no run folder {args.runs!r}; give the folder your runs went to (default runs/)")
    rows = list_runs(args.runs)
    print(format_runs(rows) if rows else f"no runs under {args.runs}")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    from hepml_nb.course.params import format_parameters, read_parameters

    topic = get_topic(args.topic)
    print(f"parameters of {topic.key} ({topic.notebook}):\n")
    print(format_parameters(read_parameters(notebook_path(topic.key)), topic.rules))
    for profile in PROFILES:
        overrides = topic.profiles.get(profile, {})
        shown = ", ".join(f"{k}={v!r}" for k, v in overrides.items()) or "(notebook defaults)"
        print(f"\nprofile {profile}: {shown}")
    return 0


def _run_one(plan: Any, args: argparse.Namespace) -> int:
    from hepml_nb.course.kernel import KernelLimits
    from hepml_nb.course.runner import launch

    result = launch(plan, log_output=not args.quiet, limits=KernelLimits(memory_mib=args.memory_limit))
    print(f"{plan.topic}: finished, results in {result.run_dir}")
    print("\n".join(headline_lines(get_topic(plan.topic).headline, result.metrics)))
    print(f"every metric: {result.run_dir / 'metrics.json'}")
    _print_exercises(result.run_dir)
    return 0


def _print_exercises(folder: Path) -> None:
    """The exercise verdicts a run recorded (``exercises.json``), one line each."""
    from hepml_nb.core.exercises import load_verdicts

    verdicts = load_verdicts(folder)
    if verdicts:
        print("exercises:")
    for item in verdicts:
        reason = f" ({item['reason']})" if item.get("reason") else ""
        print(f"  {item['exercise']:<32} {item['verdict']}{reason}")


def _cmd_run(args: argparse.Namespace) -> int:
    from hepml_nb.course.runner import prepare_run

    topics = list(TOPICS) if args.topic == "all" else [get_topic(args.topic).key]
    params = dict(args.param or [])
    plans = [  # everything is checked before the first kernel starts
        prepare_run(
            topic,
            args.profile,
            params,
            out=(Path(args.out) / topic if len(topics) > 1 else Path(args.out)) if args.out else None,
            force=args.force,
            student=args.student,
        )
        for topic in topics
    ]
    from hepml_nb.course.memory import memory_warning

    for plan in plans:  # before anything starts: a profile measured above the memory this session has
        warning = memory_warning(plan.topic, plan.profile)
        if warning:
            print(warning, file=sys.stderr)
    failed = []
    for plan in plans:
        try:
            _run_one(plan, args)
        except HepmlError as exc:
            if len(plans) == 1:
                raise
            print(f"error: {exc}", file=sys.stderr)
            failed.append(plan.topic)
    if failed:
        print(f"failed topics: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from hepml_nb.course.sweep import format_rows, sweep

    grid: dict[str, list[str]] = {}
    for name, *values in args.param or []:
        if not values:
            raise ParameterError(f"-p {name} needs at least one value: -p {name} V1 V2 ...")
        grid[name] = values
    rows = sweep(
        get_topic(args.topic).key,
        grid,
        profile=args.profile,
        out=args.out,
        scheduler=args.scheduler,
        n_workers=args.workers,
    )
    print(format_rows(rows))
    return 0 if all(row["status"] == "ok" for row in rows) else 1


def _cmd_student(args: argparse.Namespace) -> int:
    from hepml_nb.course.teaching import write_student_notebooks

    if args.notebook == "all":
        paths = [notebook_path(key) for key in TOPICS]
    elif args.notebook in TOPICS:
        paths = [notebook_path(args.notebook)]
    else:
        paths = [Path(args.notebook)]
    for path, count in write_student_notebooks(paths, args.out):
        print(f"{path}  ({count} exercise cells)")
    return 0


def _cmd_grade(args: argparse.Namespace) -> int:
    from hepml_nb.course.grading import default_limits, format_summary, grade, write_grades
    from hepml_nb.course.kernel import KernelLimits

    out = Path(args.out)
    work = Path(args.work_dir) if args.work_dir else out.with_name(f"{out.stem}-runs")
    base = default_limits()
    limits = KernelLimits(
        user=base.user if args.user is None else (None if args.user == "-" else args.user),
        memory_mib=args.memory_limit,
        wall_seconds=args.time_limit,
        clean_environment=True,
    )
    if limits.user is None:
        print(
            "warning: the submissions run with your own permissions (run hepml-nb grade as root to run them as "
            "nobody, or in a container); see SECURITY.md",
            file=sys.stderr,
        )
    rows = grade(
        args.submissions,
        profile=args.profile,
        params=dict(args.param or []),
        work_dir=work,
        topic=args.topic,
        limits=limits,
        cell_timeout=args.timeout,
    )
    grades, summary = write_grades(rows, out)
    print(format_summary(rows))
    print(f"grades: {grades}\nsummary: {summary}\nexecuted submissions: {work}")
    return 0


def _cmd_book(args: argparse.Namespace) -> int:
    from hepml_nb.course.book import build_book

    result = build_book(
        args.out,
        profile=args.profile,
        build_dir=args.build_dir,
        topics=args.topics or None,
        jupyterhub=args.jupyterhub_url or "",
        repository=args.repository,
        log=args.verbose,
        quiet=not args.verbose,
    )
    state = "built" if result.built else "up to date (nothing changed)"
    print(f"book {state} in {result.seconds:.1f} s: open {result.out / 'index.html'}")
    print(f"executed notebooks reused from the cache: {', '.join(result.reused) or 'none'}")
    return 0


def _cmd_pack(args: argparse.Namespace) -> int:
    from hepml_nb.course.pack import build_pack

    result = build_pack(
        args.out,
        wheels=not args.no_wheels,
        site=not args.no_site,
        cache=args.with_cache,
        site_profile=args.site_profile,
        build_dir=args.build_dir,
        force=args.force,
    )
    print(
        f"school pack in {result.out}: {result.n_files} files, {result.size_bytes / 2**20:.1f} MiB, "
        f"{result.seconds:.0f} s; on a school machine: bash {result.out / 'install.sh'}"
    )
    print(
        f"MANIFEST.sha256 sha256: {result.manifest_sha256}\n  publish this digest apart from the pack (web page, "
        "e-mail): install.sh prints it first, and the school compares the two before installing"
    )
    return 0


def _cmd_notebooks(args: argparse.Namespace) -> int:
    from hepml_nb.course.sources import copy_notebooks

    for path in copy_notebooks(args.dir, student=args.student, force=args.force):
        print(path)
    print(f"open them with: jupyter lab {args.dir}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hepml-nb", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="topics, notebooks and profiles (--runs: the runs of a folder)")
    listing.add_argument(
        "--runs",
        nargs="?",
        const="runs",
        metavar="FOLDER",
        help="list the run folders under FOLDER (default runs/) with status and key metrics",
    )
    params = sub.add_parser("params", help="parameters of a topic's notebook")
    params.add_argument("topic")
    run = sub.add_parser("run", help="execute a topic's notebook (or 'all') with papermill")
    run.add_argument("topic", help="topic key or 'all'")
    run.add_argument("--profile", default="default", choices=PROFILES)
    run.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"))
    run.add_argument(
        "--out", help="run folder (default runs/<topic>/<time>-<profile>): new, empty or a run of the topic"
    )
    run.add_argument(
        "--force", action="store_true", help="write into an --out folder that holds other files (they may be replaced)"
    )
    run.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="do not stream the notebook's output (prints, progress) to the terminal",
    )
    run.add_argument(
        "--memory-limit",
        type=int,
        metavar="MiB",
        help="memory limit of the kernel and each process it starts (e.g. 1536 to try a 2 GB Binder session)",
    )
    run.add_argument(
        "--student",
        action="store_true",
        help="execute the student build (solutions removed; exercises reported as not attempted)",
    )
    sweep = sub.add_parser("sweep", help="a grid of runs on a Dask cluster")
    sweep.add_argument("topic")
    sweep.add_argument(
        "-p",
        "--param",
        nargs="+",
        action="append",
        metavar="NAME V1",
        help="a parameter and its values: -p NAME V1 V2 ...",
    )
    sweep.add_argument("--profile", default="default", choices=PROFILES)
    sweep.add_argument("--out", help="base folder of the runs")
    sweep.add_argument("--scheduler", help="address of an existing Dask scheduler (default: a local cluster)")
    sweep.add_argument("--workers", type=int, help="workers of the local cluster (default: one per core)")
    student = sub.add_parser("student", help="student version of a notebook (solutions removed)")
    student.add_argument("notebook", help="topic key, notebook path or 'all'")
    student.add_argument("--out", required=True, help="folder for the student notebooks")
    grade_p = sub.add_parser("grade", help="execute student notebooks and grade them from their exercise checkers")
    grade_p.add_argument("submissions", nargs="+", help="notebooks, or folders of notebooks (one folder per student)")
    grade_p.add_argument("--out", required=True, help="CSV of one row per student and exercise (summary beside it)")
    grade_p.add_argument("--profile", default="ci", choices=PROFILES, help="parameters to execute with (default ci)")
    grade_p.add_argument("--topic", help="topic of every submission (default: recognised from the file names)")
    grade_p.add_argument("--work-dir", help="folder of the executed submissions (default <out stem>-runs/)")
    grade_p.add_argument(
        "-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"), help="override a parameter"
    )
    grade_p.add_argument("--timeout", type=float, default=600, help="seconds one cell may run (default 600)")
    grade_p.add_argument(
        "--time-limit", type=float, default=1800, help="seconds a whole submission may run (default 1800)"
    )
    grade_p.add_argument(
        "--memory-limit", type=int, default=4096, help="MiB of memory per process of a submission (default 4096)"
    )
    grade_p.add_argument(
        "--user",
        help="run the submissions' kernels as this user (default nobody when run as root; '-' for your own user)",
    )
    book = sub.add_parser("book", help="build the tutorial website (Sphinx) from the executed notebooks")
    book.add_argument("--out", default="site", help="folder of the static site (default site/)")
    book.add_argument(
        "--profile",
        default="default",
        choices=PROFILES,
        help="profile the notebooks are executed with (default; ci for a quick build)",
    )
    book.add_argument("--topics", nargs="+", metavar="TOPIC", help="only these topics (default: all)")
    book.add_argument("--build-dir", default="build/book", help="execution cache and Sphinx sources (build/book)")
    book.add_argument("--jupyterhub-url", help="add a JupyterHub launch button for this hub")
    book.add_argument(
        "--repository",
        default="https://github.com/hepml-nb/hepml-nb",
        help="GitHub repository of the Binder and source buttons",
    )
    book.add_argument("-v", "--verbose", action="store_true", help="stream notebook and Sphinx output")
    pack = sub.add_parser("pack", help="an offline school pack: wheels, notebooks, student builds, site, install.sh")
    pack.add_argument("--out", required=True, help="folder of the pack (must be new or empty, see --force)")
    pack.add_argument("--no-wheels", action="store_true", help="no wheelhouse (quick; installing then needs network)")
    pack.add_argument("--no-site", action="store_true", help="leave out the tutorial website")
    pack.add_argument("--with-cache", action="store_true", help="copy the warmed data cache ($HEPML_NB_CACHE)")
    pack.add_argument("--site-profile", default="default", choices=PROFILES, help="profile of the site's notebooks")
    pack.add_argument("--build-dir", default="build/book", help="execution cache of the site (build/book)")
    pack.add_argument("--force", action="store_true", help="replace a previous pack (never a folder that is not one)")
    notebooks = sub.add_parser("notebooks", help="copy the notebooks into a folder, to open them in JupyterLab")
    notebooks.add_argument("dir", help="folder to copy into (created when missing)")
    notebooks.add_argument("--student", action="store_true", help="also write the student builds into DIR/student")
    notebooks.add_argument("--force", action="store_true", help="replace notebooks in DIR that differ (your edits!)")
    return parser


_COMMANDS = {
    "list": _cmd_list,
    "params": _cmd_params,
    "run": _cmd_run,
    "sweep": _cmd_sweep,
    "student": _cmd_student,
    "notebooks": _cmd_notebooks,
    "grade": _cmd_grade,
    "book": _cmd_book,
    "pack": _cmd_pack,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hepml-nb``; returns the exit status (2 for a usage mistake)."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ParameterError, DataError) as exc:  # the user's input: exit 2 like a usage mistake
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except HepmlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
