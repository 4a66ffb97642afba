import json

import numpy as np
import pytest

from hepml_nb.core.exercises import EXERCISES_FILE, Incorrect, checker, expect_close, expect_shape, load_verdicts
from hepml_nb.course.setup_check import check_invariant_mass

P1, P2 = np.array([62.5, 0.0, 40.0, 48.0]), np.array([70.0, 0.0, -56.0, 42.0])
RIGHT = float(np.sqrt((P1 + P2)[0] ** 2 - (P1 + P2)[1:] @ (P1 + P2)[1:]))


@checker
def check_double(answer, x):
    """A toy checker: the answer must be 2 x."""
    expect_close(answer, 2 * x, what="2 x", hint="multiply by two")


def test_checker_right_answer_prints_correct_and_returns_none(capsys, verdict):
    assert verdict(check_invariant_mass, RIGHT, P1, P2) == "correct"
    assert capsys.readouterr().out == "Correct!\n"


def test_checker_typical_mistake_gets_hint(capsys, verdict):
    wrong = np.sqrt(P1[0] ** 2 - P1[1:] @ P1[1:]) + np.sqrt(P2[0] ** 2 - P2[1:] @ P2[1:])  # sum of masses
    assert verdict(check_invariant_mass, wrong, P1, P2) == "incorrect"
    out = capsys.readouterr().out
    assert "Incorrect: invariant mass" in out and "Hint: m^2" in out


def test_checker_never_raises_on_broken_answer(capsys, verdict):
    assert verdict(check_invariant_mass, "not a number", P1, P2) == "incorrect"
    assert verdict(check_invariant_mass, RIGHT, P1, "not a vector") == "incorrect"
    assert capsys.readouterr().out.count("Incorrect") == 2


def test_checker_none_answer_is_not_attempted(capsys, verdict):
    assert verdict(check_invariant_mass, None, P1, P2) == "not attempted"
    assert verdict(check_double, answer=None, x=1.0) == "not attempted"
    out = capsys.readouterr().out
    assert out.count("Not attempted yet") == 2 and "Incorrect" not in out


def test_checker_not_implemented_is_not_attempted(capsys, verdict):
    @checker
    def check_nothing(answer):
        raise NotImplementedError()

    assert verdict(check_nothing, 1) == "not attempted"
    assert "Not attempted" in capsys.readouterr().out


def test_checker_records_verdicts_in_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HEPML_NB_RUN_DIR", str(tmp_path))
    check_double(3.0, 1.0)
    check_invariant_mass(RIGHT, P1, P2)
    check_double(None, 1.0)
    check_double(2.0, 1.0)  # a second attempt replaces the first verdict, in place
    assert load_verdicts(tmp_path) == [
        {"exercise": "check_double", "verdict": "correct", "reason": "", "hint": ""},
        {"exercise": "check_invariant_mass", "verdict": "correct", "reason": "", "hint": ""},
    ]
    check_double(5.0, 1.0)
    wrong = load_verdicts(tmp_path)[0]
    assert wrong["verdict"] == "incorrect" and "2 x" in wrong["reason"] and wrong["hint"] == "multiply by two"
    assert json.loads((tmp_path / EXERCISES_FILE).read_text()) == load_verdicts(tmp_path)
    assert load_verdicts() == load_verdicts(tmp_path)  # default: the current run folder


def test_load_verdicts_empty_when_absent(tmp_path):
    assert load_verdicts(tmp_path) == []


def test_checker_survives_an_unwritable_verdict_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HEPML_NB_RUN_DIR", str(tmp_path))
    (tmp_path / EXERCISES_FILE).write_text("{not json")
    assert check_double(2.0, 1.0) is None
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "not recorded" in out


def test_expect_shape_and_close_raise_incorrect():
    with pytest.raises(Incorrect, match=r"expected shape \(2,\)"):
        expect_shape(np.zeros(3), (2,), what="x")
    with pytest.raises(Incorrect, match="expected about 2"):
        expect_close(1.0, 2.0, what="x")
