import numpy as np

from hepml_nb.calo import exercises
from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.geometry import get_geometry


def test_check_shower_max_right_and_unit_mistake(capsys, verdict):
    mat = get_geometry("calogan").material
    assert verdict(exercises.check_shower_max, np.log(50e3 / mat.ec_mev) - 0.858, 50.0, mat) == "correct"
    assert verdict(exercises.check_shower_max, np.log(50 / mat.ec_mev) - 0.858, 50.0, mat) == "incorrect"
    assert "GeV and E_c in MeV" in capsys.readouterr().out


def test_check_response_right_and_unit_mistake(capsys, verdict):
    s = ShowerSet(np.array([2.0, 4.0]), np.array([[1000.0, 900.0], [3000.0, 1000.0]], np.float32), "calogan")
    assert verdict(exercises.check_response, np.array([0.95, 1.0]), s) == "correct"
    assert verdict(exercises.check_response, np.array([950.0, 1000.0]), s) == "incorrect"
    assert "1000 times too large" in capsys.readouterr().out
    assert verdict(exercises.check_response, np.array([0.95]), s) == "incorrect"


def test_check_separation_power_right_and_typical_mistakes(capsys, verdict):
    h1, h2 = np.array([1, 1, 0, 2]), np.array([0, 2, 2, 0])
    assert verdict(exercises.check_separation_power, 2 / 3, h1, h2) == "correct"
    raw = 0.5 * (1 / 1 + 1 / 3 + 4 / 2 + 4 / 2)
    assert verdict(exercises.check_separation_power, raw, h1, h2) == "incorrect"
    assert "raw counts" in capsys.readouterr().out
    assert verdict(exercises.check_separation_power, 4 / 3, h1, h2) == "incorrect"
    assert "factor 1/2" in capsys.readouterr().out


def test_check_jsd_right_and_wrong(capsys, verdict):
    assert verdict(exercises.check_jsd, (np.log(2) - 0.5) / np.log(2), 0.5) == "correct"
    assert verdict(exercises.check_jsd, 1 - 0.5, 0.5) == "incorrect"
    assert "ln 2" in capsys.readouterr().out


def test_checkers_say_not_attempted_for_none(capsys, verdict):
    mat = get_geometry("calogan").material
    s = ShowerSet(np.array([2.0]), np.ones((1, 504), np.float32), "calogan")
    assert verdict(exercises.check_shower_max, None, 50.0, mat) == "not attempted"
    assert verdict(exercises.check_response, None, s) == "not attempted"
    assert verdict(exercises.check_separation_power, None, np.array([1, 2]), np.array([2, 1])) == "not attempted"
    assert verdict(exercises.check_jsd, None, 0.6) == "not attempted"
    out = capsys.readouterr().out
    assert out.count("Not attempted yet") == 4 and "Incorrect" not in out


def test_checkers_never_raise_on_garbage(capsys, verdict):
    mat = get_geometry("calogan").material
    assert verdict(exercises.check_shower_max, "deep", 50.0, mat) == "incorrect"
    assert verdict(exercises.check_jsd, [0.1, 0.2], 0.6) == "incorrect"
    assert capsys.readouterr().out.count("Incorrect") == 2
