"""High-level shower features, as used by the Fast Calorimeter Simulation Challenge.

Per shower: the response ``E_tot / E_inc``; per layer ``l``: the energy fraction
``E_l / E_inc``, the centre of energy in x and y, the width (energy-weighted standard
deviation) in x and y, and the sparsity (fraction of cells at or below the threshold).
Pooled over all cells: the cell-energy spectrum. See arXiv:2410.21611, section 4.
"""

from __future__ import annotations

import numpy as np

from hepml_nb.calo.geometry import get_geometry
from hepml_nb.calo.gflash import ShowerSet
from hepml_nb.core.errors import DataError

__all__ = ["FEATURE_KINDS", "shower_features", "feature_matrix", "cell_energy_spectrum", "feature_label"]

#: Kinds of per-layer features, in the order they appear for each layer.
FEATURE_KINDS = ("efrac", "ce_x", "ce_y", "width_x", "width_y", "sparsity")


def _check(showers: ShowerSet) -> None:
    geo = get_geometry(showers.geometry)
    if showers.cells.ndim != 2 or showers.cells.shape[1] != geo.n_cells:
        raise DataError(
            f"showers have cell array of shape {showers.cells.shape}; geometry {geo.name!r} needs (N, {geo.n_cells})"
        )
    if showers.e_inc.shape != (showers.cells.shape[0],):
        raise DataError(f"incident energies have shape {showers.e_inc.shape}, expected ({showers.cells.shape[0]},)")


def shower_features(showers: ShowerSet, *, threshold_mev: float = 1e-3) -> dict[str, np.ndarray]:
    """High-level features of every shower.

    Parameters
    ----------
    showers : ShowerSet
        Cells [MeV] and incident energies [GeV].
    threshold_mev : float
        Cells with at most this energy [MeV] count as empty for the sparsity.

    Returns
    -------
    dict of str -> array (N,)
        ``etot_over_einc``, then per layer ``l``: ``efrac_l`` (E_l / E_inc), ``ce_x_l``,
        ``ce_y_l`` (centre of energy [mm]), ``width_x_l``, ``width_y_l`` [mm] and
        ``sparsity_l`` (fraction of empty cells). Centres and widths of empty layers are 0.
    """
    _check(showers)
    geo = get_geometry(showers.geometry)
    cells = np.maximum(showers.cells.astype(np.float64), 0.0)
    x, y = geo.cell_centres()
    e_inc_mev = 1000.0 * showers.e_inc
    out = {"etot_over_einc": cells.sum(1) / e_inc_mev}
    off = geo.layer_offsets
    for layer in range(geo.n_layers):
        block, xs, ys = (
            cells[:, off[layer] : off[layer + 1]],
            x[off[layer] : off[layer + 1]],
            y[off[layer] : off[layer + 1]],
        )
        energy = block.sum(1)
        safe = np.where(energy > 0, energy, 1.0)
        cx, cy = block @ xs / safe, block @ ys / safe
        wx = np.sqrt(np.maximum(block @ xs**2 / safe - cx**2, 0.0))
        wy = np.sqrt(np.maximum(block @ ys**2 / safe - cy**2, 0.0))
        empty = energy <= 0
        out[f"efrac_{layer}"] = energy / e_inc_mev
        for name, values in (("ce_x", cx), ("ce_y", cy), ("width_x", wx), ("width_y", wy)):
            out[f"{name}_{layer}"] = np.where(empty, 0.0, values)
        out[f"sparsity_{layer}"] = (block <= threshold_mev).mean(1)
    return out


def feature_matrix(features: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """Stack a feature dict into an (N, n_features) float array and the list of names."""
    names = list(features)
    return np.column_stack([features[n] for n in names]), names


def cell_energy_spectrum(showers: ShowerSet, *, threshold_mev: float = 1e-3) -> np.ndarray:
    """log10 of every cell energy above ``threshold_mev`` [MeV], pooled over showers (1-d array)."""
    _check(showers)
    cells = showers.cells[showers.cells > threshold_mev]
    return np.log10(cells.astype(np.float64))


_LABELS = {
    "etot_over_einc": r"$E_{tot}/E_{inc}$",
    "efrac": r"$E_{{{l}}}/E_{{inc}}$",
    "ce_x": r"centre of energy $x$, layer {l} [mm]",
    "ce_y": r"centre of energy $y$, layer {l} [mm]",
    "width_x": r"width $x$, layer {l} [mm]",
    "width_y": r"width $y$, layer {l} [mm]",
    "sparsity": r"sparsity, layer {l}",
    "cell_log10e": r"$\log_{10}(E_{cell}$ / MeV)",
}


def feature_label(name: str) -> str:
    """Axis label with units for a feature name (``efrac_1`` -> ``$E_{1}/E_{inc}$``)."""
    if name in _LABELS:
        return _LABELS[name]
    kind, _, layer = name.rpartition("_")
    return _LABELS.get(kind, name).format(l=layer)
