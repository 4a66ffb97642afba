"""Jet substructure from constituents: soft-drop mass and N-subjettiness.

The PyPI ``fastjet`` has no fastjet-contrib, so soft drop uses the awkward interface's
grooming on a Cambridge/Aachen reclustering, and N-subjettiness uses exclusive kT
subjets as axes, clustered with a radius far above the jet size (:data:`AXES_R`, as
fastjet-contrib's ``ExclusiveJetAxes`` does with ``max_allowable_R``) so that no
constituent is merged with the beam. Both work on many jets at once (one "event" per jet).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import awkward as ak
import numpy as np

from hepml_nb.core.lazy import needs_extra

__all__ = [
    "AXES_R",
    "ignore_spurious_fastjet_warning",
    "softdrop_mass",
    "nsubjettiness",
    "nsubjettiness_from_axes",
    "padded_four_vectors",
]

#: the Python bindings warn this for every algorithm, also kt and C/A where it does not apply
_SPURIOUS_WARNING = "dcut and exclusive jets for jet-finders other than kt"


@contextlib.contextmanager
def ignore_spurious_fastjet_warning() -> Iterator[None]:
    """Hide only fastjet's spurious exclusive-jets warning in the block; other warnings still show."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SPURIOUS_WARNING, category=UserWarning)
        yield


#: radius of the exclusive-kT clustering that finds the N-subjettiness axes (fastjet's max_allowable_R)
AXES_R = 1000.0


def softdrop_mass(constituents: ak.Array, *, z_cut: float = 0.1, beta: float = 0.0, r0: float = 0.8) -> np.ndarray:
    """Soft-drop groomed jet mass (GeV), one value per jet.

    Parameters
    ----------
    constituents
        Jagged (n_jets, var) records with ``px, py, pz, E`` in GeV.
    z_cut, beta, r0
        Soft-drop condition ``min(pT1, pT2) / (pT1 + pT2) > z_cut (dR12 / r0)^beta``;
        ``beta = 0`` is the modified mass-drop tagger used in the JetClass dataset.

    References
    ----------
    Larkoski, Marzani, Soyez, Thaler, "Soft Drop", arXiv:1402.2657.
    """
    with needs_extra("jets"):
        import fastjet

    if len(constituents) == 0:
        return np.zeros(0)
    jet_def = fastjet.JetDefinition(fastjet.cambridge_algorithm, 10.0)
    with ignore_spurious_fastjet_warning():
        cluster = fastjet.ClusterSequence(constituents, jet_def)
        groomed = cluster.exclusive_jets_softdrop_grooming(
            njets=1, beta=beta, symmetry_cut=z_cut, symmetry_measure="scalar_z", R0=r0
        )
    return np.maximum(np.asarray(groomed.msoftdrop, dtype=float), 0.0)


def _rap_phi(px, py, pz, e):
    pt = np.hypot(px, py)
    rap = 0.5 * np.log(np.maximum(e + pz, 1e-12) / np.maximum(e - pz, 1e-12))
    return pt, rap, np.arctan2(py, px)


def nsubjettiness_from_axes(constituents: np.ndarray, axes: np.ndarray, *, r0: float = 0.8) -> np.ndarray:
    """N-subjettiness ``tau_N = sum_i pT_i min_a dR(i, a) / (r0 sum_i pT_i)`` for given axes.

    Parameters
    ----------
    constituents
        (n_jets, n_particles, 4) padded ``px, py, pz, E`` in GeV; padding has E = 0.
    axes
        (n_jets, N, 4) the N axes (four-vectors) per jet.

    Returns
    -------
    np.ndarray
        (n_jets,) dimensionless tau_N (distances in rapidity-azimuth).

    References
    ----------
    Thaler, Van Tilburg, "Identifying Boosted Objects with N-subjettiness", arXiv:1011.2268.
    """
    pt, rap, phi = _rap_phi(*np.moveaxis(constituents, -1, 0))
    _, arap, aphi = _rap_phi(*np.moveaxis(axes, -1, 0))
    dphi = (phi[:, :, None] - aphi[:, None, :] + np.pi) % (2 * np.pi) - np.pi
    dr = np.hypot(rap[:, :, None] - arap[:, None, :], dphi).min(axis=2)
    return (pt * dr).sum(axis=1) / np.maximum(r0 * pt.sum(axis=1), 1e-12)


def padded_four_vectors(constituents: ak.Array, n_max: int | None = None) -> np.ndarray:
    """(n_jets, n_max, 4) numpy array of ``px, py, pz, E`` from jagged records, zero-padded."""
    width = int(ak.max(ak.num(constituents))) if n_max is None else int(n_max)
    columns = [
        ak.to_numpy(ak.fill_none(ak.pad_none(constituents[f], width, axis=1, clip=True), 0.0))
        for f in ("px", "py", "pz", "E")
    ]
    return np.stack(columns, axis=-1).astype(float)


def nsubjettiness(constituents: ak.Array, *, n_max: int = 4, r0: float = 0.8) -> list[np.ndarray]:
    """``[tau_1, ..., tau_n_max]`` per jet with exclusive-kT axes (jets need >= n_max constituents).

    The axes are the exclusive kT subjets of all constituents, clustered with R = :data:`AXES_R`
    (``r0`` only normalises tau_N): with R = r0 a wide-angle constituent (Delta R near r0) would
    be merged with the beam and be missing from the axes.

    Parameters
    ----------
    constituents
        Jagged (n_jets, var) records with ``px, py, pz, E`` in GeV.
    """
    with needs_extra("jets"):
        import fastjet

    n = len(constituents)
    if n == 0:
        return [np.zeros(0) for _ in range(n_max)]
    padded = padded_four_vectors(constituents)
    cluster = fastjet.ClusterSequence(constituents, fastjet.JetDefinition(fastjet.kt_algorithm, AXES_R))
    taus = []
    with ignore_spurious_fastjet_warning():
        for n_axes in range(1, n_max + 1):
            sub = cluster.exclusive_jets(n_jets=n_axes)
            axes = np.stack([ak.to_numpy(sub[f]) for f in ("px", "py", "pz", "E")], axis=-1)
            taus.append(nsubjettiness_from_axes(padded, axes, r0=r0))
    return taus
