"""The tagger's data: the 16 jet-substructure features of five jet classes, split and standardised.

The features are those of the hls4ml paper's benchmark (Duarte et al., JINST 13 (2018)
P07027, arXiv:1804.06913), computed from locally generated Pythia8 jets by
:func:`hepml_nb.jets.high_level_dataset`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from hepml_nb.core.errors import DataError, ParameterError

__all__ = ["TaggerData", "prepare_data", "load_jet_data"]


class TaggerData(NamedTuple):
    """Standardised train/test split; ``mean``/``scale`` are the training-set statistics (16,)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray


def prepare_data(
    X: np.ndarray,
    y: np.ndarray,
    *,
    feature_names: Sequence[str] = (),
    class_names: Sequence[str] = (),
    test_fraction: float = 0.3,
    seed: int = 0,
) -> TaggerData:
    """Split ``X`` (N, F) and labels ``y`` (N,) stratified, and standardise with the training statistics.

    Raises
    ------
    DataError
        When ``X`` and ``y`` differ in length, hold non-finite values or a single class.
    ParameterError
        When ``test_fraction`` is not in (0, 1).
    """
    from sklearn.model_selection import train_test_split

    X, y = np.asarray(X, dtype=np.float32), np.asarray(y).astype(np.int64)
    if X.ndim != 2 or len(X) != len(y):
        raise DataError(f"features must be (N, F) and labels (N,); got {X.shape} and {y.shape}")
    if not np.all(np.isfinite(X)):
        raise DataError(
            f"features hold {int(np.sum(~np.isfinite(X)))} non-finite values; remove or impute them before training"
        )
    if np.unique(y).size < 2:
        raise DataError(f"labels hold a single class {np.unique(y)}; the tagger needs at least two")
    if not 0.0 < test_fraction < 1.0:
        raise ParameterError(f"test_fraction must be in (0, 1), got {test_fraction}")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_fraction, stratify=y, random_state=seed)
    mean, scale = X_tr.mean(axis=0), X_tr.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    names = tuple(class_names) or tuple(str(c) for c in np.unique(y))
    return TaggerData(
        ((X_tr - mean) / scale).astype(np.float32),
        ((X_te - mean) / scale).astype(np.float32),
        y_tr,
        y_te,
        tuple(feature_names),
        names,
        mean,
        scale,
    )


def load_jet_data(n_per_class: int, *, seed: int = 0, test_fraction: float = 0.3, progress: bool = True) -> TaggerData:
    """The 16 high-level features of the five jet classes from :mod:`hepml_nb.jets`, split and standardised.

    Jets are generated with Pythia8 and cached by :func:`hepml_nb.jets.high_level_dataset`.
    """
    if n_per_class < 10:
        raise ParameterError(f"n_per_class must be at least 10 jets per class, got {n_per_class}")
    from hepml_nb.jets import high_level_dataset

    data = high_level_dataset(n_per_class, seed=seed, progress=progress)
    return prepare_data(
        data.X,
        data.y,
        feature_names=data.feature_names,
        class_names=data.class_names,
        test_fraction=test_fraction,
        seed=seed,
    )
