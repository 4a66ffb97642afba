"""Diphoton features and their preparation for an n-qubit angle encoding.

Kinematic features follow the H -> gamma gamma analyses at Higgs factories (CEPC CDR,
arXiv:1811.10545): photon energies and polar angles, the decay angle ``cos theta*`` in
the diphoton rest frame, the diphoton transverse momentum and polar angle, and the
mass recoiling against the diphoton system, which peaks at m_Z for ZH. The diphoton
mass itself is left out by default: the window preselection already used it, and
the classifier should learn something beyond the mass peak.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml.names import PREPARE_METHODS

__all__ = ["FEATURES", "FeatureSet", "diphoton_features", "prepare_features", "balanced_split", "PREPARE_METHODS"]

FEATURES = ("e1", "e2", "cos1", "cos2", "cos_theta_star", "pt_gg", "cos_gg", "m_recoil", "dphi")


class FeatureSet(NamedTuple):
    """Encoded training and test features (angles), their labels and the column names."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    names: tuple[str, ...]


def diphoton_features(
    events: dict[str, np.ndarray], *, sqrt_s: float = 240.0, include_mass: bool = False
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per-event features from the two photons, shape (n_events, n_features), and their names.

    Energies and momenta in GeV; ``m_recoil = sqrt(s - 2 sqrt(s) E_gg + m_gg^2)``.
    ``include_mass=True`` appends the diphoton mass ``m_gg``.
    """
    g1 = np.stack([events[f"g1_{c}"] for c in ("e", "px", "py", "pz")], axis=1).astype(float)
    g2 = np.stack([events[f"g2_{c}"] for c in ("e", "px", "py", "pz")], axis=1).astype(float)
    pair = g1 + g2
    m_gg = np.sqrt(np.clip(pair[:, 0] ** 2 - np.sum(pair[:, 1:] ** 2, axis=1), 0.0, None))
    p_gg = np.linalg.norm(pair[:, 1:], axis=1)
    columns = {
        "e1": g1[:, 0],
        "e2": g2[:, 0],
        "cos1": g1[:, 3] / g1[:, 0],
        "cos2": g2[:, 3] / g2[:, 0],
        "cos_theta_star": _cos_theta_star(g1, pair),
        "pt_gg": np.hypot(pair[:, 1], pair[:, 2]),
        "cos_gg": pair[:, 3] / np.maximum(p_gg, 1e-9),
        "m_recoil": np.sqrt(np.clip(sqrt_s**2 - 2 * sqrt_s * pair[:, 0] + m_gg**2, 0.0, None)),
        "dphi": np.abs(np.angle(np.exp(1j * (np.arctan2(g1[:, 2], g1[:, 1]) - np.arctan2(g2[:, 2], g2[:, 1]))))),
    }
    if include_mass:
        columns["m_gg"] = m_gg
    return np.stack(list(columns.values()), axis=1), tuple(columns)


def _cos_theta_star(g1: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """|cos| of the leading photon's angle in the diphoton rest frame w.r.t. the pair's direction."""
    beta = pair[:, 1:] / pair[:, :1]
    b2 = np.sum(beta**2, axis=1)
    gamma = 1.0 / np.sqrt(np.clip(1.0 - b2, 1e-12, None))
    bp = np.sum(beta * g1[:, 1:], axis=1)
    p_star = g1[:, 1:] + ((gamma - 1.0) * bp / np.maximum(b2, 1e-12) - gamma * g1[:, 0])[:, None] * beta
    axis = beta / np.sqrt(np.maximum(b2, 1e-12))[:, None]
    return np.abs(np.sum(p_star * axis, axis=1) / np.maximum(np.linalg.norm(p_star, axis=1), 1e-12))


def balanced_split(
    y: np.ndarray, *, n_train: int, n_test: int, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of disjoint training and test sets with equal numbers of signal and background.

    Raises
    ------
    ParameterError
        If a size is odd or not positive, or there are too few events of a class.
    """
    y = np.asarray(y).ravel()
    for name, n in (("n_train", n_train), ("n_test", n_test)):
        if not isinstance(n, (int, np.integer)) or n < 2 or n % 2:
            raise ParameterError(f"{name} must be an even integer >= 2 (half signal, half background), got {n!r}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in (1, 0):
        idx = rng.permutation(np.flatnonzero(y == label))
        need = (n_train + n_test) // 2
        if idx.size < need:
            raise ParameterError(
                f"{need} events of class {label} needed for n_train={n_train}, n_test={n_test}, only "
                f"{idx.size} available; lower the sizes or generate more events"
            )
        train.append(idx[: n_train // 2])
        test.append(idx[n_train // 2 : need])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def prepare_features(
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    *,
    n_qubits: int = 6,
    method: str = "pca",
    names: tuple[str, ...] | None = None,
    feature_range: tuple[float, float] = (0.0, 1.0),
) -> FeatureSet:
    """Reduce features to ``n_qubits`` columns and scale them into the encoding range.

    Standardisation, PCA (or the first ``n_qubits`` columns with ``method="select"``) and
    min-max scaling to ``feature_range`` (radians) are fitted on the training events only;
    test values may fall slightly outside the range.

    Raises
    ------
    ParameterError
        For an unknown method or more qubits than features.
    """
    if method not in PREPARE_METHODS:
        raise ParameterError(f"unknown feature method {method!r}; choose one of: {', '.join(PREPARE_METHODS)}")
    x = np.asarray(x, dtype=float)
    if not isinstance(n_qubits, (int, np.integer)) or not 1 <= n_qubits <= x.shape[1]:
        raise ParameterError(f"n_qubits must be an integer in 1..{x.shape[1]} (number of features), got {n_qubits!r}")
    names = tuple(names) if names is not None else tuple(f"f{i}" for i in range(x.shape[1]))
    standard = StandardScaler().fit(x[train])
    if method == "pca":
        reducer = PCA(n_components=n_qubits, random_state=0).fit(standard.transform(x[train]))
        reduce = lambda a: reducer.transform(standard.transform(a))  # noqa: E731
        names = tuple(f"pc{i + 1}" for i in range(n_qubits))
    else:
        reduce = lambda a: standard.transform(a)[:, :n_qubits]  # noqa: E731
        names = names[:n_qubits]
    scale = MinMaxScaler(feature_range=tuple(feature_range)).fit(reduce(x[train]))
    y = np.asarray(y)
    return FeatureSet(scale.transform(reduce(x[train])), scale.transform(reduce(x[test])), y[train], y[test], names)
