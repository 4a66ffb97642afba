"""Classifiers on the same features and splits: quantum-kernel SVM, RBF SVM, gradient-boosted trees.

The quantum SVM is scikit-learn's ``SVC(kernel="precomputed")`` fed with a fidelity
kernel (Havlicek et al., arXiv:1804.11326; Fadol et al., arXiv:2209.12788); the classical
references see exactly the same encoded features and the same balanced splits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.svm import SVC

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.metrics import auc
from hepml_nb.qml.features import balanced_split, prepare_features
from hepml_nb.qml.kernels import exact_kernel

__all__ = [
    "MODELS",
    "kernel_svm_scores",
    "classical_scores",
    "compare_models",
    "auc_vs_training_size",
    "summarise_aucs",
    "ModelAucs",
]

MODELS = ("quantum", "rbf_svm", "gbt")


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


def auc_vs_training_size(
    x: np.ndarray,
    y: np.ndarray,
    *,
    sizes: Sequence[int],
    n_test: int,
    n_splits: int = 3,
    seed: int = 0,
    n_qubits: int = 6,
    method: str = "pca",
    feature_range: tuple[float, float] = (0.0, np.pi),
    progress: bool = True,
    **kernel_settings,
) -> pd.DataFrame:
    """Test AUC of every model for each training size over ``n_splits`` random balanced splits.

    Features are re-prepared (scaler, PCA) on each split's training events. Returns a
    long table with columns ``size``, ``split``, ``model``, ``auc``.
    """
    from tqdm.auto import tqdm

    if n_splits < 1:
        raise ParameterError(f"n_splits must be >= 1, got {n_splits}")
    rng = np.random.default_rng(seed)
    rows = []
    jobs = [(size, split) for size in sizes for split in range(n_splits)]
    for size, split in tqdm(jobs, desc="training sizes x splits", disable=not progress, leave=False):
        train, test = balanced_split(y, n_train=int(size), n_test=int(n_test), seed=rng)
        fs = prepare_features(x, y, train, test, n_qubits=n_qubits, method=method, feature_range=feature_range)
        scores = compare_models(fs.x_train, fs.y_train, fs.x_test, seed=split, **kernel_settings)
        rows += [{"size": int(size), "split": split, "model": m, "auc": auc(fs.y_test, s)} for m, s in scores.items()]
    return pd.DataFrame(rows)


class ModelAucs(NamedTuple):
    """Mean test AUC and its spread over the splits of the three models at one training size."""

    quantum: float
    quantum_std: float
    rbf_svm: float
    rbf_svm_std: float
    gbt: float
    gbt_std: float

    @classmethod
    def from_summary(cls, summary: pd.DataFrame, size: int | None = None) -> ModelAucs:
        """The row of :func:`summarise_aucs` at training size ``size`` (default: the largest)."""
        row = summary.iloc[-1] if size is None else summary.loc[size]
        return cls(*(row[f"{model}_{stat}"] for model in MODELS for stat in ("mean", "std")))

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat dict for ``record_metrics``: ``{prefix}auc_quantum_exact``, ``{prefix}auc_rbf_svm``,
        ``{prefix}auc_gbt``, each with its ``_std``."""
        names = {"quantum": "auc_quantum_exact", "rbf_svm": "auc_rbf_svm", "gbt": "auc_gbt"}
        out = {}
        for model, key in names.items():
            out[f"{prefix}{key}"] = getattr(self, model)
            out[f"{prefix}{key}_std"] = getattr(self, f"{model}_std")
        return out


def summarise_aucs(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation of the AUC over splits, one row per size, one column pair per model."""
    out = table.groupby(["size", "model"])["auc"].agg(["mean", "std"]).unstack("model")
    out.columns = [f"{model}_{stat}" for stat, model in out.columns]
    return out.sort_index(axis=1)
