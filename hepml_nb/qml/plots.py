"""Plots and widget views of the quantum-kernel study. Helpers take ``ax=None`` and return it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hepml_nb.core.lazy import needs_extra
from hepml_nb.core.plotting import axes_or_new
from hepml_nb.qml.kernels import DEFAULT_ALPHA, exact_kernel, shot_kernel

__all__ = [
    "plot_features",
    "plot_kernel_matrix",
    "plot_auc_vs_size",
    "plot_kernel_agreement",
    "feature_map_view",
    "kernel_view",
]

_LABELS = {1: r"ZH, H$\to\gamma\gamma$", 0: r"background ($\gamma\gamma$, Z/$\gamma^*\gamma$)"}
_UNITS = {
    "e1": r"$E_{\gamma 1}$ [GeV]",
    "e2": r"$E_{\gamma 2}$ [GeV]",
    "pt_gg": r"$p_T^{\gamma\gamma}$ [GeV]",
    "m_recoil": r"$m_\mathrm{recoil}$ [GeV]",
    "m_gg": r"$m_{\gamma\gamma}$ [GeV]",
    "cos1": r"$\cos\theta_{\gamma 1}$",
    "cos2": r"$\cos\theta_{\gamma 2}$",
    "cos_theta_star": r"$|\cos\theta^*|$",
    "cos_gg": r"$\cos\theta_{\gamma\gamma}$",
    "dphi": r"$\Delta\phi_{\gamma\gamma}$ [rad]",
}


def plot_features(x: np.ndarray, y: np.ndarray, names: Sequence[str], *, axes=None, bins: int = 30):
    """Unit-normalised histograms (with Poisson errors) of each feature for signal and background."""
    import mplhep

    if axes is None:
        ncol = 4
        fig, axes = plt.subplots(
            int(np.ceil(len(names) / ncol)), ncol, figsize=(3.4 * ncol, 2.8 * np.ceil(len(names) / ncol))
        )
        fig.tight_layout(h_pad=3)
    flat = np.ravel(axes)
    for k, name in enumerate(names):
        edges = np.histogram_bin_edges(x[:, k], bins=bins)
        for label in (1, 0):
            counts, _ = np.histogram(x[y == label, k], bins=edges)
            norm = max(counts.sum(), 1) * np.diff(edges)
            mplhep.histplot(counts / norm, edges, yerr=np.sqrt(counts) / norm, ax=flat[k], label=_LABELS[label])
        flat[k].set_xlabel(_UNITS.get(name, name))
    for ax in flat[len(names) :]:
        ax.set_visible(False)
    flat[0].legend(fontsize="x-small")
    return axes


def plot_kernel_matrix(kernel: np.ndarray, y: np.ndarray, *, ax=None, title: str = ""):
    """Kernel matrix with events sorted signal first, so class structure shows as blocks."""
    ax = axes_or_new(ax, figsize=(4.5, 4))
    order = np.argsort(-np.asarray(y), kind="stable")
    image = ax.imshow(np.asarray(kernel)[np.ix_(order, order)], vmin=0, vmax=1, cmap="viridis")
    n_sig = int(np.sum(np.asarray(y) == 1))
    ax.axhline(n_sig - 0.5, color="w", lw=0.8)
    ax.axvline(n_sig - 0.5, color="w", lw=0.8)
    ax.set_xlabel("event (signal | background)")
    ax.set_ylabel("event")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label=r"$|\langle\psi_i|\psi_j\rangle|^2$")
    return ax


def plot_auc_vs_size(table: pd.DataFrame, *, ax=None):
    """Mean test AUC against training size with the spread over splits as error bars."""
    ax = axes_or_new(ax, figsize=(6, 4.5))
    names = {"quantum": "quantum-kernel SVM", "rbf_svm": "RBF SVM", "gbt": "gradient-boosted trees"}
    for model, group in table.groupby("model", sort=False):
        stats = group.groupby("size")["auc"].agg(["mean", "std"]).fillna(0.0)
        ax.errorbar(stats.index, stats["mean"], yerr=stats["std"], marker="o", capsize=3, label=names.get(model, model))
    ax.set_xscale("log")
    ax.set_xlabel("training events")
    ax.set_ylabel("test AUC")
    ax.legend(loc="lower right")
    return ax


def plot_kernel_agreement(reference: np.ndarray, others: Mapping[str, np.ndarray], *, ax=None):
    """Scatter of kernel entries of each backend against the exact kernel (off-diagonal only)."""
    ax = axes_or_new(ax, figsize=(4.8, 4.5))
    mask = (
        ~np.eye(*np.shape(reference), dtype=bool) if np.shape(reference)[0] == np.shape(reference)[1] else slice(None)
    )
    for label, kernel in others.items():
        ax.scatter(np.asarray(reference)[mask], np.asarray(kernel)[mask], s=4, alpha=0.5, label=label)
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.set_xlabel("exact kernel entry")
    ax.set_ylabel("estimated kernel entry")
    ax.legend(loc="upper left", markerscale=3)
    return ax


def feature_map_view(n_qubits: int = 6, reps: int = 2, entanglement: str = "linear", alpha: float = DEFAULT_ALPHA):
    """Text drawing of qiskit's ``zz_feature_map`` (H, P and CX gates) with its gate counts."""
    with needs_extra("qml"):
        from qiskit.circuit.library import zz_feature_map

    circuit = zz_feature_map(int(n_qubits), reps=int(reps), entanglement=entanglement, alpha=float(alpha))
    counts = ", ".join(f"{n} {gate}" for gate, n in circuit.count_ops().items())
    print(f"{n_qubits} qubits, reps={reps}, {entanglement} entanglement: {counts}")
    return circuit.draw("text", fold=-1)


def kernel_view(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_qubits: int = 6,
    reps: int = 2,
    alpha: float = DEFAULT_ALPHA,
    shots: int = 0,
    entanglement: str = "linear",
    seed: int = 0,
):
    """Figure of the kernel matrix of the first ``n_qubits`` encoded features; ``shots=0`` is exact."""
    x = np.asarray(x)[:, : int(n_qubits)]
    settings = {"reps": int(reps), "alpha": float(alpha), "entanglement": entanglement}
    kernel = exact_kernel(x, **settings) if shots <= 0 else shot_kernel(x, shots=int(shots), seed=seed, **settings)
    fig, ax = plt.subplots(figsize=(5, 4.2))
    label = "exact" if shots <= 0 else f"{int(shots)} shots"
    plot_kernel_matrix(kernel, y, ax=ax, title=f"{n_qubits} qubits, reps={reps}, alpha={alpha}, {label}")
    plt.close(fig)
    return fig
