"""Exercise checkers: the solution passes, typical mistakes fail with a hint."""

import numpy as np

from hepml_nb.jets.exercises import check_jet_mass, check_knn, check_rejection, jet_masses


def _four_vectors(seed):
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 5, (4, 6, 3)) + np.array([50.0, 0, 0])
    e = np.linalg.norm(p, axis=-1)
    four = np.concatenate([p, e[..., None]], axis=-1)
    four[:, 4:] = 0.0  # padding
    return four


def test_check_jet_mass_right_and_wrong(seed, capsys, verdict):
    four = _four_vectors(seed)
    total = four.sum(1)
    right = np.sqrt(total[:, 3] ** 2 - (total[:, :3] ** 2).sum(1))
    assert verdict(check_jet_mass, right, four) == "correct"
    np.testing.assert_allclose(jet_masses(four), right)
    per_particle = np.zeros(4)  # massless particles: the sum of their masses is zero
    assert verdict(check_jet_mass, per_particle, four) == "incorrect"
    assert "summed the masses of the particles" in capsys.readouterr().out
    assert verdict(check_jet_mass, right[:2], four) == "incorrect"
    assert "expected shape (4,)" in capsys.readouterr().out


def test_check_knn_right_and_wrong(capsys, verdict):
    points = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.2], [0.5, 0.5], [0.01, 0.01], [0.0, 0.0]])
    mask = np.array([True, True, True, True, False, False])
    assert verdict(check_knn, [2, 1], points, mask, particle=0, k=2) == "correct"
    assert verdict(check_knn, [0, 1], points, mask, particle=0, k=2) == "incorrect"
    assert "the particle itself" in capsys.readouterr().out
    assert verdict(check_knn, [4, 1], points, mask, particle=0, k=2) == "incorrect"
    assert "padded particles" in capsys.readouterr().out
    assert verdict(check_knn, [1, 3], points, mask, particle=0, k=2) == "incorrect"
    assert "expected the particles [1, 2]" in capsys.readouterr().out


def test_check_rejection_right_and_wrong(seed, capsys, verdict):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], 500)
    score = np.concatenate([rng.normal(0, 1, 500), rng.normal(2, 1, 500)])
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, score)
    rejection = 1.0 / np.interp(0.5, tpr, fpr)
    assert verdict(check_rejection, rejection, y, score) == "correct"
    assert verdict(check_rejection, 1.0 / rejection, y, score) == "incorrect"
    assert "background efficiency" in capsys.readouterr().out


def test_checkers_say_not_attempted_for_none(seed, capsys, verdict):
    y, score = np.repeat([0, 1], 5), np.arange(10.0)
    assert verdict(check_rejection, None, y, score) == "not attempted"
    assert verdict(check_jet_mass, None, _four_vectors(seed)) == "not attempted"
    assert verdict(check_knn, None, np.zeros((3, 2)), np.ones(3, bool), particle=0, k=1) == "not attempted"
    out = capsys.readouterr().out
    assert out.count("Not attempted yet") == 3 and "Incorrect" not in out
