"""Grade student notebooks: the grader computes every verdict; nothing the student's kernel says is trusted.

A submission is untrusted code. Grading, step by step:

1. **Every submission is read into memory first** (a regular file, not a link, inside the folder
   given, at most 50 MB), so a submission that runs cannot change another one.
2. **A reference run per topic**: the instructor's notebook (with its solutions) is executed with the
   same parameters; where each checker would run, the checker's arguments are exported as data
   (:mod:`hepml_nb.core.answers`: JSON and ``.npy``, never pickles). These reference values are what
   the verdicts compare against.
3. **The graded notebook**: the submission's checker cells (the code cells right after the
   reference's solution cells, matched by cell id) are replaced by the reference's, whatever the
   submission holds there; a changed, missing or duplicated checker cell is noted in the CSV. Each
   checker call then becomes an export of its first argument only, the student's answer.
4. **Execution in a sandbox** (:mod:`hepml_nb.course.kernel`): a private copy in a fresh private folder
   (never the submissions folder), a clean environment (no tokens of the grader), a memory limit per
   process and a wall-time limit for the whole submission, the kernel's process group and any
   process it left behind killed at the end. When the grader runs as root, the kernel runs as another
   user (``nobody`` by default), so it can read neither the grader's files nor other submissions, and
   cannot write the grades. The kernel reads a data cache the reference run warmed (``<work_dir>/cache``).
5. **Verdicts in the grader's process**: each exported answer is read back (size-limited, no pickles)
   and the checker function is called on it with the reference run's other arguments. Anything the
   kernel writes elsewhere (``exercises.json``, patched checkers, pasted outputs) is ignored.
6. **The CSV**: one row per student and exercise::

       student, topic, exercise, verdict, reason, hint, status, error, submission

   ``verdict`` is ``correct``, ``incorrect`` or ``not attempted``; an exercise the notebook never
   reached (it stopped at an error first) is ``not attempted`` with the reason ``not reached``. A
   submission that fails to execute adds a row with exercise ``(execution)``, verdict ``error``; grading
   goes on with the next. Text that starts like a spreadsheet formula (``= + - @``) is escaped with a
   leading ``'``. A summary (``<out>.summary.csv``: student, topic, correct, incorrect, not attempted,
   total, status) is written beside it.

Names. The topic is recognised from the file name: it contains a catalog notebook's stem
(``00_setup_check``) or starts with its number (``00_``); ``topic=`` overrides it. The student is
the file stem with that notebook stem (and ``student_``) removed, e.g. ``alice_00_setup_check.ipynb``
-> ``alice``; when nothing is left (``alice/00_setup_check.ipynb``) it is the parent folder's name.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import importlib
import inspect
import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

from hepml_nb.core import answers
from hepml_nb.core.errors import DataError, HepmlError, ParameterError
from hepml_nb.core.exercises import verdict_of
from hepml_nb.core.files import read_regular_file
from hepml_nb.core.results import atomic_output
from hepml_nb.course.catalog import TOPICS, get_topic, notebook_path
from hepml_nb.course.kernel import KernelLimits, KernelSandbox, kernel_sandbox
from hepml_nb.course.runner import RunPlan, launch, prepare_run

__all__ = [
    "COLUMNS",
    "SUMMARY_COLUMNS",
    "MAX_SUBMISSION_BYTES",
    "CheckerCell",
    "GradeRow",
    "Reference",
    "Submission",
    "default_limits",
    "checker_cells",
    "expected_exercises",
    "find_submissions",
    "read_submission",
    "graded_notebook",
    "reference_run",
    "grade_submission",
    "grade",
    "summarise",
    "write_grades",
    "format_summary",
]

COLUMNS = ("student", "topic", "exercise", "verdict", "reason", "hint", "status", "error", "submission")
SUMMARY_COLUMNS = ("student", "topic", "correct", "incorrect", "not attempted", "total", "status")
MAX_SUBMISSION_BYTES = 50 * 2**20
_EXPORT = "_hepml_nb_answers"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


class CheckerCell(NamedTuple):
    """A checker cell of the reference notebook: its position, cell id, source and the checker it calls."""

    position: int
    cell_id: str
    source: str
    name: str
    function: Any


class Reference(NamedTuple):
    """A topic's reference: its notebook, checker cells, and each checker's arguments from the reference run."""

    topic: str
    notebook: Any
    checkers: list[CheckerCell]
    arguments: dict[str, tuple[list, dict[str, Any]]]


def default_limits() -> KernelLimits:
    """Limits of a submission's kernel: 4 GiB per process, 30 min, clean environment; as ``nobody`` under root."""
    user = "nobody" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    return KernelLimits(user=user, memory_mib=4096, wall_seconds=1800, clean_environment=True)


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
    return rest or path.absolute().parent.name


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


def read_submission(submission: Submission, root: Path | None = None) -> Any:
    """The submission's notebook node, read once: a regular file (not a link), inside ``root``, at most 50 MB.

    Raises
    ------
    DataError
        The file is a link, outside ``root``, too large, unreadable or not a notebook.
    """
    import nbformat

    path = submission.path
    if root is not None and not path.resolve().is_relative_to(root.resolve()):
        raise DataError(f"{path} leads outside the folder {root} (a link?); submit the notebook file itself")
    data = read_regular_file(path, limit=MAX_SUBMISSION_BYTES, what="the submission")
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any parse failure of the student's file is a row, not a crash
        raise DataError(f"{path.name} is not a readable notebook ({type(exc).__name__}: {exc})"[:300]) from None


def _import_names(nb: Any) -> dict[str, str]:
    """Names bound to hepml_nb modules by the notebook's first code cell (its imports)."""
    first = next(c for c in nb.cells if c.cell_type == "code")
    names: dict[str, str] = {}
    for node in ast.walk(ast.parse(first.source)):
        if isinstance(node, ast.Import):
            names.update(
                {a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0] for a in node.names}
            )
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    return {k: v for k, v in names.items() if v.split(".")[0] == "hepml_nb"}


def _resolve(dotted: str) -> Any:
    """The object ``hepml_nb.x.y.f``: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _checker_call(tree: ast.AST) -> ast.Call | None:
    """The first call of a function named ``check_*`` in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name.startswith("check_"):
                return node
    return None


def checker_cells(nb: Any) -> list[CheckerCell]:
    """The checker cells of an instructor's notebook: the code cells right after each solution cell."""
    imports = _import_names(nb)
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    found = []
    for (_, cell), (index, after) in pairwise(code):
        if "BEGIN SOLUTION" not in cell.source:
            continue
        call = _checker_call(ast.parse(after.source))
        if call is None:
            continue
        dotted = ast.unparse(call.func)
        root, _, rest = dotted.partition(".")
        function = _resolve(".".join(filter(None, [imports.get(root, root), rest])))
        if not callable(getattr(function, "check", None)):
            raise DataError(f"{dotted} in the reference notebook is not an exercise checker (hepml_nb.core.exercises)")
        found.append(CheckerCell(index, after.get("id", ""), after.source, function.__name__, function.check))
    return found


def expected_exercises(topic: str) -> list[str]:
    """Names of the checkers the teacher's notebook of ``topic`` calls after its solution cells, in order."""
    import nbformat

    return [c.name for c in checker_cells(nbformat.read(notebook_path(topic), as_version=4))]


def _export_source(checker: CheckerCell, key: str, *, answer_only: bool) -> str:
    """The checker cell with its checker call replaced by an export of its arguments (only the answer)."""
    tree = ast.parse(checker.source)
    call = _checker_call(tree)
    assert call is not None  # checker_cells found it
    if answer_only:
        first = next(iter(inspect.signature(checker.function).parameters))
        answer = call.args[0] if call.args else next(k.value for k in call.keywords if k.arg == first)
        args, keywords = [answer], []
    else:
        args, keywords = list(call.args), list(call.keywords)
        keywords.append(ast.keyword("strict", ast.Constant(True)))
    export = ast.Call(ast.Attribute(ast.Name(_EXPORT), "export"), [ast.Constant(key), *args], keywords)
    lines = checker.source.splitlines()
    start, end = call.lineno - 1, (call.end_lineno or call.lineno) - 1
    before, after = lines[start][: call.col_offset], lines[end][call.end_col_offset :]
    new = [*lines[:start], before + ast.unparse(export) + after, *lines[end + 1 :]]
    return f"import hepml_nb.core.answers as {_EXPORT}\n" + "\n".join(new)


def _key(checker: CheckerCell, position: int) -> str:
    return f"{position:02d}-{checker.name}"


def graded_notebook(submission: Any, reference: Reference) -> tuple[Any, list[str]]:
    """The submission with every checker cell replaced by the reference's answer export; and the notes.

    Cells are matched by id: a checker cell whose id the submission lacks is inserted after the
    nearest reference cell before it that the submission has.
    """
    import nbformat

    nb = nbformat.from_dict(submission)
    cells, notes = list(nb.cells), []
    ref_ids = [c.get("id") for c in reference.notebook.cells]
    for position, checker in enumerate(reference.checkers):
        new = nbformat.v4.new_code_cell(_export_source(checker, _key(checker, position), answer_only=True))
        where = [i for i, c in enumerate(cells) if c.get("id") == checker.cell_id]
        for i in where:
            if cells[i].cell_type != "code" or cells[i].source.strip() != checker.source.strip():
                notes.append(f"checker cell changed: {_first_line(cells[i].source)!r}")
            cells[i] = new
        if len(where) > 1:
            notes.append(f"checker cell of {checker.name} duplicated {len(where)} times")
        if not where:
            notes.append(f"checker cell of {checker.name} missing: put back")
            ids = [c.get("id") for c in cells]
            anchors = [ids.index(i) for i in ref_ids[: checker.position][::-1] if i in ids]
            cells.insert(anchors[0] + 1 if anchors else min(checker.position, len(cells)), new)
    seen: set[str] = set()
    for cell in cells:  # duplicated ids (a copied cell) would make the notebook invalid: fresh ones
        if not cell.get("id") or cell["id"] in seen:
            cell["id"] = uuid.uuid4().hex[:12]
        seen.add(cell["id"])
    nb.cells = cells
    return nb, notes


def _first_line(source: str) -> str:
    lines = [line.strip() for line in (source or "").splitlines() if line.strip()]
    return lines[0][:80] if lines else ""


def _student_answers(folder: Path, keys: Sequence[str]) -> dict[str, Any]:
    """The student's exported answers: key -> the answer, or the DataError saying why it cannot be read."""
    found: dict[str, Any] = {}
    for key in keys:
        path = folder / f"{key}.npz"
        if not os.path.lexists(path):
            continue
        try:
            args, _ = answers.load(path)
            found[key] = args[0] if args else None
        except DataError as exc:
            found[key] = exc
    return found


@contextlib.contextmanager
def _answering_sandbox(limits: KernelLimits, cache: Path) -> Iterator[tuple[KernelSandbox, Path]]:
    """A kernel sandbox with a folder for exported answers, reading the grading cache ``cache``."""
    with kernel_sandbox(limits) as box:
        folder = box.work / "answers"
        folder.mkdir()
        if box.ids is not None:
            os.chown(folder, *box.ids)
        box.set_environment(HEPML_NB_CACHE=str(cache), **{answers.ANSWERS_ENV: str(folder)})
        yield box, folder


def _sandboxed_run(plan: Any, limits: KernelLimits, cell_timeout: float | None, cache: Path, keys: Sequence[str]):
    """Launch a submission's plan in a fresh sandbox; return (error text or '', its exported answers)."""
    with _answering_sandbox(limits, cache) as (box, folder):
        error = ""
        try:
            launch(plan, sandbox=box, cell_timeout=cell_timeout)
        except HepmlError as exc:
            error = str(exc).split("\n  cell source:")[0]
        except Exception as exc:  # noqa: BLE001 - a broken submission is a row, not a crash
            error = f"{type(exc).__name__}: {exc}"
        box.kill_leftovers()  # before reading: nothing it started may write the answers any more
        return error, _student_answers(folder, keys)


def reference_run(plan: RunPlan, cache: Path, *, cell_timeout: float | None) -> Reference:
    """Execute the instructor's notebook of a checked plan and export every checker's arguments (see the module doc).

    ``plan`` is the reference run's :class:`~hepml_nb.course.runner.RunPlan` (the instructor's
    notebook, read once by :func:`~hepml_nb.course.runner.prepare_run`); ``cache`` the data cache the
    reference run warms for the submissions.

    Raises
    ------
    HepmlError
        The reference notebook fails, or a checker's arguments cannot be exported as data.
    """
    import nbformat

    nb = plan.source
    checkers = checker_cells(nb)
    exporting = nbformat.from_dict(nb)
    for position, checker in enumerate(checkers):
        exporting.cells[checker.position].source = _export_source(checker, _key(checker, position), answer_only=False)
    with _answering_sandbox(KernelLimits(clean_environment=True), cache) as (box, answers_dir):
        launch(plan._replace(source=exporting), sandbox=box, cell_timeout=cell_timeout)
        exported = {key: answers.load(answers_dir / f"{key}.npz", objects=True) for key in _keys(checkers)}
    return Reference(plan.topic, nb, checkers, exported)


def _keys(checkers: Sequence[CheckerCell]) -> list[str]:
    return [_key(c, i) for i, c in enumerate(checkers)]


def _verdict_row(
    checker: CheckerCell, key: str, found: Mapping[str, Any], reference: Reference, error: str
) -> tuple[str, str, str]:
    """(verdict, reason, hint) of one exercise from the student's exported answer and the reference arguments."""
    if key not in found:
        if error:
            return "not attempted", "not reached: the notebook stopped before this exercise", ""
        return "not attempted", "the exercise cell did not run", ""
    if isinstance(found[key], DataError):
        return "incorrect", f"your answer could not be read: {found[key]}", "give a number, an array or a list"
    ref_args, ref_kwargs = reference.arguments[key]
    return verdict_of(checker.function, (found[key], *ref_args[1:]), ref_kwargs)


def grade_submission(
    submission: Submission,
    reference: Reference,
    source: Any,
    *,
    profile: str = "ci",
    params: Mapping[str, Any] | None = None,
    work_dir: Path | str,
    cache: Path,
    limits: KernelLimits | None = None,
    cell_timeout: float | None = 600,
) -> list[GradeRow]:
    """Execute one submission (a notebook node read by :func:`read_submission`) and return its rows.

    ``cache`` is the data cache the reference run warmed; the kernel reads it.
    """

    def row(exercise: str, verdict: str, reason: str = "", hint: str = "", status: str = "ok", error: str = ""):
        return GradeRow(
            submission.student, submission.topic, exercise, verdict, reason, hint, status, error, str(submission.path)
        )

    folder = Path(work_dir).resolve() / "students" / submission.student / submission.topic
    shutil.rmtree(folder, ignore_errors=True)
    graded, notes = graded_notebook(source, reference)
    try:
        plan = prepare_run(
            submission.topic,
            profile,
            params,
            out=folder,
            source=graded,
            record={"student": True, "submission": str(submission.path)},
        )
    except HepmlError as exc:  # a submission whose parameters cell differs from the reference's
        return [row("(execution)", "error", status="failed", error=f"the submission cannot run: {exc}")]
    keys = _keys(reference.checkers)
    error, found = _sandboxed_run(plan, limits or default_limits(), cell_timeout, cache, keys)
    status = "failed" if error else "ok"
    note = "; ".join([error] * bool(error) + notes)
    rows = [
        row(c.name, *_verdict_row(c, k, found, reference, error), status=status, error=note)
        for c, k in zip(reference.checkers, keys, strict=True)
    ]
    if error:
        rows.append(row("(execution)", "error", status=status, error=error))
    return rows


def _error_rows(submission: Submission, message: str) -> list[GradeRow]:
    return [
        GradeRow(
            submission.student,
            submission.topic,
            "(execution)",
            "error",
            "",
            "",
            "failed",
            message,
            str(submission.path),
        )
    ]


def grade(
    paths: Sequence[Path | str],
    *,
    profile: str = "ci",
    params: Mapping[str, Any] | None = None,
    work_dir: Path | str,
    topic: str | None = None,
    limits: KernelLimits | None = None,
    cell_timeout: float | None = 600,
    progress: bool = True,
) -> list[GradeRow]:
    """Grade every submission under ``paths`` one after the other; see the module doc.

    ``params`` override the profile's parameters (for every submission and the reference run);
    ``limits`` confine each submission's kernel (default :func:`default_limits`).

    Raises
    ------
    ParameterError
        Two submissions map to one student and topic, or a parameter is invalid.
    """
    submissions = find_submissions(paths, topic=topic)
    students = [(s.student, s.topic) for s in submissions]
    duplicates = sorted({f"{s}/{t}" for s, t in students if students.count((s, t)) > 1})
    if duplicates:
        raise ParameterError(
            f"two submissions map to the same student and topic: {', '.join(duplicates)}; "
            "name each file <student>_<notebook>.ipynb or put each in a folder named after the student"
        )
    work = Path(work_dir).resolve()
    references = {  # bad parameters stop everything before any kernel
        key: prepare_run(key, profile, params, out=work / "reference" / key, force=True, record={"reference": True})
        for key in sorted({s.topic for s in submissions if s.topic})
    }
    roots = {
        s: next((Path(p) for p in paths if Path(p).is_dir() and s.path.is_relative_to(p)), None) for s in submissions
    }
    sources: dict[Submission, Any] = {}
    for s in submissions:  # every submission read before any of them runs
        try:
            sources[s] = read_submission(s, roots[s])
        except DataError as exc:
            sources[s] = exc
    work.mkdir(parents=True, exist_ok=True)
    with _grading_cache() as cache:
        return _grade_all(
            submissions, sources, references, work, cache, profile, params, limits, cell_timeout, progress
        )


@contextlib.contextmanager
def _grading_cache() -> Iterator[Path]:
    """A data cache for one grading: written by the reference runs, readable (not writable) by the kernels."""
    folder = Path(tempfile.mkdtemp(prefix="hepml-nb-grading-cache-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _grade_all(
    submissions, sources, plans, work, cache, profile, params, limits, cell_timeout, progress
) -> list[GradeRow]:
    references: dict[str, Reference] = {}
    rows: list[GradeRow] = []
    for number, submission in enumerate(submissions, 1):
        if progress:
            print(f"[{number}/{len(submissions)}] {submission.student}: {submission.path}", file=sys.stderr)
        if not submission.topic:
            names = ", ".join(TOPICS[k].notebook for k in TOPICS)
            rows += _error_rows(
                submission,
                f"cannot tell the topic from the file name {submission.path.name!r}; name it after a catalog "
                f"notebook ({names}) or give --topic",
            )
            continue
        if isinstance(sources[submission], DataError):
            rows += _error_rows(submission, str(sources[submission]))
            continue
        if submission.topic not in references:
            if progress:
                print(f"reference run of {submission.topic} ({profile} profile)", file=sys.stderr)
            references[submission.topic] = reference_run(plans[submission.topic], cache, cell_timeout=cell_timeout)
        rows += grade_submission(
            submission,
            references[submission.topic],
            sources[submission],
            profile=profile,
            params=params,
            work_dir=work,
            cache=cache,
            limits=limits,
            cell_timeout=cell_timeout,
        )
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


def _safe(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading ``= + - @`` (a formula) gets a ``'``."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_grades(rows: Sequence[GradeRow], out: Path | str) -> tuple[Path, Path]:
    """Write the rows to ``out`` and the summary to ``<out stem>.summary.csv``; return both paths."""
    out = Path(out)
    summary_path = out.with_name(f"{out.stem}.summary.csv")
    with atomic_output(out) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([_safe(v) for v in r] for r in rows)
    with atomic_output(summary_path) as tmp, tmp.open("w", newline="") as handle:
        table = csv.DictWriter(handle, SUMMARY_COLUMNS)
        table.writeheader()
        table.writerows({k: _safe(v) for k, v in s.items()} for s in summarise(rows))
    return out, summary_path


def format_summary(rows: Sequence[GradeRow]) -> str:
    """The per-student summary as a text table."""
    lines = [SUMMARY_COLUMNS] + [tuple(str(s[c]) for c in SUMMARY_COLUMNS) for s in summarise(rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(SUMMARY_COLUMNS))]
    return "\n".join("  ".join(f"{c:<{w}}" for c, w in zip(line, widths, strict=False)).rstrip() for line in lines)
