"""Classifier metrics used by every topic, built on scikit-learn.

Background rejection is quoted as ``1/eps_B`` at a fixed signal efficiency
``eps_S``, as in the top-tagging comparison (Kasieczka et al., arXiv:1902.09914).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = ["RocCurve", "roc", "auc", "rejection_at", "tagging_summary", "bootstrap_auc"]


class RocCurve(NamedTuple):
    """Signal efficiency ``eps_s``, background efficiency ``eps_b`` and the AUC."""

    eps_s: np.ndarray
    eps_b: np.ndarray
    auc: float


def _check(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, score = np.asarray(y_true).ravel(), np.asarray(score, dtype=float).ravel()
    if y_true.shape != score.shape:
        raise ValueError(f"labels and scores differ in length: {y_true.size} vs {score.size}")
    if np.unique(y_true).size != 2:
        raise ValueError("labels must contain both classes (0 = background, 1 = signal)")
    return y_true, score


def roc(y_true: np.ndarray, score: np.ndarray) -> RocCurve:
    """ROC curve of a binary classifier (label 1 = signal)."""
    y_true, score = _check(y_true, score)
    eps_b, eps_s, _ = roc_curve(y_true, score)
    return RocCurve(eps_s, eps_b, float(roc_auc_score(y_true, score)))


def auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve."""
    return float(roc_auc_score(*_check(y_true, score)))


def rejection_at(y_true: np.ndarray, score: np.ndarray, eps_s: float) -> float:
    """Background rejection ``1/eps_B`` at signal efficiency ``eps_s`` (interpolated).

    Returns ``inf`` when no background passes at that efficiency.
    """
    if not 0.0 < eps_s <= 1.0:
        raise ValueError(f"signal efficiency must be in (0, 1], got {eps_s}")
    curve = roc(y_true, score)
    eps_b = float(np.interp(eps_s, curve.eps_s, curve.eps_b))
    return float("inf") if eps_b <= 0 else 1.0 / eps_b


def tagging_summary(
    y_true: np.ndarray, score: np.ndarray, *, working_points: Sequence[float] = (0.3, 0.5)
) -> dict[str, float]:
    """AUC, accuracy at score 0.5 and ``1/eps_B`` at each working point, as a flat dict.

    Keys: ``auc``, ``accuracy``, ``rej30`` (for 0.3), ``rej50`` (for 0.5), ...
    """
    y_true, score = _check(y_true, score)
    out = {"auc": auc(y_true, score), "accuracy": float(np.mean((score > 0.5) == (y_true == 1)))}
    for wp in working_points:
        out[f"rej{round(100 * wp)}"] = rejection_at(y_true, score, wp)
    return out


def bootstrap_auc(
    y_true: np.ndarray, score: np.ndarray, *, n_boot: int = 200, seed: int | np.random.Generator = 0
) -> tuple[float, float]:
    """AUC and its bootstrap standard deviation (resampling events with replacement)."""
    y_true, score = _check(y_true, score)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, y_true.size, y_true.size)
        if np.unique(y_true[idx]).size == 2:
            values.append(roc_auc_score(y_true[idx], score[idx]))
    return auc(y_true, score), float(np.std(values, ddof=1))
