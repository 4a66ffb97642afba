"""Diphoton features, balanced splits and the qubit encoding."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import features as ft


def _events(photons):
    """Events dict from rows of two photons ((E, px, py, pz), (E, px, py, pz))."""
    arr = np.asarray(photons, dtype=float)
    out = {f"g{k + 1}_{c}": arr[:, k, m] for k in range(2) for m, c in enumerate(("e", "px", "py", "pz"))}
    out["n_charged"] = np.zeros(len(arr))
    return out


def test_diphoton_features_of_a_higgs_at_rest_recoiling_nothing():
    # two back-to-back 62.5 GeV photons along x: m_gg = 125, p_gg = 0
    x, names = ft.diphoton_features(
        _events([[(62.5, 62.5, 0, 0), (62.5, -62.5, 0, 0)]]), sqrt_s=240.0, include_mass=True
    )
    row = dict(zip(names, x[0], strict=True))
    assert row["m_gg"] == pytest.approx(125.0)
    assert row["pt_gg"] == pytest.approx(0.0)
    assert row["m_recoil"] == pytest.approx(np.sqrt(240.0**2 - 2 * 240 * 125 + 125.0**2))
    assert row["dphi"] == pytest.approx(np.pi)
    assert "m_gg" not in ft.diphoton_features(_events([[(62.5, 62.5, 0, 0), (62.5, -62.5, 0, 0)]]))[1]


def test_diphoton_features_cos_theta_star_is_boost_invariant_decay_angle():
    # a 125 GeV state moving along z with beta = 0.6, photons emitted along the flight axis (cos* = 1)
    # and perpendicular to it (cos* = 0)
    m, beta = 125.0, 0.3
    gamma = 1 / np.sqrt(1 - beta**2)

    def boost(e, pz):
        return gamma * (e + beta * pz), gamma * (pz + beta * e)

    e1, z1 = boost(62.5, 62.5)
    e2, z2 = boost(62.5, -62.5)
    e3, z3 = boost(62.5, 0.0)
    x, names = ft.diphoton_features(
        _events([[(e1, 0, 0, z1), (e2, 0, 0, z2)], [(e3, 62.5, 0, z3), (e3, -62.5, 0, z3)]])
    )
    cos_star = x[:, names.index("cos_theta_star")]
    assert cos_star == pytest.approx([1.0, 0.0], abs=1e-9)
    assert x[:, names.index("m_recoil")] == pytest.approx(np.sqrt(240**2 - 2 * 240 * gamma * m + m**2))


def test_balanced_split_is_balanced_and_disjoint(seed):
    y = np.r_[np.ones(30), np.zeros(50)].astype(int)
    train, test = ft.balanced_split(y, n_train=20, n_test=30, seed=seed)
    assert y[train].sum() == 10 and y[test].sum() == 15
    assert not set(train) & set(test)
    assert np.array_equal(train, ft.balanced_split(y, n_train=20, n_test=30, seed=seed)[0])


def test_prepare_features_scales_training_events_into_range(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 8)) * np.arange(1, 9)
    y = (x[:, 0] > 0).astype(int)
    train, test = ft.balanced_split(y, n_train=100, n_test=60, seed=seed)
    fs = ft.prepare_features(x, y, train, test, n_qubits=4, feature_range=(0.0, np.pi))
    assert fs.x_train.shape == (100, 4) and fs.x_test.shape == (60, 4)
    assert fs.x_train.min(axis=0) == pytest.approx(np.zeros(4)) and fs.x_train.max(axis=0) == pytest.approx(
        np.full(4, np.pi)
    )
    assert fs.names == ("pc1", "pc2", "pc3", "pc4")
    sel = ft.prepare_features(x, y, train, test, n_qubits=3, method="select", names=tuple("abcdefgh"))
    assert sel.names == ("a", "b", "c") and np.array_equal(sel.y_test, y[test])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda y: ft.balanced_split(y, n_train=3, n_test=4), "n_train must be an even integer"),
        (lambda y: ft.balanced_split(y, n_train=40, n_test=40), "events of class 1 needed"),
        (
            lambda y: ft.prepare_features(np.zeros((10, 3)), y[:10], np.arange(5), np.arange(5, 10), method="tsne"),
            "unknown feature method 'tsne'; choose one of: pca, select",
        ),
        (
            lambda y: ft.prepare_features(np.zeros((10, 3)), y[:10], np.arange(5), np.arange(5, 10), n_qubits=4),
            "n_qubits must be an integer in 1..3",
        ),
    ],
)
def test_features_reject_bad_input(call, match):
    y = np.r_[np.ones(10), np.zeros(30)].astype(int)
    with pytest.raises(ParameterError, match=match):
        call(y)
