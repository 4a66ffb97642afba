import numpy as np
import pytest

from hepml_nb.calo.features import cell_energy_spectrum, feature_label, feature_matrix, shower_features
from hepml_nb.calo.geometry import get_geometry
from hepml_nb.calo.gflash import ShowerSet
from hepml_nb.core.errors import DataError


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
    showers, x, y = _two_cell_shower()
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
