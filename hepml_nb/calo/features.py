"""High-level shower features, as used by the Fast Calorimeter Simulation Challenge.

Cylindrical geometries (the challenge's datasets) get the challenge's own features, computed
as its ``HighLevelFeatures.CalculateFeatures`` does (:func:`challenge_features`): per layer
with bins, the energy ``E_layer``, the sparsity (1 - fraction of voxels above the threshold),
the centre of energy and width in r; for layers with more than one angular bin also in the
challenge's "eta" = r cos(alpha) and "phi" = r sin(alpha) coordinates [mm].

The CaloGAN geometry gets per layer ``l`` the energy fraction ``E_l / E_inc``, the centre
of energy in x and y, the width (energy-weighted standard deviation) in x and y, and the
sparsity (fraction of cells at or below the threshold). Both have the response
``E_tot / E_inc``; pooled over all cells: the cell-energy spectrum. See arXiv:2410.21611, section 4.
"""

from __future__ import annotations

import numpy as np

from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.geometry import Geometry, get_geometry
from hepml_nb.core.errors import DataError, ParameterError

__all__ = [
    "FEATURE_KINDS",
    "CHALLENGE_FEATURE_KINDS",
    "challenge_features",
    "shower_features",
    "headline_features",
    "feature_matrix",
    "cell_energy_spectrum",
    "feature_label",
]

#: Kinds of per-layer features of the CaloGAN geometry, in the order they appear for each layer.
FEATURE_KINDS = ("efrac", "ce_x", "ce_y", "width_x", "width_y", "sparsity")
#: Kinds of per-layer features of the cylindrical geometries (the last four only for layers binned in alpha).
CHALLENGE_FEATURE_KINDS = (
    "E_layer",
    "sparsity",
    "EC_r",
    "width_r",
    "EC_eta",
    "EC_phi",
    "width_eta",
    "width_phi",
)
#: Regulariser of the challenge's centres and widths: sum(x E) / (sum(E) + 1e-16).
_EPS = 1e-16


def _check(showers: ShowerSet) -> None:
    geo = get_geometry(showers.geometry)
    if showers.cells.ndim != 2 or showers.cells.shape[1] != geo.n_cells:
        raise DataError(
            f"showers have cell array of shape {showers.cells.shape}; geometry {geo.name!r} needs (N, {geo.n_cells})"
        )
    if showers.e_inc.shape != (showers.cells.shape[0],):
        raise DataError(f"incident energies have shape {showers.e_inc.shape}, expected ({showers.cells.shape[0]},)")


def _centre_width(coord: np.ndarray, energy: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The challenge's centre of energy and width of ``coord`` over voxels (last axis)."""
    centre = energy @ coord / (total + _EPS)
    second = energy @ (coord * coord) / (total + _EPS)
    return centre, np.sqrt(np.clip(second - centre**2, 0.0, None))


def challenge_features(
    showers_or_cells: ShowerSet | np.ndarray,
    geometry: str | Geometry | None = None,
    e_inc: np.ndarray | None = None,
    threshold: float = 0.0,
) -> dict[str, np.ndarray]:
    """The challenge's high-level features of showers in a cylindrical geometry.

    Reproduces ``HighLevelFeatures.CalculateFeatures`` of the challenge's code (CaloChallenge/homepage).

    Parameters
    ----------
    showers_or_cells : ShowerSet or array (N, n_voxels)
        Voxel energies [MeV]; a ShowerSet also gives the geometry and the incident energies.
    geometry : str or Geometry, optional
        Needed for an array; for a ShowerSet it must match (or be None).
    e_inc : array (N,), optional
        Incident energies [GeV] (as ShowerSet stores them); for a ShowerSet, its own by default.
    threshold : float
        Voxels above this energy [MeV] count as hit in the sparsity (0, as in the challenge).

    Returns
    -------
    dict of str -> array (N,)
        ``E_tot`` [MeV]; ``etot_over_einc`` (E_tot / E_inc) when the incident energies are known;
        per layer id ``l`` with bins: ``E_layer_l`` [MeV], ``sparsity_l``, ``EC_r_l``, ``width_r_l``
        [mm], and for layers with more than one angular bin ``EC_eta_l``, ``EC_phi_l``,
        ``width_eta_l``, ``width_phi_l`` [mm], with eta = r_mid cos(alpha_mid) and
        phi = r_mid sin(alpha_mid) of each voxel. Centres and widths of an empty layer are 0.
    """
    if isinstance(showers_or_cells, ShowerSet):
        if geometry is not None and get_geometry(geometry).name != showers_or_cells.geometry:
            raise ParameterError(
                f"showers are in geometry {showers_or_cells.geometry!r}, not {get_geometry(geometry).name!r}; "
                "leave geometry=None for a ShowerSet"
            )
        _check(showers_or_cells)
        geo = get_geometry(showers_or_cells.geometry)
        cells = showers_or_cells.cells
        e_inc = showers_or_cells.e_inc if e_inc is None else e_inc
    else:
        if geometry is None:
            raise ParameterError("give the geometry of the voxel array, e.g. challenge_features(cells, 'dataset2')")
        geo = get_geometry(geometry)
        cells = np.asarray(showers_or_cells)
        if cells.ndim == 1:
            cells = cells[None, :]
        if cells.ndim != 2 or cells.shape[1] != geo.n_cells:
            raise DataError(f"voxel array has shape {cells.shape}; geometry {geo.name!r} needs (N, {geo.n_cells})")
    if geo.kind != "cylindrical":
        raise ParameterError(
            f"geometry {geo.name!r} is {geo.kind}; the challenge's features need a cylindrical geometry "
            "(use shower_features for calogan)"
        )
    data = np.asarray(cells, dtype=np.float64)
    e_tot = data.sum(axis=1)
    out = {"E_tot": e_tot}
    if e_inc is not None:
        e_inc_mev = 1000.0 * np.asarray(e_inc, dtype=np.float64).reshape(-1)
        if e_inc_mev.shape != (data.shape[0],):
            raise DataError(f"incident energies have shape {e_inc_mev.shape}, expected ({data.shape[0]},)")
        out["etot_over_einc"] = e_tot / e_inc_mev
    r_all, alpha_all = geo.cell_polar()
    eta_all, phi_all = r_all * np.cos(alpha_all), r_all * np.sin(alpha_all)
    off = geo.layer_offsets
    binned = set(geo.layers_binned_in_alpha)
    for layer in geo.relevant_layers:
        lid = geo.layer_ids[layer]
        sl = slice(off[layer], off[layer + 1])
        block = data[:, sl]
        total = block.sum(axis=1)
        out[f"E_layer_{lid}"] = total
        out[f"sparsity_{lid}"] = 1.0 - (block > threshold).mean(axis=1)
        out[f"EC_r_{lid}"], out[f"width_r_{lid}"] = _centre_width(r_all[sl], block, total)
        if layer in binned:
            ec_eta, width_eta = _centre_width(eta_all[sl], block, total)
            ec_phi, width_phi = _centre_width(phi_all[sl], block, total)
            out.update({f"EC_eta_{lid}": ec_eta, f"EC_phi_{lid}": ec_phi})
            out.update({f"width_eta_{lid}": width_eta, f"width_phi_{lid}": width_phi})
    return out


def _calogan_features(showers: ShowerSet, threshold_mev: float) -> dict[str, np.ndarray]:
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


def shower_features(showers: ShowerSet, *, threshold_mev: float | None = None) -> dict[str, np.ndarray]:
    """High-level features of every shower.

    Parameters
    ----------
    showers : ShowerSet
        Cells [MeV] and incident energies [GeV].
    threshold_mev : float, optional
        Cells with at most this energy [MeV] count as empty for the sparsity; default 1e-3 MeV
        for calogan and 0 (the challenge's default) for the cylindrical geometries.

    Returns
    -------
    dict of str -> array (N,)
        ``etot_over_einc`` first. CaloGAN, per layer ``l``: ``efrac_l`` (E_l / E_inc), ``ce_x_l``,
        ``ce_y_l`` (centre of energy [mm]), ``width_x_l``, ``width_y_l`` [mm] and ``sparsity_l``
        (fraction of empty cells); centres and widths of empty layers are 0. Cylindrical
        geometries: the per-layer features of :func:`challenge_features` (without ``E_tot``).
    """
    _check(showers)
    geo = get_geometry(showers.geometry)
    if geo.kind == "cylindrical":
        out = challenge_features(showers, threshold=0.0 if threshold_mev is None else threshold_mev)
        out.pop("E_tot")
        return out
    return _calogan_features(showers, 1e-3 if threshold_mev is None else threshold_mev)


def headline_features(geometry: str | Geometry) -> list[str]:
    """Eight features of :func:`shower_features` that sum a geometry up, for a first plot.

    Always the response ``etot_over_einc``. CaloGAN: the three layer fractions, widths in
    layers 0 and 1, the centre of energy in x and the sparsity of layer 1. Cylindrical
    geometries: ``E_layer`` of three layers spread over those with cells (first, one third,
    two thirds in), and the centre of energy and width in r, the sparsity and the centre in
    eta of the one-third layer (where that layer has a single angular bin, the width in r of
    the first layer instead of the centre in eta).
    """
    geo = get_geometry(geometry)
    if geo.kind != "cylindrical":
        return ["etot_over_einc", "efrac_0", "efrac_1", "efrac_2", "width_x_0", "width_y_1", "ce_x_1", "sparsity_1"]
    layers = geo.relevant_layers
    first, mid, late = layers[0], layers[len(layers) // 3], layers[(2 * len(layers)) // 3]
    last = f"EC_eta_{mid}" if mid in geo.layers_binned_in_alpha else f"width_r_{first}"
    return [
        "etot_over_einc",
        *dict.fromkeys(f"E_layer_{i}" for i in (first, mid, late)),
        f"EC_r_{mid}",
        f"width_r_{mid}",
        f"sparsity_{mid}",
        last,
    ]


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
    "E_layer": r"$E_{{{l}}}$ [MeV]",
    "E_tot": r"$E_{tot}$ [MeV]",
    "EC_r": r"centre of energy $r$, layer {l} [mm]",
    "width_r": r"width $r$, layer {l} [mm]",
    "EC_eta": r"centre of energy $\eta$ (= $r\cos\alpha$), layer {l} [mm]",
    "EC_phi": r"centre of energy $\phi$ (= $r\sin\alpha$), layer {l} [mm]",
    "width_eta": r"width $\eta$, layer {l} [mm]",
    "width_phi": r"width $\phi$, layer {l} [mm]",
    "cell_log10e": r"$\log_{10}(E_{cell}$ / MeV)",
}


def feature_label(name: str) -> str:
    """Axis label with units for a feature name (``efrac_1`` -> ``$E_{1}/E_{inc}$``)."""
    if name in _LABELS:
        return _LABELS[name]
    kind, _, layer = name.rpartition("_")
    return _LABELS.get(kind, name).format(l=layer)
