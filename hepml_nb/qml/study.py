"""The backend comparison of the notebook: the same SVM on exact, shot, noisy-device and hardware kernels."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.metrics import bootstrap_auc
from hepml_nb.qml.classify import kernel_svm_scores
from hepml_nb.qml.features import FeatureSet
from hepml_nb.qml.kernels import DEFAULT_ALPHA, exact_kernel, shot_kernel

__all__ = ["KernelRun", "DeviceComparison", "run_kernel", "shot_study", "backend_table", "entanglement_study"]


class KernelRun(NamedTuple):
    """Training (n_train, n_train) and test (n_test, n_train) kernels and the seconds they took."""

    k_train: np.ndarray
    k_test: np.ndarray
    seconds: float


class DeviceComparison(NamedTuple):
    """The backend comparison of :func:`backend_table` (rows: exact, shots, ``noisy <backend>``, ...)
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


def run_kernel(kernel: Callable[..., np.ndarray], features: FeatureSet, **options: Any) -> KernelRun:
    """Compute training and test kernels of ``features`` with ``kernel(x_a, x_b=None, **options)``, timed."""
    start = time.perf_counter()
    k_train = kernel(features.x_train, **options)
    k_test = kernel(features.x_test, features.x_train, **options)
    return KernelRun(k_train, k_test, time.perf_counter() - start)


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
    from hepml_nb.qml.backends import device_kernel
    from hepml_nb.qml.devices import transpiled_depths

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
