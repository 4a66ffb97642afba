import matplotlib.pyplot as plt
import numpy as np
import pytest

from hepml_nb.calo import plots
from hepml_nb.calo.features import shower_features
from hepml_nb.calo.gflash import simulate_showers
from hepml_nb.calo.validation import Chi2Point
from hepml_nb.core.errors import DataError


@pytest.fixture(scope="module")
def showers():
    return simulate_showers(np.linspace(10, 60, 60), seed=3, progress=False)


def test_plot_feature_draws_each_sample_with_ratio(showers):
    f = shower_features(showers)
    main, ratio = plots.plot_feature(
        {"ref": f["efrac_1"], "gan": f["efrac_1"] * 1.05}, name="efrac_1", separation={"gan": 0.1}
    )
    assert len(main.get_legend().get_texts()) == 2 and "S = 0.100" in main.get_legend().get_texts()[1].get_text()
    assert ratio.get_xlabel() == "$E_{1}/E_{inc}$"
    plt.close("all")
    with pytest.raises(DataError, match="at least one sample"):
        plots.plot_feature({})


def test_plot_features_and_viewer_return_figures(showers):
    f = shower_features(showers)
    fig = plots.plot_features(f, {"copy": f}, ["etot_over_einc", "width_x_1"])
    assert len(fig.axes) == 4
    fig = plots.view_showers({"a": showers, "b": showers}, 30.0)
    assert len(fig.axes) == 2 * 3 + 2  # images plus one colour bar per row
    with pytest.raises(DataError, match="widen the energy window"):
        plots.view_showers({"a": showers}, 95.0, window=0.01)
    plt.close("all")


def test_shown_layers_spreads_over_the_layers_with_cells():
    assert plots.shown_layers("calogan") == (0, 1, 2)
    assert plots.shown_layers("dataset1-photons") == (0, 1, 2, 3, 12)  # layers 4-11 hold no voxels
    ds2 = plots.shown_layers("dataset2")
    assert len(ds2) == 6 and ds2[0] == 0 and ds2[-1] == 44 and list(ds2) == sorted(ds2)


def test_viewer_draws_cylindrical_voxels_on_polar_axes(seed):
    """A single lit voxel at (alpha bin 0, r bin 2) of dataset-2 layer 0 is drawn at alpha in [-pi, -pi + pi/8)
    and r in [9.3, 13.95) mm."""
    from hepml_nb.calo.data import ShowerSet
    from hepml_nb.calo.geometry import get_geometry

    geo = get_geometry("dataset2")
    cells = np.zeros((1, geo.n_cells), np.float32)
    cells[0, 0 * 9 + 2] = 100.0
    fig = plots.plot_layers({"one": ShowerSet(np.array([1.0]), cells, "dataset2")}, layers=[0, 1])
    ax = fig.axes[0]
    assert ax.name == "polar" and ax.get_title() == "one: layer 0"
    mesh = ax.collections[0]
    values = np.asarray(mesh.get_array()).reshape(9, 16)  # (r, alpha)
    lit = np.argwhere(values == values.max())
    assert lit.tolist() == [[2, 0]]
    plt.close("all")


def test_plot_chi2_and_history():
    ax = plots.plot_chi2({"gan": [Chi2Point(1, 50, 20.0, 10, 100, 100), Chi2Point(50, 100, 5.0, 10, 100, 100)]})
    assert ax.lines[0].get_ydata()[0] == pytest.approx(2.0)
    ax = plots.plot_history([{"iteration": 50, "wasserstein": 1.0}, {"iteration": 100, "wasserstein": 0.5}])
    assert len(ax.lines) == 1
    plt.close("all")
