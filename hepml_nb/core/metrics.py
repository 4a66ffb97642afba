"""Classifier metrics used by every topic, built on scikit-learn.

Background rejection is quoted as ``1/eps_B`` at a fixed signal efficiency
``eps_S``, as in the top-tagging comparison (Kasieczka et al., arXiv:1902.09914).
At a high rejection only a handful of background events pass the cut, so
:func:`rejection_interval` gives the Clopper-Pearson interval on that count and a
lower limit when none passes; :func:`bootstrap_rejection` adds the bootstrap spread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = [
    "compare_values",
    "compare_intervals",
    "RocCurve",
    "Rejection",
    "roc",
    "auc",
    "rejection_at",
    "rejection_interval",
    "rejection_summary",
    "bootstrap_rejection",
    "format_rejection",
    "tagging_summary",
    "bootstrap_auc",
]

#: one standard deviation of a Gaussian, as a two-sided confidence level
ONE_SIGMA = 0.6827


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
    _check_efficiency(eps_s)
    curve = roc(y_true, score)
    eps_b = float(np.interp(eps_s, curve.eps_s, curve.eps_b))
    return float("inf") if eps_b <= 0 else 1.0 / eps_b


class Rejection(NamedTuple):
    """Background rejection ``1/eps_B`` at one working point with its Clopper-Pearson interval.

    ``value = n_background / n_background_pass`` at the cut that keeps the fraction ``eps_s``
    of the signal; ``low, high`` bound it at the confidence level asked for. When no
    background passes, ``is_lower_limit`` is True, ``value = low`` is the lower limit
    (from the one-sided upper bound on eps_B) and ``high`` is ``inf``.
    """

    value: float
    low: float
    high: float
    n_background_pass: int
    n_background: int
    is_lower_limit: bool

    def __str__(self) -> str:
        return format_rejection(self)


def _check_efficiency(eps_s: float) -> None:
    if not 0.0 < eps_s <= 1.0:
        raise ValueError(f"signal efficiency must be in (0, 1], got {eps_s}")


def rejection_interval(y_true: np.ndarray, score: np.ndarray, eff: float, *, cl: float = ONE_SIGMA) -> Rejection:
    """``1/eps_B`` at signal efficiency ``eff`` with a Clopper-Pearson interval on the background count.

    Parameters
    ----------
    y_true, score
        (N,) labels (1 = signal) and scores (higher = more signal-like).
    eff
        Signal efficiency of the working point, in (0, 1]: the cut keeps the ``ceil(eff * n_signal)``
        highest-scoring signal events (and every event scoring at least as high).
    cl
        Two-sided confidence level of the interval (default one sigma, 0.6827); the lower
        limit when no background passes is one-sided at the same level.

    Returns
    -------
    Rejection
        value, low, high, the passing and total background counts, and whether the value is a lower limit.

    References
    ----------
    Clopper, Pearson, Biometrika 26 (1934) 404.
    """
    from scipy.stats import beta

    _check_efficiency(eff)
    if not 0.0 < cl < 1.0:
        raise ValueError(f"confidence level must be in (0, 1), got {cl}")
    y_true, score = _check(y_true, score)
    signal, background = np.sort(score[y_true == 1])[::-1], score[y_true != 1]
    threshold = signal[max(int(np.ceil(eff * signal.size - 1e-9)), 1) - 1]
    n, k = background.size, int(np.sum(background >= threshold))
    alpha = 1.0 - cl
    if k == 0:
        limit = 1.0 / float(beta.ppf(cl, 1, n))  # one-sided upper bound on eps_B: 1 - (1 - cl)^(1/n)
        return Rejection(limit, limit, float("inf"), 0, n, True)
    eps_low = float(beta.ppf(alpha / 2, k, n - k + 1))
    eps_high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return Rejection(n / k, 1.0 / eps_high, 1.0 / eps_low, k, n, False)


def format_rejection(rejection: Rejection, *, value: float | None = None) -> str:
    """``"386 (+250 -120)"``, or ``"> 1500"`` for a lower limit; ``value`` replaces the central value shown."""
    if rejection.is_lower_limit:
        return f"> {rejection.value:.0f}"
    centre = rejection.value if value is None else value
    return f"{centre:.0f} (+{rejection.high - centre:.0f} -{centre - rejection.low:.0f})"


def bootstrap_rejection(
    y_true: np.ndarray, score: np.ndarray, eff: float, *, n_boot: int = 100, seed: int | np.random.Generator = 0
) -> tuple[float, float]:
    """16th and 84th percentiles of ``1/eps_B`` (as :func:`rejection_at`) over bootstrap resamplings.

    Either may be ``inf`` when no background passes in many resamplings.
    """
    _check_efficiency(eff)
    y_true, score = _check(y_true, score)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, y_true.size, y_true.size)
        if np.unique(y_true[idx]).size == 2:
            values.append(rejection_at(y_true[idx], score[idx], eff))
    low, high = np.percentile(values, [15.865, 84.135], method="inverted_cdf")
    return float(low), float(high)


def rejection_summary(
    y_true: np.ndarray,
    score: np.ndarray,
    *,
    working_points: Sequence[float] = (0.3, 0.5),
    cl: float = ONE_SIGMA,
) -> dict[str, float | int | bool]:
    """Flat dict of the Clopper-Pearson interval of ``1/eps_B`` at each working point.

    Keys per working point (``rej30`` for 0.3): ``rej30_low``, ``rej30_high``, ``rej30_n_pass``
    (background events passing), ``rej30_n_background``, ``rej30_lower_limit`` (no background passes:
    ``rej30_low`` is a lower limit). The central value ``rej30`` is that of :func:`tagging_summary`.
    """
    out: dict[str, float | int | bool] = {}
    for wp in working_points:
        r = rejection_interval(y_true, score, wp, cl=cl)
        key = f"rej{round(100 * wp)}"
        out.update(
            {
                f"{key}_low": r.low,
                f"{key}_high": r.high,
                f"{key}_n_pass": r.n_background_pass,
                f"{key}_n_background": r.n_background,
                f"{key}_lower_limit": r.is_lower_limit,
            }
        )
    return out


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


def compare_values(
    value: float, error: float, reference: float, reference_error: float, *, n_sigma: float = 2.0
) -> str:
    """How ``value +- error`` compares with ``reference +- reference_error``, the project's one rule.

    ``"higher than"`` / ``"lower than"`` when the difference exceeds ``n_sigma`` times the two
    uncertainties added in quadrature, ``"compatible with"`` otherwise, and ``"not comparable with"``
    when there is no uncertainty.
    """
    diff, err = value - reference, float(np.hypot(error, reference_error))
    if not np.isfinite(err) or err == 0:
        return "not comparable with"
    return "higher than" if diff > n_sigma * err else "lower than" if diff < -n_sigma * err else "compatible with"


def compare_intervals(low: float, high: float, reference_low: float, reference_high: float) -> str:
    """``"higher than"`` / ``"lower than"`` when two intervals do not overlap, else ``"compatible with"``."""
    return "higher than" if low > reference_high else "lower than" if high < reference_low else "compatible with"
