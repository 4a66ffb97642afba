"""Exercise checkers: the right answer passes, the typical wrong one gets a hint."""

import numpy as np

from hepml_nb.qml import exercises as ex
from hepml_nb.qml.kernels import zz_statevectors


def _events():
    return {
        "g1_e": np.array([70.0, 60.0]),
        "g1_px": np.array([50.0, 0.0]),
        "g1_py": np.array([30.0, 40.0]),
        "g1_pz": np.array([40.0, 44.7]),
        "g2_e": np.array([55.0, 65.0]),
        "g2_px": np.array([-45.0, 10.0]),
        "g2_py": np.array([-20.0, -50.0]),
        "g2_pz": np.array([-22.9, -40.6]),
    }


def _recoil(ev, with_mass_term=True):
    e = ev["g1_e"] + ev["g2_e"]
    p2 = sum((ev[f"g1_{c}"] + ev[f"g2_{c}"]) ** 2 for c in ("px", "py", "pz"))
    return np.sqrt(np.abs(240.0**2 - 2 * 240.0 * e + (e**2 - p2 if with_mass_term else 0)))


def test_check_recoil_mass_right_and_wrong(capsys, verdict):
    ev = _events()
    assert verdict(ex.check_recoil_mass, _recoil(ev), ev) == "correct"
    assert verdict(ex.check_recoil_mass, _recoil(ev, with_mass_term=False), ev) == "incorrect"
    assert "m_gg^2 term" in capsys.readouterr().out


def test_check_fidelity_right_and_wrong(capsys, verdict):
    psi = zz_statevectors(np.array([[0.1, 0.5, 1.0], [0.9, 0.2, 2.0]]), alpha=0.5)
    assert verdict(ex.check_fidelity, abs(np.vdot(psi[0], psi[1])) ** 2, psi[0], psi[1]) == "correct"
    assert verdict(ex.check_fidelity, abs(np.vdot(psi[0], psi[1])), psi[0], psi[1]) == "incorrect"
    assert "square it" in capsys.readouterr().out
    assert verdict(ex.check_fidelity, abs(np.dot(psi[0], psi[1])) ** 2, psi[0], psi[1]) == "incorrect"
    assert "complex conjugate" in capsys.readouterr().out


def test_check_circuit_count_right_and_wrong(capsys, verdict):
    assert verdict(ex.check_circuit_count, 45 + 100, 10, 10) == "correct"
    assert verdict(ex.check_circuit_count, 100 + 100, 10, 10) == "incorrect"
    assert "only i < j" in capsys.readouterr().out


def test_checkers_say_not_attempted_for_none(capsys, verdict):
    psi = np.array([1.0, 0.0])
    assert verdict(ex.check_recoil_mass, None, _events()) == "not attempted"
    assert verdict(ex.check_fidelity, None, psi, psi) == "not attempted"
    assert verdict(ex.check_circuit_count, None, 10, 10) == "not attempted"
    out = capsys.readouterr().out
    assert out.count("Not attempted yet") == 3 and "Incorrect" not in out
