"""Plots for the jet-tagging tutorial: score distributions, jet displays, training curves.

Every helper takes ``ax=None``, draws only there and returns the axes (or, for the
widget, a figure); styling is left to :func:`hepml_nb.core.plotting.use_style`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from hepml_nb.core.history import TrainingHistory
from hepml_nb.core.plotting import axes_or_new

__all__ = ["plot_scores", "plot_feature", "plot_history", "plot_jet", "jet_display"]


def plot_scores(y_true: np.ndarray, score: np.ndarray, *, label: str = "tagger", bins: int = 40, ax=None):
    """Normalised histograms (with Poisson errors) of a tagger's score for signal and background."""
    import hist
    import mplhep

    ax = axes_or_new(ax, figsize=(6, 4.5))
    for cls, name, color in ((0, "background (QCD)", "tab:blue"), (1, "signal (top)", "tab:red")):
        h = hist.Hist.new.Reg(bins, 0.0, 1.0, name="score").Weight()
        h.fill(np.clip(score[y_true == cls], 0.0, 1.0 - 1e-9))
        mplhep.histplot(h, density=True, yerr=True, ax=ax, label=name, color=color)
    ax.set_yscale("log")
    ax.set_xlabel(f"{label} score")
    ax.set_ylabel("Normalised jets")
    ax.legend()
    return ax


def plot_feature(
    values: np.ndarray,
    labels: np.ndarray,
    *,
    name: str,
    class_names: Sequence[str],
    bins: int = 40,
    unit: str = "",
    ax=None,
):
    """Normalised distribution of one jet-level feature per class."""
    import hist
    import mplhep

    ax = axes_or_new(ax, figsize=(6, 4.5))
    lo, hi = np.percentile(values, [0.5, 99.5])
    hi = hi if hi > lo else lo + 1.0
    for index, cls in enumerate(class_names):
        h = hist.Hist.new.Reg(bins, lo, hi, name=name).Weight()
        h.fill(values[labels == index])
        mplhep.histplot(h, density=True, ax=ax, label=cls)
    ax.set_xlabel(f"{name} [{unit}]" if unit else name)
    ax.set_ylabel("Normalised jets")
    ax.legend()
    return ax


def plot_history(history: TrainingHistory | Mapping[str, Sequence[float]], *, ax=None):
    """Training and validation loss per epoch.

    ``history`` is the ``history`` of the :class:`~hepml_nb.core.history.TrainResult` that
    :func:`~hepml_nb.jets.training.train_tagger` returns.
    """
    ax = axes_or_new(ax, figsize=(6, 4.5))
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    ax.plot(epochs, history["train_loss"], "o-", label="training loss")
    ax.plot(epochs, history["val_loss"], "s-", label="validation loss")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Cross entropy")
    ax.legend()
    return ax


def plot_jet(data, index: int, *, scores: Mapping[str, np.ndarray] | None = None, ax=None):
    """One jet in the (delta-eta, delta-phi) plane, marker area proportional to particle pT.

    Parameters
    ----------
    data
        A :class:`~hepml_nb.jets.io.JetData`.
    index
        Which jet.
    scores
        Optional ``{tagger: signal scores (N,)}`` shown in the title.
    """
    ax = axes_or_new(ax, figsize=(6, 4.5))
    mask = data.mask[index]
    deta, dphi = data.points[index, mask, 0], data.points[index, mask, 1]
    pt = np.hypot(data.four_vectors[index, mask, 0], data.four_vectors[index, mask, 1])
    charged = (
        data.features[index, mask, data.feature_names.index("charge")] != 0
        if "charge" in data.feature_names
        else np.zeros(mask.sum(), bool)
    )
    size = 400.0 * pt / max(pt.max(), 1e-9)
    ax.scatter(deta[charged], dphi[charged], s=size[charged], c="tab:red", alpha=0.6, label="charged")
    ax.scatter(deta[~charged], dphi[~charged], s=size[~charged], c="tab:blue", alpha=0.6, label="neutral")
    ax.add_patch(plt.Circle((0, 0), 0.8, fill=False, ls="--", color="grey"))
    ax.set_xlim(-1.0, 1.0)
    ax.set_ylim(-1.0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$\Delta\eta$")
    ax.set_ylabel(r"$\Delta\phi$ [rad]")
    label = data.label_names[data.labels[index]].replace("label_", "")
    text = ", ".join(f"{k} {v[index]:.3f}" for k, v in (scores or {}).items())
    ax.set_title(
        f"jet {index}: {label}, pT = {data.jets['pt'][index]:.0f} GeV, {mask.sum()} particles"
        + (f"\nscores: {text}" if text else ""),
        fontsize=10,
    )
    ax.legend(loc="upper right", fontsize=8)
    return ax


def jet_display(data, *, scores: Mapping[str, np.ndarray] | None = None) -> Callable[[int], plt.Figure]:
    """A function ``show(index) -> Figure`` for :func:`hepml_nb.explore` (a slider over jets)."""

    def show(index: int = 0) -> plt.Figure:
        fig, ax = plt.subplots(figsize=(5.5, 5.5))
        plot_jet(data, int(index), scores=scores, ax=ax)
        plt.close(fig)
        return fig

    return show
