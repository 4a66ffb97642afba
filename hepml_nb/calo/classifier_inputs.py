"""What the classifier test sees: cells or features of each shower, as a preset defines them.

The ``challenge`` definitions are those of the CaloChallenge's ``evaluate.py``
(github.com/CaloChallenge/homepage, ``code/evaluate.py`` at commit 57b3a57 of July 2024, the
last change before the published results of arXiv:2410.21611; its classifier code is the
same up to 9b41df7 of August 2025):

* the voxel threshold (:data:`CHALLENGE_THRESHOLDS_MEV`): 1 MeV on dataset 1, 0.5 keV / 0.033
  = 15.15 keV on datasets 2 and 3; lower voxels of both samples are set to 0 before anything else;
* low level (``cls-low``): ``log10(E_inc / MeV)``, then every voxel's ``E_voxel / E_inc``;
* high level (``cls-high``): ``log10(E_inc / MeV)``; ``log10(E_layer / MeV + 1e-8)`` per layer;
  the centres of energy in eta and in phi, then the widths in eta and in phi [mm], each divided
  by 100, per layer binned in angle; ``log10(E_tot / MeV + 1e-8)``; the sparsity per layer; the
  centre of energy and the width in r [mm], divided by 100, per layer. Nothing is standardised;
* the split of each class (:data:`CHALLENGE_SPLITS`): fixed counts for training, for epoch
  selection and calibration, and for the final evaluation (60k / 20k / 20k on datasets 2 and 3).

The CaloGAN geometry is none of the challenge's datasets; :func:`high_level_inputs` gives it
the same scaling of its own features (layer energies, centres and widths in x and y, total
energy, sparsity), and no voxel threshold.

The ``tutorial`` definitions: low level ``ln(1 + (E_cell/E_inc)/1e-4)`` per cell and
``log10(E_inc/GeV)``; high level :func:`~hepml_nb.calo.features.shower_features` (with the
response ``E_tot/E_inc``) and ``log10(E_inc/GeV)``; both standardised by the classifier.
"""

from __future__ import annotations

import numpy as np

from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.features import feature_matrix, shower_features
from hepml_nb.calo.geometry import get_geometry
from hepml_nb.core.errors import ParameterError

__all__ = [
    "CHALLENGE_THRESHOLD_MEV",
    "CHALLENGE_THRESHOLDS_MEV",
    "CHALLENGE_SPLITS",
    "LOW_LEVEL",
    "HIGH_LEVEL",
    "challenge_threshold_mev",
    "challenge_split",
    "thresholded",
    "low_level_inputs",
    "high_level_inputs",
]

#: Voxel threshold of the challenge's evaluation on datasets 2 and 3 [MeV]: 0.5 keV / 0.033 (15.15 keV).
CHALLENGE_THRESHOLD_MEV = 0.5e-3 / 0.033
#: Voxel threshold of ``evaluate.py`` per dataset [MeV] (``args.min_energy``).
CHALLENGE_THRESHOLDS_MEV = {
    "dataset1-photons": 1.0,
    "dataset1-pions": 1.0,
    "dataset2": CHALLENGE_THRESHOLD_MEV,
    "dataset3": CHALLENGE_THRESHOLD_MEV,
}
#: Showers per class of ``evaluate.py``'s split (``ttv_split``): training, epoch selection and
#: calibration (its "test" set), final evaluation (its "val" set). Showers beyond the sum go to
#: the final evaluation, as ``np.split`` puts them there.
CHALLENGE_SPLITS = {
    "dataset1-photons": (80000, 20000, 21000),
    "dataset1-pions": (80000, 20000, 20800),
    "dataset2": (60000, 20000, 20000),
    "dataset3": (60000, 20000, 20000),
}
#: Representations of the low-level and the high-level inputs.
LOW_LEVEL = ("log", "fraction")
HIGH_LEVEL = ("features", "challenge")
#: Regulariser of the challenge's logarithms of energies [MeV].
_LOG_EPS = 1e-8
#: Showers per chunk while building inputs (bounds the float64 temporaries).
_CHUNK = 4096


def challenge_threshold_mev(geometry: str) -> float:
    """The voxel threshold [MeV] ``evaluate.py`` applies in ``geometry`` (0 outside the challenge's datasets)."""
    return CHALLENGE_THRESHOLDS_MEV.get(get_geometry(geometry).name, 0.0)


def challenge_split(geometry: str, n: int) -> tuple[int, int, int] | None:
    """``evaluate.py``'s showers per class (train, selection and calibration, final evaluation).

    On the challenge's datasets with at least as many showers per class as its split holds
    (100,000 on datasets 2 and 3), the fixed counts, the rest added to the final evaluation;
    otherwise None: the 60/20/20 fractions, what ``ttv_split`` does without a dataset
    (``evaluate.py`` itself cannot run on fewer showers).
    """
    counts = CHALLENGE_SPLITS.get(get_geometry(geometry).name)
    if counts is None or n < sum(counts):
        return None
    return counts[0], counts[1], int(n) - counts[0] - counts[1]


def thresholded(showers: ShowerSet, threshold_mev: float) -> ShowerSet:
    """The showers with every cell below ``threshold_mev`` [MeV] (and every negative cell) set to 0."""
    _check_threshold(threshold_mev)
    cells = np.where(showers.cells < threshold_mev, 0.0, showers.cells).astype(showers.cells.dtype, copy=False)
    return ShowerSet(showers.e_inc, cells, showers.geometry)


def _check_threshold(threshold_mev: float) -> None:
    if threshold_mev < 0:
        raise ParameterError(f"threshold_mev must be >= 0, got {threshold_mev}")


def low_level_inputs(
    showers: ShowerSet, *, f0: float = 1e-4, representation: str = "log", threshold_mev: float = 0.0
) -> np.ndarray:
    """Every cell and the incident energy as classifier inputs: float32 array (N, n_cells + 1).

    ``representation="log"`` (tutorial): per cell ``ln(1 + (E_cell/E_inc)/f0)``, then
    ``log10(E_inc/GeV)``. ``"fraction"`` (challenge, ``cls-low``): ``log10(E_inc/MeV)``,
    then per cell ``E_cell/E_inc``. Cells below ``threshold_mev`` [MeV] and negative cells
    are set to 0 first.
    """
    if representation not in LOW_LEVEL:
        raise ParameterError(
            f"unknown low-level representation {representation!r}; choose one of: {', '.join(LOW_LEVEL)}"
        )
    _check_threshold(threshold_mev)
    n, n_cells = showers.cells.shape
    e_inc = np.asarray(showers.e_inc, np.float64)
    out = np.empty((n, n_cells + 1), np.float32)
    for lo in range(0, n, _CHUNK):  # float64 arithmetic, as evaluate.py's, in chunks of showers
        rows = slice(lo, lo + _CHUNK)
        frac = np.where(showers.cells[rows] < threshold_mev, 0.0, showers.cells[rows]) / (1000.0 * e_inc[rows, None])
        if representation == "log":
            out[rows, :-1], out[rows, -1] = np.log1p(frac / f0), np.log10(e_inc[rows])
        else:
            out[rows, 0], out[rows, 1:] = np.log10(1000.0 * e_inc[rows]), frac
    return out


def _challenge_columns(showers: ShowerSet) -> list[np.ndarray]:
    """The columns of ``cls-high`` in ``evaluate.py``'s order (the CaloGAN analogue for calogan)."""
    geo = get_geometry(showers.geometry)
    e_inc_mev = 1000.0 * np.asarray(showers.e_inc, np.float64)
    f = shower_features(showers, threshold_mev=0.0)
    if geo.kind == "cylindrical":
        ids = [geo.layer_ids[i] for i in geo.relevant_layers]
        binned = [geo.layer_ids[i] for i in geo.layers_binned_in_alpha]
        e_layers = [f[f"E_layer_{i}"] for i in ids]
        angular, radial = ("EC_eta", "EC_phi", "width_eta", "width_phi"), ("EC_r", "width_r")
    else:  # calogan: E_l = (E_l / E_inc) E_inc; centres and widths in x and y play eta and phi
        ids = binned = list(range(geo.n_layers))
        e_layers = [f[f"efrac_{i}"] * e_inc_mev for i in ids]
        angular, radial = ("ce_x", "ce_y", "width_x", "width_y"), ()
    e_tot = f["etot_over_einc"] * e_inc_mev
    return [
        np.log10(e_inc_mev),
        *(np.log10(e + _LOG_EPS) for e in e_layers),
        *(f[f"{kind}_{i}"] / 100.0 for kind in angular for i in binned),
        np.log10(e_tot + _LOG_EPS),
        *(f[f"sparsity_{i}"] for i in ids),
        *(f[f"{kind}_{i}"] / 100.0 for kind in radial for i in ids),
    ]


def high_level_inputs(
    showers: ShowerSet, *, threshold_mev: float = 0.0, representation: str = "features"
) -> np.ndarray:
    """High-level features as classifier inputs: float32 array (N, n_inputs).

    ``representation="features"`` (tutorial): :func:`~hepml_nb.calo.features.shower_features`
    (``E_tot/E_inc`` first), then ``log10(E_inc/GeV)``. ``"challenge"`` (``cls-high``): the
    columns of ``evaluate.py`` (module docstring), e.g. 1 + 8 x 45 + 1 = 362 on dataset 2.
    Cells below ``threshold_mev`` [MeV] are set to 0 before the features are computed.
    """
    if representation not in HIGH_LEVEL:
        raise ParameterError(
            f"unknown high-level representation {representation!r}; choose one of: {', '.join(HIGH_LEVEL)}"
        )
    _check_threshold(threshold_mev)
    parts = []
    for lo in range(0, len(showers), _CHUNK):  # per shower: in chunks, to bound the float64 temporaries
        chunk = showers.subset(slice(lo, lo + _CHUNK))
        chunk = thresholded(chunk, threshold_mev) if threshold_mev > 0 else chunk
        if representation == "challenge":
            parts.append(np.column_stack(_challenge_columns(chunk)).astype(np.float32))
        else:
            matrix, _ = feature_matrix(shower_features(chunk))
            parts.append(np.column_stack([matrix, np.log10(chunk.e_inc)]).astype(np.float32))
    return np.concatenate(parts)
