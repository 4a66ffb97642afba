"""Plots for shower validation: feature histograms with ratio panels and a layer viewer.

Histograms go through ``hist`` and ``mplhep.histplot`` (with Poisson errors); plot
helpers take their axes, draw only there and return them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np
from matplotlib.colors import LogNorm

from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.features import feature_label
from hepml_nb.calo.geometry import get_geometry, layer_images
from hepml_nb.calo.validation import common_bins
from hepml_nb.core.errors import DataError
from hepml_nb.core.history import TrainingHistory
from hepml_nb.core.plotting import axes_or_new

__all__ = [
    "ratio_axes",
    "plot_feature",
    "plot_features",
    "shown_layers",
    "plot_layers",
    "plot_chi2",
    "view_showers",
    "plot_history",
]


def ratio_axes(fig=None, spec=None):
    """A (main, ratio) pair of axes sharing x, in ``fig`` (new if None) or a gridspec slot ``spec``."""
    fig = fig if fig is not None else plt.figure(figsize=(5.5, 5))
    grid = (
        spec.subgridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
        if spec is not None
        else fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
    )
    main = fig.add_subplot(grid[0])
    return main, fig.add_subplot(grid[1], sharex=main)


def _hist(values: np.ndarray, edges: np.ndarray) -> hist.Hist:
    h = hist.Hist(hist.axis.Variable(edges, flow=False), storage=hist.storage.Weight())
    h.fill(np.clip(values, edges[0], edges[-1] - 1e-12 * (edges[-1] - edges[0])))
    return h


def plot_feature(
    samples: Mapping[str, np.ndarray],
    *,
    name: str = "",
    bins: int | np.ndarray = 30,
    ax=None,
    separation: Mapping[str, float] | None = None,
):
    """Unit-normalised histograms of one feature for ``{label: values}``, the first label as reference,
    with the ratio to the reference below. ``ax``: a (main, ratio) pair (new figure if None).

    Returns the (main, ratio) axes.
    """
    if not samples:
        raise DataError("plot_feature needs at least one sample: {label: values}")
    main, ratio = ax if ax is not None else ratio_axes()
    labels = list(samples)
    edges = common_bins(samples[labels[0]], n_bins=bins) if np.isscalar(bins) else np.asarray(bins)
    hists = {k: _hist(np.asarray(v, float), edges) for k, v in samples.items()}
    ref = hists[labels[0]]
    ref_density = ref.values() / max(ref.values().sum(), 1)
    colours = ["black", *plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2"])]
    for i, (label, h) in enumerate(hists.items()):
        total, colour = max(h.values().sum(), 1), colours[i % len(colours)]
        text = label if not separation or label not in separation else f"{label} (S = {separation[label]:.3f})"
        mplhep.histplot(
            h.values() / total, edges, yerr=np.sqrt(h.variances()) / total, ax=main, label=text, color=colour
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(ref_density > 0, (h.values() / total) / ref_density, np.nan)
            err = np.where(ref_density > 0, np.sqrt(h.variances()) / total / ref_density, np.nan)
        mplhep.histplot(r, edges, yerr=err, ax=ratio, color=colour)
    main.set_ylabel("fraction of showers", fontsize="small")
    main.legend(fontsize="x-small")
    main.tick_params(labelbottom=False)
    ratio.axhline(1.0, color="grey", ls=":")
    ratio.set_ylim(0.5, 1.5)
    ratio.set_ylabel(f"/ {labels[0]}", fontsize="small")
    ratio.set_xlabel(feature_label(name) if name else "value", fontsize="small")
    return main, ratio


def plot_features(
    reference: Mapping[str, np.ndarray],
    others: Mapping[str, Mapping[str, np.ndarray]],
    names: Sequence[str],
    *,
    ref_label: str = "reference",
    ncols: int = 3,
    separation: Mapping[str, Mapping[str, float]] | None = None,
    fig=None,
):
    """Grid of :func:`plot_feature` panels, one per feature name; returns the figure.

    ``others`` is ``{label: feature dict}``; ``separation`` optionally ``{label: {feature: S}}``.
    """
    nrows = int(np.ceil(len(names) / ncols))
    fig = fig if fig is not None else plt.figure(figsize=(5.5 * ncols, 5.0 * nrows))
    grid = fig.add_gridspec(nrows, ncols, hspace=0.4, wspace=0.4)
    for i, name in enumerate(names):
        samples = {ref_label: reference[name], **{k: f[name] for k, f in others.items()}}
        seps = {k: s[name] for k, s in (separation or {}).items() if name in s}
        plot_feature(samples, name=name, ax=ratio_axes(fig, grid[i // ncols, i % ncols]), separation=seps)
    return fig


def shown_layers(geometry: str, most: int = 6) -> tuple[int, ...]:
    """Layers a viewer shows: every layer with cells, or ``most`` of them evenly spread when there are more."""
    relevant = get_geometry(geometry).relevant_layers
    if len(relevant) <= most:
        return relevant
    return tuple(relevant[i] for i in np.unique(np.linspace(0, len(relevant) - 1, most).round().astype(int)))


def _draw_layer(ax, geo, layer: int, image: np.ndarray, norm):
    """One layer's image: cells on a grid (cartesian) or voxels in (alpha, r) on polar axes (cylindrical)."""
    if geo.kind == "cylindrical":
        alpha = np.linspace(-np.pi, np.pi, image.shape[0] + 1)
        r_edges = np.asarray(geo.r_edges_mm[layer])
        art = ax.pcolormesh(alpha, r_edges, image.T, norm=norm, cmap="viridis")
        ax.set_ylim(0.0, r_edges[-1])
        ax.grid(False)
        ax.set_yticklabels([])
    else:
        art = ax.imshow(image, norm=norm, aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set_yticks([])
    ax.set_xticks([])
    return art


def plot_layers(
    showers: Mapping[str, ShowerSet],
    index: Mapping[str, np.ndarray] | None = None,
    *,
    layers: Sequence[int] | None = None,
    fig=None,
    vmin: float = 1e-2,
):
    """Layer images (rows: samples, columns: layers), averaged over the selected showers.

    ``index`` maps a label to the showers to average (default: all); ``layers`` the layer
    indices to show (default :func:`shown_layers`: at most six of those with cells). Cartesian
    geometries show the cell grid, cylindrical ones the voxels in (alpha, r) on polar axes.
    Colour = energy per cell [MeV] on a log scale. Returns the figure.
    """
    labels = list(showers)
    geo = get_geometry(showers[labels[0]].geometry)
    layers = tuple(layers) if layers is not None else shown_layers(geo.name)
    polar = {"projection": "polar"} if geo.kind == "cylindrical" else None
    fig = fig if fig is not None else plt.figure(figsize=(3.6 * len(layers), 2.8 * len(labels)))
    axes = fig.subplots(len(labels), len(layers), squeeze=False, subplot_kw=polar)
    for row, label in enumerate(labels):
        chosen = showers[label].subset(index[label] if index is not None else slice(None))
        if len(chosen) == 0:
            raise DataError(f"no showers selected for {label!r}; widen the energy window")
        images = layer_images(geo, chosen.cells.mean(0))
        vmax = max(float(max(images[i].max() for i in layers)), vmin * 10)
        norm = LogNorm(vmin=vmin, vmax=vmax)
        for col, layer in enumerate(layers):
            ax = axes[row, col]
            art = _draw_layer(ax, geo, layer, np.maximum(images[layer], vmin * 0.1), norm)
            ax.set_title(f"{label}: layer {geo.layer_ids[layer]}", fontsize="small")
        fig.colorbar(art, ax=axes[row, -1], label="E [MeV]")
    return fig


def plot_chi2(points: Mapping[str, Sequence], *, ax=None):
    """chi2/ndf against incident energy for ``{label: [Chi2Point, ...]}``; returns ax."""
    ax = axes_or_new(ax, figsize=(5.5, 4))
    for label, pts in points.items():
        centres = [0.5 * (p.e_low + p.e_high) for p in pts]
        ax.plot(centres, [p.chi2_ndf for p in pts], marker="o", label=label)
    ax.axhline(1.0, color="grey", ls=":")
    ax.set_yscale("log")
    ax.set_xlabel(r"$E_{inc}$ [GeV]")
    ax.set_ylabel(r"$\chi^2$/ndf")
    ax.legend(fontsize="small")
    return ax


def view_showers(
    samples: Mapping[str, ShowerSet], energy: float, *, window: float = 0.1, single: bool = False, fig=None
):
    """Shower viewer: the layers of each sample near incident energy ``energy`` [GeV].

    Averages the showers with ``|E_inc - energy| <= window * energy`` (or shows the one
    closest in energy when ``single``). Returns the figure (for ``hepml_nb.explore``).
    """
    index = {}
    for label, s in samples.items():
        distance = np.abs(s.e_inc - energy)
        index[label] = [int(np.argmin(distance))] if single else np.flatnonzero(distance <= window * energy)
    fig = plot_layers(samples, index, fig=fig)
    what = "closest shower" if single else f"mean of showers within {100 * window:.0f} %"
    fig.suptitle(f"$E_{{inc}}$ = {energy:.0f} GeV ({what})", y=1.02)
    return fig


def plot_history(
    history: TrainingHistory | Sequence[Mapping[str, float]],
    *,
    keys: Sequence[str] = ("wasserstein", "sep_etot_over_einc"),
    ax=None,
):
    """Training history of :func:`hepml_nb.calo.gan.train_wgan_gp` (or its records, as in a recipe card):
    chosen keys against iteration."""
    ax = axes_or_new(ax, figsize=(6, 4))
    for key in keys:
        points = [(h["iteration"], h[key]) for h in history if key in h]
        if points:
            it, val = zip(*points, strict=True)
            ax.plot(it, val, marker="." if len(points) < 30 else None, label=key)
    ax.set_xlabel("generator iteration")
    ax.set_yscale("symlog", linthresh=1e-2)
    ax.legend(fontsize="small")
    return ax
