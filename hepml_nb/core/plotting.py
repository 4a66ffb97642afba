"""Plot helpers shared by the topics. They take ``ax=None``, draw only there and return it.

Styling is opt-in: call :func:`use_style` once in a notebook; the library never
changes global rcParams by itself and never calls ``plt.show``.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from hepml_nb.core.metrics import roc

__all__ = ["use_style", "axes_or_new", "plot_roc", "plot_rejection"]


def use_style(name: str = "ROOT") -> None:
    """Apply an mplhep style (``ROOT``, ``ATLAS``, ``CMS``, ``LHCb2``, ``ALICE``)."""
    import mplhep

    styles = {
        "ROOT": mplhep.style.ROOT,
        "ATLAS": mplhep.style.ATLAS,
        "CMS": mplhep.style.CMS,
        "LHCb2": mplhep.style.LHCb2,
        "ALICE": mplhep.style.ALICE,
    }
    if name not in styles:
        raise ValueError(f"unknown style {name!r}; choose one of: {', '.join(styles)}")
    plt.style.use(styles[name])


def axes_or_new(ax=None, *, figsize: tuple[float, float] = (6, 5)):
    """``ax`` itself, or the axes of a new figure: the ``ax=None`` convention of every plot helper."""
    return ax if ax is not None else plt.subplots(figsize=figsize)[1]


def plot_roc(results: Mapping[str, tuple[np.ndarray, np.ndarray]], *, ax=None):
    """ROC curves (signal efficiency vs background efficiency) for ``{label: (y_true, score)}``."""
    ax = axes_or_new(ax)
    for label, (y_true, score) in results.items():
        curve = roc(y_true, score)
        ax.plot(curve.eps_b, curve.eps_s, label=f"{label} (AUC = {curve.auc:.4f})")
    ax.plot([0, 1], [0, 1], ls=":", color="grey", label="random")
    ax.set_xlabel(r"Background efficiency $\varepsilon_B$")
    ax.set_ylabel(r"Signal efficiency $\varepsilon_S$")
    ax.legend(loc="lower right")
    return ax


def plot_rejection(results: Mapping[str, tuple[np.ndarray, np.ndarray]], *, ax=None):
    """Background rejection ``1/eps_B`` against ``eps_S`` on a log axis, for ``{label: (y_true, score)}``."""
    ax = axes_or_new(ax)
    for label, (y_true, score) in results.items():
        curve = roc(y_true, score)
        keep = curve.eps_b > 0
        ax.plot(curve.eps_s[keep], 1.0 / curve.eps_b[keep], label=f"{label} (AUC = {curve.auc:.4f})")
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.set_xlabel(r"Signal efficiency $\varepsilon_S$")
    ax.set_ylabel(r"Background rejection $1/\varepsilon_B$")
    ax.legend(loc="upper right")
    return ax
