import json

import numpy as np
import pytest

from hepml_nb.calo.geometry import (
    GEOMETRIES,
    LAYOUTS_FILE,
    PB_LAR,
    W_SI,
    cell_index,
    get_geometry,
    layer_images,
    load_layouts,
    locate,
)
from hepml_nb.core.errors import ParameterError

R2 = (0, 4.65, 9.3, 13.95, 18.6, 23.25, 27.9, 32.55, 37.2, 41.85)


def test_get_geometry_cell_counts():
    assert get_geometry("calogan").n_cells == 504
    assert get_geometry("calogan").layer_sizes == (288, 144, 72)
    assert get_geometry("dataset2").n_cells == 6480 == 45 * 16 * 9
    assert get_geometry("dataset3").n_cells == 40500 == 45 * 50 * 18
    assert get_geometry("dataset1-photons").n_cells == 368
    assert get_geometry("dataset1-pions").n_cells == 533


def test_get_geometry_unknown_name_lists_choices():
    with pytest.raises(ParameterError, match="unknown calorimeter geometry 'atlas'.*calogan, dataset1-photons"):
        get_geometry("atlas")


def test_dataset2_radial_edges_of_the_challenge():
    """issue #11, defect 1: the challenge's dataset-2 edges are nine uniform 4.65 mm bins up to 41.85 mm."""
    geo = get_geometry("dataset2")
    assert geo.n_layers == 45 and all(shape == (16, 9) for shape in geo.layer_shapes)
    for edges in geo.r_edges_mm:
        np.testing.assert_allclose(edges, R2)
    np.testing.assert_allclose(geo.r_centres(0), 2.325 + 4.65 * np.arange(9))
    assert geo.r_centres(0)[0] == pytest.approx(2.325) and geo.r_centres(0)[-1] == pytest.approx(39.525)
    alpha = geo.alpha_centres(7)
    assert alpha[0] == pytest.approx(-np.pi + np.pi / 16) and alpha[-1] == pytest.approx(np.pi - np.pi / 16)
    np.testing.assert_allclose(np.diff(alpha), 2 * np.pi / 16)
    np.testing.assert_allclose(geo.layer_edges_x0, 0.8 * np.arange(46))


def test_dataset3_and_dataset1_layouts():
    ds3 = get_geometry("dataset3")
    assert all(shape == (50, 18) for shape in ds3.layer_shapes)
    np.testing.assert_allclose(ds3.r_edges_mm[44], 2.325 * np.arange(19))
    photons, pions = get_geometry("dataset1-photons"), get_geometry("dataset1-pions")
    assert photons.layer_ids == tuple(range(24)) and photons.pid == 22 and pions.pid == 211
    assert photons.relevant_layers == (0, 1, 2, 3, 12) and photons.layers_binned_in_alpha == (1, 2)
    assert pions.relevant_layers == (0, 1, 2, 3, 12, 13, 14) and pions.layers_binned_in_alpha == (1, 2, 12, 13)
    assert photons.layer_sizes[:5] == (8, 160, 190, 5, 0) and photons.layer_sizes[12] == 5
    assert pions.layer_sizes[12:15] == (150, 160, 10)
    assert photons.layer_shapes[4] == (1, 0) and photons.r_edges_mm[4] == (0.0,)
    np.testing.assert_allclose(photons.alpha_centres(0), [0.0])  # a single angular bin is centred on 0
    assert photons.layer_edges_x0 is None and not photons.simulable


def test_layouts_file_is_data_with_particles():
    raw = json.loads(LAYOUTS_FILE.read_text())["layouts"]
    assert raw == load_layouts()
    assert {k: v["pid"] for k, v in raw.items()} == {
        "dataset1-photons": 22,
        "dataset1-pions": 211,
        "dataset2": 11,
        "dataset3": 11,
    }
    for name, layout in raw.items():
        n = sum((len(layer["r_edges"]) - 1) * layer["n_bin_alpha"] for layer in layout["layers"])
        assert n == GEOMETRIES[name].n_cells


def test_voxel_order_layer_alpha_radial():
    """Flat index of (layer, alpha bin, r bin) = offset[layer] + alpha * n_r + r, as the challenge."""
    for name in ("dataset2", "dataset1-photons", "dataset1-pions"):
        geo = get_geometry(name)
        r, alpha = geo.cell_polar()
        layer_of = geo.cell_layer()
        off = geo.layer_offsets
        for layer in geo.relevant_layers:
            n_alpha, n_r = geo.layer_shapes[layer]
            for a, b in ((0, 0), (n_alpha - 1, n_r - 1), (n_alpha // 2, n_r // 3)):
                i = off[layer] + a * n_r + b
                assert layer_of[i] == layer
                assert r[i] == pytest.approx(geo.r_centres(layer)[b])
                assert alpha[i] == pytest.approx(geo.alpha_centres(layer)[a])
    x, y = get_geometry("dataset2").cell_centres()
    assert x[3 * 144 + 0 * 9 + 2] == pytest.approx(11.625 * np.cos(-np.pi + np.pi / 16))
    assert y[3 * 144 + 0 * 9 + 2] == pytest.approx(11.625 * np.sin(-np.pi + np.pi / 16))


def test_cell_index_calogan_known_points():
    geo = get_geometry("calogan")
    # layer 0 (t < 5.77 X0): 3 x 96 cells over 480 mm -> 160 mm rows, 5 mm columns
    t = np.array([1.0, 1.0, 10.0, 29.0, 50.0, 1.0])
    x = np.array([-239.0, 2.0, 1.0, -1.0, 0.0, 300.0])
    y = np.array([-239.0, 1.0, -1.0, 1.0, 0.0, 0.0])
    idx = cell_index(geo, t, x, y)
    assert idx[0] == 0
    assert idx[1] == 1 * 96 + 48
    assert idx[2] == 288 + 5 * 12 + 6
    assert idx[3] == 288 + 144 + 6 * 6 + 2
    assert idx[4] == -1 and idx[5] == -1  # behind the calorimeter, outside the face
    layer, _ = locate(geo, t, x, y)
    assert layer.tolist() == [0, 0, 1, 2, -1, 0]  # outside the face is still inside layer 0's depth


def test_calogan_depths_from_geant4_boundaries():
    """issue #11, defect 2: read-out layers at 0, 90, 437, 480 mm of Pb/LAr (X0 = 15.6 mm)."""
    geo = get_geometry("calogan")
    assert geo.layer_edges_mm == (0.0, 90.0, 437.0, 480.0)
    np.testing.assert_allclose(geo.layer_edges_x0, np.array([0.0, 90.0, 437.0, 480.0]) / 15.6)
    np.testing.assert_allclose(np.diff(geo.layer_edges_x0), [5.77, 22.24, 2.76], atol=0.01)
    assert cell_index(geo, np.array([5.0, 6.0]), np.zeros(2), np.zeros(2)).tolist() == [144, 288 + 6 * 12 + 6]


def test_moliere_radius_follows_design_formula():
    """R_M = X0 * 21.2 MeV / E_c, derived, for both materials."""
    for mat in (PB_LAR, W_SI):
        assert mat.rm_mm == pytest.approx(mat.x0_mm * 21.2 / mat.ec_mev)
    assert PB_LAR.rm_mm == pytest.approx(38.01, abs=0.01) and W_SI.rm_mm == pytest.approx(9.275)
    assert "rm_mm" not in PB_LAR._fields
    assert PB_LAR._replace(x0_mm=31.2).rm_mm == pytest.approx(2 * PB_LAR.rm_mm)


def test_cell_index_dataset2_minus_pi_convention():
    geo = get_geometry("dataset2")
    # layer 3 (depth 2.4-3.2 X0); radius 10 mm -> radial bin 2 (edges 9.3, 13.95)
    pts = {  # angle -> angular bin: bin 0 starts at -pi, so angle 0 is the start of bin 8
        0.01: 8,
        np.pi / 2: 12,
        -np.pi / 2: 4,
        -np.pi + 0.01: 0,
        np.pi - 0.01: 15,
        np.pi: 0,  # arctan2 gives +pi on the negative x axis: the same direction as -pi
    }
    angles = np.array(list(pts))
    idx = cell_index(geo, np.full(angles.size, 2.5), 10.0 * np.cos(angles), 10.0 * np.sin(angles))
    assert idx.tolist() == [3 * 144 + b * 9 + 2 for b in pts.values()]
    # beyond the last edge (41.85 mm) and behind the calorimeter: outside
    assert cell_index(geo, np.array([1.0, 40.0]), np.array([42.0, 1.0]), np.array([0.0, 0.0])).tolist() == [-1, -1]
    assert cell_index(geo, np.array([1.0]), np.array([41.0]), np.array([0.0]))[0] == 1 * 144 + 8 * 9 + 8


def test_cell_index_centres_round_trip():
    """Every voxel centre of dataset 2 and 3 maps back to its own index."""
    for name in ("dataset2", "dataset3"):
        geo = get_geometry(name)
        x, y = geo.cell_centres()
        t = np.asarray(geo.layer_edges_x0)[geo.cell_layer()] + 0.4
        np.testing.assert_array_equal(cell_index(geo, t, x, y), np.arange(geo.n_cells))


def test_dataset1_cannot_be_located_into():
    with pytest.raises(ParameterError, match="'dataset1-photons' has no depth model"):
        cell_index(get_geometry("dataset1-photons"), np.zeros(1), np.zeros(1), np.zeros(1))


def test_layer_images_shapes_and_wrong_width():
    geo = get_geometry("calogan")
    cells = np.arange(2 * 504, dtype=float).reshape(2, 504)
    images = layer_images(geo, cells)
    assert [im.shape for im in images] == [(2, 3, 96), (2, 12, 12), (2, 12, 6)]
    assert images[1][1, 0, 0] == cells[1, 288]
    with pytest.raises(ParameterError, match="have 6480 cells but geometry 'calogan' has 504"):
        layer_images(geo, np.zeros((1, 6480)))
    photons = layer_images(get_geometry("dataset1-photons"), np.zeros((2, 368)))
    assert len(photons) == 24 and photons[1].shape == (2, 10, 16) and photons[5].shape == (2, 1, 0)


def test_cell_centres_symmetric():
    x, y = get_geometry("calogan").cell_centres()
    assert x.shape == (504,) and abs(x.mean()) < 1e-9 and abs(y.mean()) < 1e-9
    x, y = get_geometry("dataset2").cell_centres()
    assert x.shape == (6480,) and abs(x.mean()) < 1e-9 and abs(y.mean()) < 1e-9
