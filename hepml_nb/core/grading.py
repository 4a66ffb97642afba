"""Grade submitted student notebooks from the verdicts of their exercise checkers.

Each submission (a notebook, or a folder of notebooks) is executed headlessly with papermill in
a private kernel (the runner's :func:`~hepml_nb.core.runner.private_kernel` over IPC sockets), with
the parameters of a profile (``ci`` by default: fast), into its own run folder
``<work_dir>/<student>/<topic>/``. The checkers record their verdicts there (``exercises.json``,
see :mod:`hepml_nb.core.exercises`); grading reads them back and writes one CSV row per student
and exercise::

    student, topic, exercise, verdict, reason, hint, status, error, submission

``verdict`` is ``correct``, ``incorrect`` or ``not attempted``; an exercise the notebook never
reached (it stopped at an error first) is ``not attempted`` with the reason ``not reached``. A
submission that fails to execute keeps the verdicts recorded before the failure and adds a row
with exercise ``(execution)``, verdict ``error`` and the error; grading goes on with the next.
A summary CSV (``<out>.summary.csv``: student, topic, correct, incorrect, not attempted, total,
status) is written beside it and printed.

Names. The topic is recognised from the file name: it contains a catalog notebook's stem
(``00_setup_check``) or starts with its number (``00_``); ``topic=`` overrides it. The student is
the file stem with that notebook stem (and ``student_``) removed, e.g. ``alice_00_setup_check.ipynb``
-> ``alice``; when nothing is left (``alice/00_setup_check.ipynb``) it is the parent folder's name. A
notebook whose topic is not recognised is an error row under its folder's name (its stem at the top level).
The exit status of ``hepml-nb grade`` is 0 when every submission was graded, failed ones included.

Integrity. A submission is the student's own code, run with the grader's permissions: grade in a
container or a throw-away account. A checker cell that differs from the teacher's notebook is
noted in ``error`` (``checker cell changed``), since a changed checker can report anything.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from hepml_nb.core.catalog import TOPICS, get_topic, notebook_path
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.exercises import EXERCISES_FILE, load_verdicts
from hepml_nb.core.results import RUN_DIR_ENV, atomic_output, write_json_atomic
from hepml_nb.core.runner import STATUS_FILE, _environment, _ipc_kernel_manager, prepare_run, private_kernel
from hepml_nb.core.widgets import HEADLESS_ENV

__all__ = [
    "GradeRow",
    "Submission",
    "find_submissions",
    "expected_exercises",
    "grade_submission",
    "grade",
    "summarise",
    "write_grades",
    "format_summary",
    "COLUMNS",
    "SUMMARY_COLUMNS",
]

COLUMNS = ("student", "topic", "exercise", "verdict", "reason", "hint", "status", "error", "submission")
SUMMARY_COLUMNS = ("student", "topic", "correct", "incorrect", "not attempted", "total", "status")
_CHECK_CALL = re.compile(r"\b(check_\w+)\s*\(")


class GradeRow(NamedTuple):
    """One CSV row: a student's verdict on one exercise (or the execution error of a submission)."""

    student: str
    topic: str
    exercise: str
    verdict: str
    reason: str
    hint: str
    status: str
    error: str
    submission: str


class Submission(NamedTuple):
    """A notebook to grade: its path, the student's name and the topic."""

    path: Path
    student: str
    topic: str


def _topic_of(name: str) -> str | None:
    for key, topic in TOPICS.items():
        stem = Path(topic.notebook).stem
        if stem in name or name.startswith(stem.split("_", 1)[0] + "_"):
            return key
    return None


def _student_of(path: Path, topic: str, root: Path | None) -> str:
    """The file stem without the notebook's stem; the folder's name when nothing is left (see the module doc)."""
    if not topic:  # an unrecognised notebook in a student's folder still belongs to that student
        return path.parent.name if root is not None and path.parent != root else path.stem
    rest = path.stem.replace(Path(get_topic(topic).notebook).stem, "")
    rest = re.sub(r"^student_", "", rest).strip("_-. ")
    return rest or path.resolve().parent.name


def find_submissions(paths: Sequence[Path | str], *, topic: str | None = None) -> list[Submission]:
    """The notebooks to grade: each path is a notebook or a folder (its ``*.ipynb``, recursively).

    Raises
    ------
    DataError
        A path does not exist or a folder holds no notebook.
    """
    found: list[Submission] = []
    for given in map(Path, paths):
        if given.is_dir():
            notebooks = sorted(p for p in given.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            if not notebooks:
                raise DataError(f"the folder {given} holds no .ipynb notebook to grade")
        elif given.is_file():
            notebooks = [given]
        else:
            raise DataError(f"submission {given} not found; give notebooks (.ipynb) or folders holding them")
        for path in notebooks:
            key = get_topic(topic).key if topic else (_topic_of(path.name) or "")
            found.append(Submission(path, _student_of(path, key, given if given.is_dir() else None), key))
    return found


def _checker_cells(nb: Any) -> list[str]:
    """Sources of the code cells right after each solution cell (the checker calls)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return [code[i + 1].source.strip() for i, c in enumerate(code[:-1]) if "BEGIN SOLUTION" in c.source]


def expected_exercises(topic: str) -> list[str]:
    """Names of the checkers the teacher's notebook of ``topic`` calls after its solution cells, in order."""
    import nbformat

    nb = nbformat.read(notebook_path(topic), as_version=4)
    return [name for source in _checker_cells(nb) for name in _CHECK_CALL.findall(source)[:1]]


def _changed_checkers(path: Path, topic: str) -> list[str]:
    import nbformat

    mine = {c.source.strip() for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"}
    reference = _checker_cells(nbformat.read(notebook_path(topic), as_version=4))
    return [source for source in reference if source not in mine]


def _execute(submission: Submission, profile: str, folder: Path, timeout: float | None) -> str:
    """Execute the submission into ``folder``; return '' on success, else the error text."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from hepml_nb.core.runcard import write_run_card

    _, merged = prepare_run(submission.topic, profile)
    write_json_atomic(
        folder / "params.json",
        {
            "topic": submission.topic,
            "profile": profile,
            "student": True,
            "parameters": merged,
            "submission": str(submission.path),
        },
    )
    executed = folder / submission.path.name
    env = {
        RUN_DIR_ENV: str(folder),
        HEADLESS_ENV: "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
    }
    error = ""
    try:
        with private_kernel() as (kernel, kernel_dir):
            jupyter_path = [str(kernel_dir), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
            with _environment({**env, "JUPYTER_PATH": os.pathsep.join(jupyter_path)}):
                papermill.execute_notebook(
                    str(submission.path),
                    str(executed),
                    parameters=merged,
                    kernel_name=kernel,
                    progress_bar=False,
                    cwd=None,
                    kernel_manager_class=_ipc_kernel_manager(kernel_dir),
                    execution_timeout=timeout,
                )
    except PapermillExecutionError as exc:
        error = f"cell [{exc.exec_count}] failed with {exc.ename}: {exc.evalue}"
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - an unreadable or broken submission is a row, not a crash
        error = f"{type(exc).__name__}: {exc}"
    finally:
        write_run_card(folder, executed if executed.exists() else None)
    write_json_atomic(folder / STATUS_FILE, {"status": "failed" if error else "ok", "error": error})
    return error


def grade_submission(
    submission: Submission, *, profile: str = "ci", work_dir: Path | str, timeout: float | None = 600
) -> list[GradeRow]:
    """Execute one submission and return its rows (see the module doc); never raises for the submission's faults."""

    def row(exercise: str, verdict: str, reason: str = "", hint: str = "", status: str = "ok", error: str = ""):
        return GradeRow(
            submission.student, submission.topic, exercise, verdict, reason, hint, status, error, str(submission.path)
        )

    if not submission.topic:
        names = ", ".join(TOPICS[k].notebook for k in TOPICS)
        return [
            row(
                "(execution)",
                "error",
                status="failed",
                error=f"cannot tell the topic from the file name {submission.path.name!r}; name it after a "
                f"catalog notebook ({names}) or give --topic",
            )
        ]
    folder = Path(work_dir).resolve() / submission.student / submission.topic
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    error = _execute(submission, profile, folder, timeout)
    status = "failed" if error else "ok"
    try:
        changed = _changed_checkers(submission.path, submission.topic)
    except Exception:  # noqa: BLE001 - an unreadable notebook already failed to execute
        changed = []
    note = "; ".join([error] * bool(error) + [f"checker cell changed: {c.splitlines()[0]!r}" for c in changed])
    verdicts = {v["exercise"]: v for v in load_verdicts(folder)} if (folder / EXERCISES_FILE).exists() else {}
    rows = [
        row(name, v.get("verdict", ""), v.get("reason", ""), v.get("hint", ""), status, note)
        for name, v in verdicts.items()
    ]
    for name in expected_exercises(submission.topic):
        if name not in verdicts:
            rows.append(
                row(
                    name,
                    "not attempted",
                    "not reached: the notebook stopped before this checker" if error else "the checker was not called",
                    status=status,
                    error=note,
                )
            )
    if error:
        rows.append(row("(execution)", "error", status=status, error=error))
    return rows


def grade(
    paths: Sequence[Path | str],
    *,
    profile: str = "ci",
    work_dir: Path | str,
    topic: str | None = None,
    timeout: float | None = 600,
    progress: bool = True,
) -> list[GradeRow]:
    """Grade every submission under ``paths`` one after the other; see the module doc."""
    submissions = find_submissions(paths, topic=topic)
    students = [(s.student, s.topic) for s in submissions]
    duplicates = sorted({f"{s}/{t}" for s, t in students if students.count((s, t)) > 1})
    if duplicates:
        raise ParameterError(
            f"two submissions map to the same student and topic: {', '.join(duplicates)}; "
            "name each file <student>_<notebook>.ipynb or put each in a folder named after the "
            "student"
        )
    rows: list[GradeRow] = []
    for number, submission in enumerate(submissions, 1):
        if progress:
            print(f"[{number}/{len(submissions)}] {submission.student}: {submission.path}", file=sys.stderr)
        rows += grade_submission(submission, profile=profile, work_dir=work_dir, timeout=timeout)
    return rows


def summarise(rows: Sequence[GradeRow]) -> list[dict[str, Any]]:
    """One summary row per student and topic: counts of each verdict, the total, ok / failed."""
    summary: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        entry = summary.setdefault(
            (r.student, r.topic),
            {
                "student": r.student,
                "topic": r.topic,
                "correct": 0,
                "incorrect": 0,
                "not attempted": 0,
                "total": 0,
                "status": r.status,
            },
        )
        if r.verdict in ("correct", "incorrect", "not attempted"):
            entry[r.verdict] += 1
            entry["total"] += 1
        entry["status"] = "failed" if "failed" in (entry["status"], r.status) else "ok"
    return list(summary.values())


def write_grades(rows: Sequence[GradeRow], out: Path | str) -> tuple[Path, Path]:
    """Write the rows to ``out`` and the summary to ``<out stem>.summary.csv``; return both paths."""
    out = Path(out)
    summary_path = out.with_name(f"{out.stem}.summary.csv")
    with atomic_output(out) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    with atomic_output(summary_path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(summarise(rows))
    return out, summary_path


def format_summary(rows: Sequence[GradeRow]) -> str:
    """The per-student summary as a text table."""
    lines = [SUMMARY_COLUMNS] + [tuple(str(s[c]) for c in SUMMARY_COLUMNS) for s in summarise(rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(SUMMARY_COLUMNS))]
    return "\n".join("  ".join(f"{c:<{w}}" for c, w in zip(line, widths, strict=False)).rstrip() for line in lines)
