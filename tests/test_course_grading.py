"""Grading student notebooks from their exercise checkers (hepml_nb.course.grading, `hepml-nb grade`)."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from conftest import count_notebook_reads

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.course.catalog import notebook_path
from hepml_nb.course.grading import (
    COLUMNS,
    GradeRow,
    Reference,
    checker_cells,
    expected_exercises,
    find_submissions,
    format_summary,
    grade,
    graded_notebook,
    read_submission,
    summarise,
    write_grades,
)
from hepml_nb.course.teaching import student_notebook


def _half_solved(nb):
    """The student build with a wrong answer in the (only) exercise of the setup notebook."""
    nb, _ = student_notebook(nb)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "mass = None" in c.source)
    cell.source = cell.source.replace("mass = None  # YOUR CODE HERE", "mass = (p1 + p2)[0]  # forgot the momenta")
    return nb


def _blank(teacher, *, first: str = "", last: str = ""):
    """The student build (nothing solved) with a cell added after the imports and/or at the end."""
    nb, _ = student_notebook(teacher)
    if first:
        nb.cells.insert(1, nbformat.v4.new_code_cell(first))
    if last:
        nb.cells.append(nbformat.v4.new_code_cell(last))
    return nb


def _crashing(nb):
    """The student build with a cell that raises before any exercise."""
    return _blank(nb, first="raise ValueError('my typo')")


def _checker_index(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if "check_invariant_mass(mass" in c.source)


def _pasted_output(teacher):
    """Nothing solved, the checker cell kept, and its 'Correct!' output pasted in."""
    nb = _blank(teacher)
    nb.cells[_checker_index(nb)].outputs = [nbformat.v4.new_output("stream", name="stdout", text="Correct!\n")]
    return nb


def _changed_checker(teacher):
    """Nothing solved, the checker cell replaced by a print."""
    nb = _blank(teacher)
    nb.cells[_checker_index(nb)].source = "print('Correct!')"
    return nb


def _deleted_checker(teacher):
    """Solved, but the checker cell deleted."""
    nb = nbformat.from_dict(teacher)
    del nb.cells[_checker_index(nb)]
    return nb


def _forged_context(teacher):
    """A wrong answer made to agree with forged inputs: p1 = p2 = 0 and mass = 0."""
    nb, _ = student_notebook(teacher)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "mass = None" in c.source)
    cell.source = cell.source.replace("mass = None  # YOUR CODE HERE", "p1 = p2 = np.zeros(4)\nmass = 0.0")
    return nb


FORGE_VERDICTS = """
import json, os
names = ("check_invariant_mass", "check_bonus")
verdicts = [{"exercise": n, "verdict": "correct", "reason": "", "hint": ""} for n in names]
open(os.path.join(os.environ["HEPML_NB_RUN_DIR"], "exercises.json"), "w").write(json.dumps(verdicts))
"""
PATCH_CHECKERS = """
import hepml_nb.core.exercises as _ex
_ex._verdict = _ex.verdict_of = lambda *a, **k: ("correct", "", "")
"""


def _attacker(teacher, dropbox: Path):
    """Overwrites another student's submission, and leaves a process behind that keeps writing."""
    victim = dropbox / "zed" / "00_setup_check.ipynb"
    blank = nbformat.writes(student_notebook(teacher)[0])
    return _blank(
        teacher,
        first=(
            "import subprocess, sys\n"
            f"open({str(victim)!r}, 'w').write({blank!r})\n"
            "code = 'import time\\nwhile True:\\n    open(%r, \"w\").write(str(time.time())); time.sleep(0.2)'"
            f" % {str(dropbox / 'heartbeat')!r}\n"
            "subprocess.Popen([sys.executable, '-c', code], start_new_session=True)\n"
            "import os\nprint('token', os.environ.get('QISKIT_IBM_TOKEN'))"
        ),
    )


@pytest.fixture(scope="module")
def dropbox():
    """A submissions folder every student can write to (as schools often have), outside root's private tmp."""
    folder = Path(tempfile.mkdtemp(prefix="hepml-nb-dropbox-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def submissions(dropbox):
    """Submissions of the setup notebook: honest ones, broken ones and forgeries."""
    teacher = nbformat.read(notebook_path("setup"), as_version=4)
    cases = {
        "alice": teacher,
        "bob": _half_solved(teacher),
        "carol": student_notebook(teacher)[0],
        "dave": _crashing(teacher),
        "frank": _blank(teacher, last=FORGE_VERDICTS),
        "grace": _blank(teacher, first=PATCH_CHECKERS),
        "heidi": _pasted_output(teacher),
        "ivan": _changed_checker(teacher),
        "judy": _deleted_checker(teacher),
        "ken": _forged_context(teacher),
        "aaron": _attacker(teacher, dropbox),
        "zed": teacher,
    }
    for student, nb in cases.items():
        (dropbox / student).mkdir(mode=0o777)
        nbformat.write(nb, dropbox / student / "00_setup_check.ipynb")
        (dropbox / student / "00_setup_check.ipynb").chmod(0o666)
    (dropbox / "erin_00_setup_check.ipynb").write_text("{not json")
    nbformat.write(teacher, dropbox / "=HYPERLINK(1)_00_setup_check.ipynb")
    return dropbox


@pytest.fixture(scope="module")
def graded(submissions, tmp_path_factory):
    from hepml_nb.course.cli import main

    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    os.environ["QISKIT_IBM_TOKEN"] = "grader-secret-token"
    try:
        with pytest.MonkeyPatch.context() as mp:
            reads = count_notebook_reads(mp)
            status = main(
                ["grade", str(submissions), "--out", str(out), "--profile", "ci", "-p", "check_fpga", "false"]
            )
    finally:
        del os.environ["QISKIT_IBM_TOKEN"]
    assert status == 0
    heartbeat = submissions / "heartbeat"
    beat = heartbeat.read_text() if heartbeat.exists() else None
    time.sleep(1.5)
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    with out.with_name("grades.summary.csv").open() as handle:
        summary = {row["student"]: row for row in csv.DictReader(handle)}
    return rows, summary, out, (beat, heartbeat.read_text() if heartbeat.exists() else None), reads


def _verdicts(rows):
    return {(r["student"], r["exercise"]): r["verdict"] for r in rows}


def test_expected_exercises_lists_checkers_of_teacher_notebook():
    assert expected_exercises("setup") == ["check_invariant_mass"]


def test_find_submissions_names_students_and_topics(submissions):
    found = {s.student: s.topic for s in find_submissions([submissions])}
    assert found["alice"] == found["erin"] == found["=HYPERLINK(1)"] == "setup" and len(found) == 14


def test_find_submissions_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(DataError, match="not found; give notebooks"):
        find_submissions([tmp_path / "nope.ipynb"])
    with pytest.raises(DataError, match="holds no .ipynb"):
        find_submissions([tmp_path])


def test_find_submissions_unknown_topic_belongs_to_the_folder(tmp_path):
    (tmp_path / "zoe").mkdir()
    (tmp_path / "zoe" / "essay.ipynb").write_text("{}")
    (tmp_path / "top.ipynb").write_text("{}")
    assert {(s.student, s.topic) for s in find_submissions([tmp_path])} == {("zoe", ""), ("top", "")}


def test_grade_rejects_two_submissions_of_one_student(tmp_path):
    for name in ("a/00_setup_check.ipynb", "x/a/00_setup_check.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    with pytest.raises(ParameterError, match="same student and topic: a/setup"):
        grade([tmp_path], work_dir=tmp_path / "runs", progress=False)


def test_grade_unknown_topic_is_an_error_row(tmp_path):
    (tmp_path / "essay.ipynb").write_text("{}")
    rows = grade([tmp_path / "essay.ipynb"], work_dir=tmp_path / "runs", progress=False)
    assert [(r.exercise, r.verdict, r.status) for r in rows] == [("(execution)", "error", "failed")]
    assert "cannot tell the topic" in rows[0].error


def test_read_submission_refuses_links_and_files_outside_the_folder(tmp_path):
    teacher = tmp_path / "key" / "00_setup_check.ipynb"
    teacher.parent.mkdir()
    nbformat.write(nbformat.read(notebook_path("setup"), as_version=4), teacher)
    box = tmp_path / "box"
    (box / "mallory").mkdir(parents=True)
    (box / "mallory" / "00_setup_check.ipynb").symlink_to(teacher)
    (box / "oscar_00_setup_check.ipynb").symlink_to(teacher)
    for submission in find_submissions([box]):
        with pytest.raises(DataError, match="outside the folder|a link"):
            read_submission(submission, box)


def test_checker_cells_of_the_teacher_notebook_name_the_checker_function():
    nb = nbformat.read(notebook_path("setup"), as_version=4)
    (cell,) = checker_cells(nb)
    from hepml_nb.course import setup_check

    assert cell.name == "check_invariant_mass" and cell.function is setup_check.check_invariant_mass.check
    assert nb.cells[cell.position].get("id") == cell.cell_id


def test_graded_notebook_puts_back_the_reference_checker_cells():
    teacher = nbformat.read(notebook_path("setup"), as_version=4)
    reference = Reference("setup", teacher, checker_cells(teacher), {})
    export = "_hepml_nb_answers.export('00-check_invariant_mass', mass)"
    for forged, note in (
        (_changed_checker(teacher), "checker cell changed: \"print('Correct!')\""),
        (_deleted_checker(teacher), "checker cell of check_invariant_mass missing: put back"),
        (_pasted_output(teacher), None),
    ):
        graded, notes = graded_notebook(forged, reference)
        sources = [c.source for c in graded.cells]
        (index,) = [i for i, text in enumerate(sources) if export in text]
        assert "BEGIN SOLUTION" in sources[index - 1] or "YOUR CODE HERE" in sources[index - 1]
        assert not any("check_invariant_mass(" in text or "print('Correct!')" in text for text in sources)
        assert notes == ([note] if note else []) and not graded.cells[index].get("outputs")


def test_spreadsheet_formulas_from_submissions_are_escaped(tmp_path):
    row = GradeRow("=HYPERLINK(1)", "setup", "check_x", "error", "+1", "-2", "ok", "@SUM(A1)", "/x.ipynb")
    out, summary = write_grades([row], tmp_path / "grades.csv")
    with out.open() as handle:
        (written,) = list(csv.DictReader(handle))
    assert [written[k] for k in ("student", "reason", "hint", "error")] == ["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)"]
    assert "'=HYPERLINK(1)" in summary.read_text()


@pytest.mark.slow
def test_grade_writes_verdict_of_every_student(graded):
    rows, *_ = graded
    assert tuple(rows[0]) == COLUMNS
    verdicts = _verdicts(rows)
    assert verdicts[("alice", "check_invariant_mass")] == "correct"
    assert verdicts[("bob", "check_invariant_mass")] == "incorrect"
    assert verdicts[("carol", "check_invariant_mass")] == "not attempted"
    assert verdicts[("dave", "check_invariant_mass")] == "not attempted"
    bob = next(r for r in rows if r["student"] == "bob")
    assert bob["reason"] and bob["status"] == "ok"


@pytest.mark.slow
@pytest.mark.parametrize("student", ["frank", "grace", "heidi", "ivan"])
def test_forged_verdicts_of_a_blank_notebook_count_for_nothing(graded, student):
    # frank writes exercises.json, grace patches the checkers in her kernel, heidi pastes the checker's
    # output, ivan replaces the checker cell by a print: each is still a blank notebook
    rows, summary, *_ = graded
    assert _verdicts(rows)[(student, "check_invariant_mass")] == "not attempted"
    assert [r["exercise"] for r in rows if r["student"] == student] == ["check_invariant_mass"]
    assert summary[student]["correct"] == "0"


@pytest.mark.slow
def test_grade_reads_the_teacher_notebook_once(graded):
    """issue #26: the parameter check before any kernel and the reference run share one read of the teacher's
    notebook; an executed submission is read back only when its kernel failed (for its run card)."""
    rows, *_, reads = graded
    assert reads[notebook_path("setup").resolve()] == 1
    failed = {r["student"] for r in rows if r["status"] == "failed"}
    executed = {path: n for path, n in reads.items() if path != notebook_path("setup").resolve()}
    assert executed and set(executed.values()) == {1}
    assert {path.parent.parent.name for path in executed} <= failed  # students/<student>/<topic>/<notebook>


@pytest.mark.slow
def test_changed_and_missing_checker_cells_are_noted(graded):
    rows, *_ = graded
    notes = {r["student"]: r["error"] for r in rows if r["exercise"] == "check_invariant_mass"}
    assert "checker cell changed" in notes["ivan"] and "missing: put back" in notes["judy"]
    assert _verdicts(rows)[("judy", "check_invariant_mass")] == "correct"  # her answer, the reference's checker


@pytest.mark.slow
def test_answers_are_checked_against_the_reference_run_not_the_students_inputs(graded):
    rows, *_ = graded
    assert _verdicts(rows)[("ken", "check_invariant_mass")] == "incorrect"


@pytest.mark.slow
def test_a_submission_cannot_change_another_or_outlive_its_grading(graded, submissions):
    rows, summary, _, (beat, later), _ = graded
    assert _verdicts(rows)[("zed", "check_invariant_mass")] == "correct"  # graded from the copy read first
    assert beat == later  # nothing the attacker started is still writing
    assert summary["aaron"]["status"] == "ok"


@pytest.mark.slow
def test_grading_kernels_do_not_see_the_graders_secrets(graded):
    _, _, out, *_ = graded
    executed = out.with_name("grades-runs") / "students" / "aaron" / "setup" / "00_setup_check.ipynb"
    text = executed.read_text()
    assert "token None" in text and "grader-secret-token" not in text


@pytest.mark.slow
def test_grade_failed_submission_is_a_row_with_the_error(graded):
    rows, *_ = graded
    dave = [r for r in rows if r["student"] == "dave"]
    assert {r["status"] for r in dave} == {"failed"}
    assert "not reached" in next(r["reason"] for r in dave if r["exercise"] == "check_invariant_mass")
    assert "ValueError: my typo" in next(r["error"] for r in dave if r["exercise"] == "(execution)")
    erin = [r for r in rows if r["student"] == "erin"]
    assert any(r["exercise"] == "(execution)" and r["verdict"] == "error" for r in erin)


@pytest.mark.slow
def test_grade_summary_counts_verdicts_and_escapes_names(graded):
    _, summary, *_ = graded
    assert (summary["alice"]["correct"], summary["alice"]["status"]) == ("1", "ok")
    assert (summary["bob"]["incorrect"], summary["carol"]["not attempted"]) == ("1", "1")
    assert summary["dave"]["status"] == "failed"
    assert summary["'=HYPERLINK(1)"]["correct"] == "1"


def test_write_grades_and_summary_of_rows(tmp_path):
    from hepml_nb.course.grading import GradeRow

    rows = [
        GradeRow("ann", "setup", "check_a", "correct", "", "", "ok", "", "a.ipynb"),
        GradeRow("ann", "setup", "check_b", "incorrect", "too big", "divide", "ok", "", "a.ipynb"),
    ]
    grades, summary = write_grades(rows, tmp_path / "g.csv")
    assert grades.read_text().splitlines()[2].startswith("ann,setup,check_b,incorrect,too big")
    assert summary.name == "g.summary.csv" and "ann,setup,1,1,0,2,ok" in summary.read_text()
    assert summarise(rows)[0]["total"] == 2
    assert "ann" in format_summary(rows)
