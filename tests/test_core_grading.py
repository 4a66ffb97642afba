"""Grading student notebooks from their exercise checkers (hepml_nb.core.grading, `hepml-nb grade`)."""

from __future__ import annotations

import csv

import nbformat
import pytest

from hepml_nb.core.catalog import notebook_path
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.grading import (
    COLUMNS,
    Submission,
    expected_exercises,
    find_submissions,
    format_summary,
    grade_submission,
    summarise,
    write_grades,
)
from hepml_nb.core.teaching import student_notebook


def _half_solved(nb):
    """The student build with a wrong answer in the (only) exercise of the setup notebook."""
    nb, _ = student_notebook(nb)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "mass = None" in c.source)
    cell.source = cell.source.replace("mass = None  # YOUR CODE HERE", "mass = (p1 + p2)[0]  # forgot the momenta")
    return nb


def _crashing(nb):
    """The student build with a cell that raises before any exercise."""
    nb, _ = student_notebook(nb)
    first = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell("raise ValueError('my typo')"))
    return nb


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """Submissions of the setup notebook: solved (the teacher's), half-solved, empty, crashing, not a notebook."""
    root = tmp_path_factory.mktemp("submissions")
    teacher = nbformat.read(notebook_path("setup"), as_version=4)
    for student, nb in (
        ("alice", teacher),
        ("bob", _half_solved(teacher)),
        ("carol", student_notebook(teacher)[0]),
        ("dave", _crashing(teacher)),
    ):
        (root / student).mkdir()
        nbformat.write(nb, root / student / "00_setup_check.ipynb")
    (root / "erin_00_setup_check.ipynb").write_text("{not json")
    return root


@pytest.fixture(scope="module")
def graded(submissions, tmp_path_factory):
    from hepml_nb.cli import main

    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    assert main(["grade", str(submissions), "--out", str(out), "--profile", "ci"]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    with out.with_name("grades.summary.csv").open() as handle:
        summary = {row["student"]: row for row in csv.DictReader(handle)}
    return rows, summary


def test_expected_exercises_lists_checkers_of_teacher_notebook():
    assert expected_exercises("setup") == ["check_invariant_mass"]


def test_find_submissions_names_students_and_topics(submissions):
    found = {s.student: s.topic for s in find_submissions([submissions])}
    assert found == {"alice": "setup", "bob": "setup", "carol": "setup", "dave": "setup", "erin": "setup"}


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
    from hepml_nb.core.grading import grade

    for name in ("a/00_setup_check.ipynb", "x/a/00_setup_check.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    with pytest.raises(ParameterError, match="same student and topic: a/setup"):
        grade([tmp_path], work_dir=tmp_path / "runs", progress=False)


def test_grade_submission_unknown_topic_is_an_error_row(tmp_path):
    rows = grade_submission(Submission(tmp_path / "essay.ipynb", "zoe", ""), work_dir=tmp_path)
    assert [(r.exercise, r.verdict, r.status) for r in rows] == [("(execution)", "error", "failed")]
    assert "cannot tell the topic" in rows[0].error


@pytest.mark.slow
def test_grade_writes_verdict_of_every_student(graded):
    rows, _ = graded
    assert tuple(rows[0]) == COLUMNS
    verdicts = {(r["student"], r["exercise"]): r["verdict"] for r in rows}
    assert verdicts[("alice", "check_invariant_mass")] == "correct"
    assert verdicts[("bob", "check_invariant_mass")] == "incorrect"
    assert verdicts[("carol", "check_invariant_mass")] == "not attempted"
    assert verdicts[("dave", "check_invariant_mass")] == "not attempted"
    bob = next(r for r in rows if r["student"] == "bob")
    assert bob["reason"] and bob["status"] == "ok"


@pytest.mark.slow
def test_grade_failed_submission_is_a_row_with_the_error(graded):
    rows, _ = graded
    dave = [r for r in rows if r["student"] == "dave"]
    assert {r["status"] for r in dave} == {"failed"}
    assert "not reached" in next(r["reason"] for r in dave if r["exercise"] == "check_invariant_mass")
    assert "ValueError: my typo" in next(r["error"] for r in dave if r["exercise"] == "(execution)")
    erin = [r for r in rows if r["student"] == "erin"]
    assert any(r["exercise"] == "(execution)" and r["verdict"] == "error" for r in erin)


@pytest.mark.slow
def test_grade_summary_counts_verdicts(graded):
    _, summary = graded
    assert (summary["alice"]["correct"], summary["alice"]["status"]) == ("1", "ok")
    assert (summary["bob"]["incorrect"], summary["carol"]["not attempted"]) == ("1", "1")
    assert summary["dave"]["status"] == "failed"


def test_write_grades_and_summary_of_rows(tmp_path):
    from hepml_nb.core.grading import GradeRow

    rows = [
        GradeRow("ann", "setup", "check_a", "correct", "", "", "ok", "", "a.ipynb"),
        GradeRow("ann", "setup", "check_b", "incorrect", "too big", "divide", "ok", "", "a.ipynb"),
    ]
    grades, summary = write_grades(rows, tmp_path / "g.csv")
    assert grades.read_text().splitlines()[2].startswith("ann,setup,check_b,incorrect,too big")
    assert summary.name == "g.summary.csv" and "ann,setup,1,1,0,2,ok" in summary.read_text()
    assert summarise(rows)[0]["total"] == 2
    assert "ann" in format_summary(rows)
