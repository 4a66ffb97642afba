"""The notebook's studies and their result records (each with ``.metrics()`` for ``record_metrics``).

The quantum-kernel SVM against classical models as the training set grows
(:func:`auc_vs_training_size`, :class:`ModelAucs`), and the same SVM on exact, shot,
noisy-device and hardware kernels (:func:`shot_study`, :class:`DeviceComparison`,
:func:`entanglement_study`). The top layer of the topic: it uses the classifiers
(:mod:`hepml_nb.qml.classify`) and the device kernels (:mod:`hepml_nb.qml.backends`), and
nothing in :mod:`hepml_nb.qml` imports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.metrics import auc
from hepml_nb.qml.backends import device_kernel, transpiled_depths
from hepml_nb.qml.classify import MODELS, KernelRun, backend_table, compare_models
from hepml_nb.qml.features import FeatureSet, balanced_split, prepare_features
from hepml_nb.qml.kernels import DEFAULT_ALPHA, exact_kernel, shot_kernel

__all__ = [
    "ModelAucs",
    "DeviceComparison",
    "auc_vs_training_size",
    "summarise_aucs",
    "run_kernel",
    "shot_study",
    "entanglement_study",
]


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


class DeviceComparison(NamedTuple):
    """The backend comparison of :func:`~hepml_nb.qml.classify.backend_table` (rows: exact, shots,
    ``noisy <backend>``, ...)
    and the name of the noisy device model it used."""

    table: pd.DataFrame
    backend: str

    def metrics(self, prefix: str = "") -> dict[str, Any]:
        """Flat dict for ``record_metrics``: ``{prefix}auc_per_backend`` ({row: {auc, auc_std}}),
        ``{prefix}device_auc_exact``, ``_shots``, ``_noisy``, ``_noisy_std``, ``{prefix}device_backend``
        and ``{prefix}device_kernel_rms``."""
        noisy = self.table.loc[f"noisy {self.backend}"]
        per_backend = {name: {"auc": row.auc, "auc_std": row.auc_std} for name, row in self.table.iterrows()}
        return {
            f"{prefix}auc_per_backend": per_backend,
            f"{prefix}device_auc_exact": self.table["auc"].iloc[0],
            f"{prefix}device_auc_shots": self.table["auc"].iloc[1],
            f"{prefix}device_auc_noisy": noisy["auc"],
            f"{prefix}device_auc_noisy_std": noisy["auc_std"],
            f"{prefix}device_backend": self.backend,
            f"{prefix}device_kernel_rms": noisy["kernel_rms_vs_exact"],
        }


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


def summarise_aucs(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation of the AUC over splits, one row per size, one column pair per model."""
    out = table.groupby(["size", "model"])["auc"].agg(["mean", "std"]).unstack("model")
    out.columns = [f"{model}_{stat}" for stat, model in out.columns]
    return out.sort_index(axis=1)


def run_kernel(kernel: Callable[..., np.ndarray], features: FeatureSet, **options: Any) -> KernelRun:
    """Compute training and test kernels of ``features`` with ``kernel(x_a, x_b=None, **options)``, timed."""
    start = time.perf_counter()
    k_train = kernel(features.x_train, **options)
    k_test = kernel(features.x_test, features.x_train, **options)
    return KernelRun(k_train, k_test, time.perf_counter() - start)


def shot_study(
    features: FeatureSet, *, shots: Sequence[int], seed: int = 0, n_boot: int = 200, **settings: Any
) -> pd.DataFrame:
    """AUC of the quantum SVM against the number of shots per kernel entry (row ``exact`` first)."""
    runs = {"exact": run_kernel(exact_kernel, features, **settings)}
    for n_shots in shots:
        runs[f"{int(n_shots)} shots"] = run_kernel(shot_kernel, features, shots=int(n_shots), seed=seed, **settings)
    table = backend_table(runs, features, n_boot=n_boot, seed=seed)
    table.insert(0, "shots", [np.inf, *[int(s) for s in shots]])
    return table


def entanglement_study(
    features: FeatureSet,
    *,
    backend: Any,
    entanglements: Sequence[str] = ("linear", "full"),
    shots: int = 1024,
    seed: int = 0,
    reps: int = 2,
    alpha: float = DEFAULT_ALPHA,
    optimization_level: int = 1,
    n_boot: int = 200,
) -> pd.DataFrame:
    """The same device study for each entanglement, with the transpiled circuit's depth.

    One row per entanglement: transpiled ``depth``, ``two_qubit_depth`` and ``two_qubit_gates``
    of the compute-uncompute circuit on ``backend``, the test AUC on the exact and the
    device kernel, the kernel RMS deviation, and the mean test-kernel entry of both next to
    ``uniform_floor = 2**-n_qubits``: the value every entry takes when depolarising noise
    has turned the state into the maximally mixed one (not zero).
    """
    n_qubits = features.x_train.shape[1]
    depths = transpiled_depths(
        backend,
        n_qubits=n_qubits,
        reps=reps,
        entanglements=entanglements,
        optimization_level=optimization_level,
        seed=seed,
    )
    rows = []
    for ent in entanglements:
        settings = {"reps": reps, "alpha": alpha, "entanglement": ent}
        runs = {
            "exact": run_kernel(exact_kernel, features, **settings),
            "device": run_kernel(
                device_kernel,
                features,
                backend=backend,
                shots=shots,
                seed=seed,
                optimization_level=optimization_level,
                **settings,
            ),
        }
        table = backend_table(runs, features, n_boot=n_boot, seed=seed)
        rows.append(
            {
                "entanglement": ent,
                **depths.loc[ent].to_dict(),
                "auc_exact": table.loc["exact", "auc"],
                "auc_device": table.loc["device", "auc"],
                "auc_device_std": table.loc["device", "auc_std"],
                "kernel_rms_vs_exact": table.loc["device", "kernel_rms_vs_exact"],
                "mean_kernel_exact": float(runs["exact"].k_test.mean()),
                "mean_kernel_device": float(runs["device"].k_test.mean()),
                "uniform_floor": 2.0**-n_qubits,
                "seconds": runs["device"].seconds,
            }
        )
    return pd.DataFrame(rows).set_index("entanglement")
