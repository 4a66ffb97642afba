import matplotlib.pyplot as plt
import numpy as np
import pytest

from hepml_nb.core.plotting import axes_or_new, plot_rejection, plot_roc, use_style


def test_axes_or_new_passes_given_axes_through():
    _, ax = plt.subplots()
    assert axes_or_new(ax) is ax
    new = axes_or_new(figsize=(3, 2))
    assert new is not ax and tuple(new.figure.get_size_inches()) == (3, 2)


def test_plot_roc_and_rejection_draw_one_curve_per_label(seed):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], 200)
    s = np.r_[rng.normal(0, 1, 200), rng.normal(1, 1, 200)]
    ax = plot_roc({"a": (y, s), "b": (y, -s)})
    assert [line.get_label().split(" (")[0] for line in ax.lines] == ["a", "b", "random"]
    ax = plot_rejection({"a": (y, s)})
    assert ax.get_yscale() == "log" and len(ax.lines) == 1


def test_use_style_unknown_name():
    with pytest.raises(ValueError, match="unknown style 'CDF'; choose one of: ROOT"):
        use_style("CDF")
