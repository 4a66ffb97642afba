"""Baseline taggers on the 16 jet-level features: gradient-boosted trees or an MLP.

The baseline is what taggers looked like before particle-level deep learning: a
multivariate classifier on jet mass, soft-drop mass, N-subjettiness ratios, energy
correlation ratios and similar observables (see the comparison in Kasieczka et al.,
arXiv:1902.09914).
"""

from __future__ import annotations

import numpy as np

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets.names import BASELINES

__all__ = ["BASELINES", "train_baseline", "baseline_scores"]


def train_baseline(X: np.ndarray, y: np.ndarray, *, kind: str = "bdt", seed: int = 0, max_iter: int = 300):
    """Fit a scikit-learn classifier on jet-level features.

    Parameters
    ----------
    X
        (N, n_features) jet-level features (e.g. :func:`~hepml_nb.jets.high_level_features`).
    y
        (N,) integer class labels.
    kind
        ``bdt`` (histogram gradient boosting with early stopping) or ``mlp`` (standardised
        inputs, two hidden layers of 64).
    seed
        Random state of the classifier.
    max_iter
        Boosting iterations (bdt) or epochs (mlp) at most.

    Returns
    -------
    sklearn estimator
        Fitted; use :func:`baseline_scores` for signal scores.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ParameterError(f"X must be (N, n_features) with N = len(y); got X {X.shape} and y {y.shape}")
    if kind == "bdt":
        model = HistGradientBoostingClassifier(
            max_iter=max_iter, learning_rate=0.1, early_stopping=True, validation_fraction=0.15, random_state=seed
        )
    elif kind == "mlp":
        model = make_pipeline(
            StandardScaler(), MLPClassifier((64, 64), max_iter=max_iter, early_stopping=True, random_state=seed)
        )
    else:
        raise ParameterError(f"unknown baseline {kind!r}; choose one of: {', '.join(BASELINES)}")
    return model.fit(X, y)


def baseline_scores(model, X: np.ndarray) -> np.ndarray:
    """Class probabilities (N, n_classes) of a fitted baseline."""
    return model.predict_proba(np.asarray(X, dtype=float))
