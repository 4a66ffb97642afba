"""Classifiers on the same features and splits: quantum-kernel SVM, RBF SVM, gradient-boosted trees.

The quantum SVM is scikit-learn's ``SVC(kernel="precomputed")`` fed with a fidelity
kernel (Havlicek et al., arXiv:1804.11326; Fadol et al., arXiv:2209.12788); the classical
references see exactly the same encoded features and the same balanced splits. A
:class:`KernelRun` is a training and a test kernel from one backend; :func:`backend_table`
scores the quantum SVM on each, which the device records (:mod:`hepml_nb.qml.records`) and
the studies (:mod:`hepml_nb.qml.study`) both report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.svm import SVC

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.metrics import bootstrap_auc
from hepml_nb.qml.features import FeatureSet
from hepml_nb.qml.kernels import exact_kernel

__all__ = ["MODELS", "KernelRun", "kernel_svm_scores", "classical_scores", "compare_models", "backend_table"]

MODELS = ("quantum", "rbf_svm", "gbt")


class KernelRun(NamedTuple):
    """Training (n_train, n_train) and test (n_test, n_train) kernels and the seconds they took."""

    k_train: np.ndarray
    k_test: np.ndarray
    seconds: float


def kernel_svm_scores(k_train: np.ndarray, y_train: np.ndarray, k_test: np.ndarray, *, c: float = 1.0) -> np.ndarray:
    """Decision-function scores of an SVM with a precomputed kernel.

    ``k_train`` is (n_train, n_train), ``k_test`` is (n_test, n_train).
    """
    k_train, k_test = np.asarray(k_train), np.asarray(k_test)
    if k_train.shape != (len(y_train), len(y_train)) or k_test.shape[1:] != (len(y_train),):
        raise ParameterError(
            f"kernel shapes do not fit {len(y_train)} training labels: train {k_train.shape}, test {k_test.shape} "
            "(expected (n_train, n_train) and (n_test, n_train))"
        )
    return SVC(kernel="precomputed", C=c).fit(k_train, y_train).decision_function(k_test)


def classical_scores(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, *, model: str = "rbf_svm", seed: int = 0
) -> np.ndarray:
    """Scores of a classical reference: ``"rbf_svm"`` (SVC, RBF kernel, gamma="scale") or ``"gbt"``."""
    if model == "rbf_svm":
        return SVC(kernel="rbf", gamma="scale").fit(x_train, y_train).decision_function(x_test)
    if model == "gbt":
        clf = HistGradientBoostingClassifier(max_iter=100, random_state=seed).fit(x_train, y_train)
        return clf.predict_proba(x_test)[:, 1]
    raise ParameterError(f"unknown classical model {model!r}; choose one of: rbf_svm, gbt")


def compare_models(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    *,
    kernel: Callable[..., np.ndarray] = exact_kernel,
    seed: int = 0,
    **kernel_settings,
) -> dict[str, np.ndarray]:
    """Test scores of the quantum SVM (with ``kernel``) and both classical references."""
    k_train = kernel(x_train, **kernel_settings)
    k_test = kernel(x_test, x_train, **kernel_settings)
    scores = {"quantum": kernel_svm_scores(k_train, y_train, k_test)}
    for model in MODELS[1:]:
        scores[model] = classical_scores(x_train, y_train, x_test, model=model, seed=seed)
    return scores


def backend_table(
    runs: Mapping[str, KernelRun], features: FeatureSet, *, n_boot: int = 200, seed: int = 0
) -> pd.DataFrame:
    """Test AUC (bootstrap uncertainty), kernel RMS deviation from the first run, and time per backend."""
    reference = next(iter(runs.values()))
    rows = []
    for name, run in runs.items():
        scores = kernel_svm_scores(run.k_train, features.y_train, run.k_test)
        value, std = bootstrap_auc(features.y_test, scores, n_boot=n_boot, seed=seed)
        rms = float(np.sqrt(np.mean((run.k_test - reference.k_test) ** 2)))
        rows.append({"backend": name, "auc": value, "auc_std": std, "kernel_rms_vs_exact": rms, "seconds": run.seconds})
    return pd.DataFrame(rows).set_index("backend")
