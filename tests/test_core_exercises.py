import numpy as np
import pytest

from hepml_nb.core.exercises import Incorrect, checker, expect_close, expect_shape
from hepml_nb.core.setup_check import check_invariant_mass

P1, P2 = np.array([62.5, 0.0, 40.0, 48.0]), np.array([70.0, 0.0, -56.0, 42.0])


def test_checker_right_answer_prints_correct(capsys):
    e, px, py, pz = P1 + P2
    assert check_invariant_mass(np.sqrt(e**2 - px**2 - py**2 - pz**2), P1, P2) is True
    assert "Correct" in capsys.readouterr().out


def test_checker_typical_mistake_gets_hint(capsys):
    wrong = np.sqrt(P1[0] ** 2 - P1[1:] @ P1[1:]) + np.sqrt(P2[0] ** 2 - P2[1:] @ P2[1:])  # sum of masses
    assert check_invariant_mass(wrong, P1, P2) is False
    out = capsys.readouterr().out
    assert "Incorrect: invariant mass" in out and "Hint: m^2" in out


def test_checker_never_raises_on_broken_answer(capsys):
    assert check_invariant_mass("not a number", P1, P2) is False
    assert check_invariant_mass(None, P1, P2) is False
    assert capsys.readouterr().out.count("Incorrect") == 2


def test_checker_reports_not_attempted(capsys):
    @checker
    def check_nothing():
        raise NotImplementedError()

    assert check_nothing() is False
    assert "Not attempted" in capsys.readouterr().out


def test_expect_shape_and_close_raise_incorrect():
    with pytest.raises(Incorrect, match=r"expected shape \(2,\)"):
        expect_shape(np.zeros(3), (2,), what="x")
    with pytest.raises(Incorrect, match="expected about 2"):
        expect_close(1.0, 2.0, what="x")
