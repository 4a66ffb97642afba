"""The notebook's studies: AUC vs training size, shots, the device comparison and the entanglement study."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import study
from hepml_nb.qml.classify import MODELS
from hepml_nb.qml.features import FeatureSet


def _blobs(seed, n=240):
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n // 2), np.zeros(n // 2)].astype(int)
    x = rng.normal(size=(n, 7)) + 2.0 * y[:, None] * np.array([1, -1, 1, 0, 0, 0, 0])
    return x, y


def test_auc_vs_training_size_learns_separable_data(seed):
    x, y = _blobs(seed)
    table = study.auc_vs_training_size(
        x,
        y,
        sizes=[20, 80],
        n_test=80,
        n_splits=2,
        seed=seed,
        n_qubits=4,
        alpha=0.5,
        entanglement="linear",
        progress=False,
    )
    assert len(table) == 2 * 2 * 3 and set(table["model"]) == set(MODELS)
    summary = study.summarise_aucs(table)
    assert list(summary.index) == [20, 80]
    assert summary.loc[80, "quantum_mean"] > 0.8 and summary.loc[80, "rbf_svm_mean"] > 0.8


def test_auc_vs_training_size_rejects_zero_splits():
    with pytest.raises(ParameterError, match="n_splits must be >= 1"):
        study.auc_vs_training_size(np.zeros((4, 2)), np.array([0, 1, 0, 1]), sizes=[2], n_test=2, n_splits=0)


def test_shot_study_degrades_with_few_shots(seed):
    x, y = _blobs(seed, n=200)
    rng = np.random.default_rng(seed)
    train, test = rng.permutation(200)[:100], rng.permutation(200)[100:]
    from sklearn.preprocessing import MinMaxScaler

    scaled = MinMaxScaler((0, np.pi)).fit_transform(x[:, :4])
    fs = FeatureSet(scaled[train], scaled[test], y[train], y[test], ("a", "b", "c", "d"))
    table = study.shot_study(fs, shots=[4, 4096], seed=seed, alpha=0.5, entanglement="linear")
    assert list(table.index) == ["exact", "4 shots", "4096 shots"]
    rms = table["kernel_rms_vs_exact"]
    assert rms["exact"] == 0.0 and rms["4 shots"] > 5 * rms["4096 shots"] > 0
    assert table.loc["4096 shots", "auc"] == pytest.approx(table.loc["exact", "auc"], abs=0.03)


def test_model_aucs_from_summary_metrics_keys():
    import pandas as pd

    table = pd.DataFrame(
        [
            {"size": s, "model": m, "split": k, "auc": 0.5 + 0.01 * s + 0.1 * i + 0.001 * k}
            for s in (10, 20)
            for i, m in enumerate(MODELS)
            for k in range(3)
        ]
    )
    summary = study.summarise_aucs(table)
    best = study.ModelAucs.from_summary(summary)
    assert best.quantum == summary.iloc[-1]["quantum_mean"] and best.gbt_std == summary.iloc[-1]["gbt_std"]
    assert study.ModelAucs.from_summary(summary, size=10).quantum == summary.loc[10, "quantum_mean"]
    assert best.metrics() == {
        "auc_quantum_exact": best.quantum,
        "auc_quantum_exact_std": best.quantum_std,
        "auc_rbf_svm": best.rbf_svm,
        "auc_rbf_svm_std": best.rbf_svm_std,
        "auc_gbt": best.gbt,
        "auc_gbt_std": best.gbt_std,
    }


def test_device_comparison_metrics_keys():
    import pandas as pd

    table = pd.DataFrame(
        {
            "auc": [0.9, 0.88, 0.8],
            "auc_std": [0.01, 0.02, 0.03],
            "kernel_rms_vs_exact": [0, 0.01, 0.2],
            "seconds": [1.0, 2.0, 3.0],
        },
        index=pd.Index(["exact", "512 shots", "noisy fake_lagos"], name="backend"),
    )
    out = study.DeviceComparison(table, "fake_lagos").metrics()
    assert out == {
        "auc_per_backend": {
            "exact": {"auc": 0.9, "auc_std": 0.01},
            "512 shots": {"auc": 0.88, "auc_std": 0.02},
            "noisy fake_lagos": {"auc": 0.8, "auc_std": 0.03},
        },
        "device_auc_exact": 0.9,
        "device_auc_shots": 0.88,
        "device_auc_noisy": 0.8,
        "device_auc_noisy_std": 0.03,
        "device_backend": "fake_lagos",
        "device_kernel_rms": 0.2,
    }


def test_entanglement_study_reports_depths_aucs_and_the_uniform_floor(seed):
    rng = np.random.default_rng(seed)
    y = np.array([0, 1, 0, 1, 0, 1])
    fs = FeatureSet(rng.uniform(0, np.pi, (6, 6)), rng.uniform(0, np.pi, (6, 6)), y, y, tuple("abcdef"))
    table = study.entanglement_study(fs, backend="origin-sim:noisy", shots=256, seed=seed, n_boot=20)
    assert list(table.index) == ["linear", "full"]
    assert table.loc["full", "two_qubit_depth"] > table.loc["linear", "two_qubit_depth"]
    assert np.all(table["uniform_floor"] == 2.0**-6)
    assert np.all((table["auc_device"] >= 0) & (table["auc_device"] <= 1)) and np.all(table["kernel_rms_vs_exact"] > 0)
    # depolarising noise pulls the kernel towards 1/2**n: the mean entry moves from the exact one towards the floor
    assert np.all(
        np.abs(table["mean_kernel_device"] - table["uniform_floor"])
        < np.abs(table["mean_kernel_exact"] - table["uniform_floor"]) + 0.01
    )
