import numpy as np
import pytest

from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.features import (
    cell_energy_spectrum,
    challenge_features,
    feature_label,
    feature_matrix,
    shower_features,
)
from hepml_nb.calo.geometry import get_geometry
from hepml_nb.core.errors import DataError, ParameterError


def _two_cell_shower():
    geo = get_geometry("calogan")
    cells = np.zeros((1, 504), np.float32)
    x, y = geo.cell_centres()
    # layer 1: two equal deposits in cells (row 5, col 5) and (row 5, col 6): centre x = 0, width 20 mm
    cells[0, 288 + 5 * 12 + 5] = 1000.0
    cells[0, 288 + 5 * 12 + 6] = 1000.0
    cells[0, 10] = 500.0  # layer 0, row 0, col 10
    return ShowerSet(np.array([5.0]), cells, "calogan"), x, y


def test_shower_features_hand_computed():
    showers, x, _ = _two_cell_shower()
    f = shower_features(showers)
    assert f["etot_over_einc"][0] == pytest.approx(2500 / 5000)
    assert f["efrac_1"][0] == pytest.approx(0.4) and f["efrac_0"][0] == pytest.approx(0.1)
    assert f["ce_x_1"][0] == pytest.approx(0.0, abs=1e-9) and f["ce_y_1"][0] == pytest.approx(-20.0)
    assert f["width_x_1"][0] == pytest.approx(20.0) and f["width_y_1"][0] == pytest.approx(0.0, abs=1e-6)
    assert f["ce_x_0"][0] == pytest.approx(x[10]) and f["ce_y_0"][0] == pytest.approx(-160.0)
    assert f["sparsity_1"][0] == pytest.approx(142 / 144)
    assert f["efrac_2"][0] == 0 and f["ce_x_2"][0] == 0 and f["sparsity_2"][0] == 1.0
    matrix, names = feature_matrix(f)
    assert matrix.shape == (1, 1 + 3 * 6) and names[0] == "etot_over_einc"


def test_cell_energy_spectrum_log10():
    showers, _, _ = _two_cell_shower()
    assert sorted(cell_energy_spectrum(showers)) == pytest.approx([np.log10(500), 3.0, 3.0])


def test_shower_features_wrong_shapes():
    with pytest.raises(DataError, match=r"needs \(N, 504\)"):
        shower_features(ShowerSet(np.ones(2), np.zeros((2, 100)), "calogan"))
    with pytest.raises(DataError, match="incident energies have shape"):
        shower_features(ShowerSet(np.ones(3), np.zeros((2, 504)), "calogan"))


def test_feature_label_units():
    assert feature_label("width_x_1") == "width $x$, layer 1 [mm]"
    assert feature_label("efrac_2") == "$E_{2}/E_{inc}$"


# --- issue #11: the challenge's high-level features (HighLevelFeatures.CalculateFeatures) for cylindrical layouts


def _one_voxel(name, layer, a, b, energy=100.0):
    geo = get_geometry(name)
    cells = np.zeros((1, geo.n_cells), np.float32)
    _, n_r = geo.layer_shapes[layer]
    cells[0, geo.layer_offsets[layer] + a * n_r + b] = energy
    return geo, cells


@pytest.mark.parametrize(
    "name, layer, a, b",
    [
        ("dataset2", 7, 3, 4),
        ("dataset2", 0, 0, 0),
        ("dataset1-photons", 1, 9, 12),
        ("dataset1-photons", 2, 4, 0),
        ("dataset1-pions", 12, 6, 14),
        ("dataset1-pions", 13, 0, 5),
    ],
)
def test_challenge_features_one_voxel(name, layer, a, b):
    geo, cells = _one_voxel(name, layer, a, b)
    f = challenge_features(cells, name, e_inc=np.array([0.2]))
    r_mid, alpha_mid = geo.r_centres(layer)[b], -np.pi + (a + 0.5) * 2 * np.pi / geo.layer_shapes[layer][0]
    n = geo.layer_sizes[layer]
    assert f["E_tot"][0] == pytest.approx(100.0) and f["etot_over_einc"][0] == pytest.approx(0.5)
    assert f[f"E_layer_{layer}"][0] == pytest.approx(100.0)
    assert f[f"EC_eta_{layer}"][0] == pytest.approx(r_mid * np.cos(alpha_mid), rel=1e-9, abs=1e-9)
    assert f[f"EC_phi_{layer}"][0] == pytest.approx(r_mid * np.sin(alpha_mid), rel=1e-9, abs=1e-9)
    assert f[f"EC_r_{layer}"][0] == pytest.approx(r_mid)
    for kind in ("width_eta", "width_phi", "width_r"):
        assert f[f"{kind}_{layer}"][0] == pytest.approx(0.0, abs=1e-7 * r_mid)  # sqrt of a rounding error
    assert f[f"sparsity_{layer}"][0] == pytest.approx((n - 1) / n)
    other = next(lay for lay in geo.relevant_layers if lay != layer)
    assert f[f"E_layer_{other}"][0] == 0 and f[f"EC_r_{other}"][0] == 0 and f[f"sparsity_{other}"][0] == 1.0


def test_challenge_features_keys_follow_the_layout():
    photons = challenge_features(np.ones((2, 368)), "dataset1-photons")
    assert "etot_over_einc" not in photons  # no incident energies given
    per_layer = {int(k.rpartition("_")[2]) for k in photons if k != "E_tot"}
    assert per_layer == {0, 1, 2, 3, 12}
    assert "EC_eta_0" not in photons and "width_phi_12" not in photons and "EC_r_0" in photons
    assert {"EC_eta_1", "EC_phi_2", "width_eta_2", "width_phi_1"} <= set(photons)
    pions = challenge_features(np.ones((1, 533)), "dataset1-pions")
    assert {"EC_eta_12", "EC_phi_13", "EC_r_14"} <= set(pions) and "EC_eta_14" not in pions
    assert len(challenge_features(np.ones((1, 6480)), "dataset2")) == 1 + 45 * 8


def test_challenge_features_two_voxels_width():
    """Two equal deposits at opposite angular bins of the same radius: centre 0, width r_mid*|cos|."""
    geo, cells = _one_voxel("dataset2", 5, 0, 3)
    cells[0, geo.layer_offsets[5] + 8 * 9 + 3] = 100.0  # bin 8: alpha = +pi/16, opposite bin 0 (-pi + pi/16)
    f = challenge_features(cells, "dataset2")
    r = geo.r_centres(5)[3]
    assert r == pytest.approx(16.275)
    assert f["EC_eta_5"][0] == pytest.approx(0.0, abs=1e-9) and f["EC_phi_5"][0] == pytest.approx(0.0, abs=1e-9)
    assert f["width_eta_5"][0] == pytest.approx(r * np.cos(np.pi / 16))
    assert f["width_phi_5"][0] == pytest.approx(r * np.sin(np.pi / 16))
    assert f["EC_r_5"][0] == pytest.approx(r) and f["width_r_5"][0] == pytest.approx(0.0, abs=1e-6)
    # two radii in the same angular bin, energies 1 : 3 -> EC_r = (r0 + 3 r1) / 4, width = sqrt(3)/4 (r1 - r0)
    geo, cells = _one_voxel("dataset1-photons", 0, 0, 1, energy=1.0)  # r 5-10 mm -> 7.5
    cells[0, 3] = 3.0  # r 30-50 mm -> 40
    f = challenge_features(cells, "dataset1-photons", threshold=2.0)
    assert f["EC_r_0"][0] == pytest.approx((7.5 + 3 * 40) / 4)
    assert f["width_r_0"][0] == pytest.approx(np.sqrt(3) / 4 * 32.5)
    assert f["sparsity_0"][0] == pytest.approx(7 / 8)  # the 1 MeV voxel is below the threshold


def test_challenge_features_match_challenge_formulas_on_random_showers():
    """Against a direct transcription of HighLevelFeatures (eta = r cos alpha, 1e-16, clip)."""
    rng = np.random.default_rng(1)
    geo = get_geometry("dataset1-pions")
    data = rng.exponential(1.0, (5, geo.n_cells)) * (rng.random((5, geo.n_cells)) < 0.3)
    f = challenge_features(data, geo)
    r, alpha = geo.cell_polar()
    eta, phi = r * np.cos(alpha), r * np.sin(alpha)
    off = geo.layer_offsets
    for layer in (1, 12, 13):
        e = data[:, off[layer] : off[layer + 1]]
        s = slice(off[layer], off[layer + 1])
        ec = (eta[s] * e).sum(-1) / (e.sum(-1) + 1e-16)
        w = np.sqrt(((eta[s] ** 2 * e).sum(-1) / (e.sum(-1) + 1e-16) - ec**2).clip(min=0.0))
        np.testing.assert_allclose(f[f"EC_eta_{layer}"], ec)
        np.testing.assert_allclose(f[f"width_eta_{layer}"], w)
        np.testing.assert_allclose(f[f"EC_phi_{layer}"], (phi[s] * e).sum(-1) / (e.sum(-1) + 1e-16))
        np.testing.assert_allclose(f[f"sparsity_{layer}"], 1.0 - (e > 0).mean(-1))


def test_shower_features_cylindrical_uses_challenge_features():
    geo, cells = _one_voxel("dataset2", 7, 3, 4, energy=500.0)
    f = shower_features(ShowerSet(np.array([1.0]), cells, "dataset2"))
    assert "E_tot" not in f and next(iter(f)) == "etot_over_einc" and f["etot_over_einc"][0] == pytest.approx(0.5)
    assert f["EC_r_7"][0] == pytest.approx(geo.r_centres(7)[4]) and f["sparsity_7"][0] == pytest.approx(143 / 144)
    matrix, _ = feature_matrix(f)
    assert matrix.shape == (1, 1 + 45 * 8)
    with pytest.raises(ParameterError, match="'calogan' is cartesian"):
        challenge_features(np.zeros((1, 504)), "calogan")
    with pytest.raises(ParameterError, match="give the geometry"):
        challenge_features(np.zeros((1, 6480)))


def test_feature_label_challenge_kinds():
    assert feature_label("EC_eta_12") == r"centre of energy $\eta$ (= $r\cos\alpha$), layer 12 [mm]"
    assert feature_label("E_layer_3") == "$E_{3}$ [MeV]"


@pytest.mark.parametrize("geometry", ["calogan", "dataset1-photons", "dataset1-pions", "dataset2", "dataset3"])
def test_headline_features_are_features_of_that_geometry(geometry):
    from conftest import toy_showers

    from hepml_nb.calo.features import headline_features

    names = headline_features(geometry)
    f = shower_features(toy_showers(geometry, 20, seed=1))
    assert len(names) == 8 and len(set(names)) == 8 and names[0] == "etot_over_einc"
    assert set(names) <= set(f)
    assert all(np.ptp(f[name]) > 0 for name in names)  # each varies over showers: a layer with energy
