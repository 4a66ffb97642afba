import numpy as np
import pytest

from hepml_nb.calo.geometry import cell_index, get_geometry, layer_images
from hepml_nb.core.errors import ParameterError


def test_get_geometry_cell_counts():
    assert get_geometry("calogan").n_cells == 504
    assert get_geometry("calogan").layer_sizes == (288, 144, 72)
    assert get_geometry("dataset2").n_cells == 6480 == 45 * 16 * 9


def test_get_geometry_unknown_name_lists_choices():
    with pytest.raises(ParameterError, match="unknown calorimeter geometry 'atlas'.*calogan, dataset2"):
        get_geometry("atlas")


def test_cell_index_calogan_known_points():
    geo = get_geometry("calogan")
    # layer 0 (t < 4 X0): 3 x 96 cells over 480 mm -> 160 mm rows, 5 mm columns
    t = np.array([1.0, 1.0, 10.0, 20.0, 50.0, 1.0])
    x = np.array([-239.0, 2.0, 1.0, -1.0, 0.0, 300.0])
    y = np.array([-239.0, 1.0, -1.0, 1.0, 0.0, 0.0])
    idx = cell_index(geo, t, x, y)
    assert idx[0] == 0
    assert idx[1] == 1 * 96 + 48
    assert idx[2] == 288 + 5 * 12 + 6
    assert idx[3] == 288 + 144 + 6 * 6 + 2
    assert idx[4] == -1 and idx[5] == -1  # behind the calorimeter, outside the face


def test_cell_index_dataset2_order_radial_fastest():
    geo = get_geometry("dataset2")
    # layer 3 (depth 2.4-3.2 X0), angle just above 0 -> angular bin 0, radius 10 mm -> radial bin 2
    idx = cell_index(geo, np.array([2.5, 2.5]), np.array([10.0, 0.0]), np.array([1e-3, 10.0]))
    assert idx[0] == 3 * 144 + 0 * 9 + 2
    assert idx[1] == 3 * 144 + 4 * 9 + 2  # 90 degrees: bin 4 of 16
    assert cell_index(geo, np.array([1.0]), np.array([70.0]), np.array([0.0]))[0] == -1


def test_layer_images_shapes_and_wrong_width():
    geo = get_geometry("calogan")
    cells = np.arange(2 * 504, dtype=float).reshape(2, 504)
    images = layer_images(geo, cells)
    assert [im.shape for im in images] == [(2, 3, 96), (2, 12, 12), (2, 12, 6)]
    assert images[1][1, 0, 0] == cells[1, 288]
    with pytest.raises(ParameterError, match="have 6480 cells but geometry 'calogan' has 504"):
        layer_images(geo, np.zeros((1, 6480)))


def test_cell_centres_symmetric():
    x, y = get_geometry("calogan").cell_centres()
    assert x.shape == (504,) and abs(x.mean()) < 1e-9 and abs(y.mean()) < 1e-9
