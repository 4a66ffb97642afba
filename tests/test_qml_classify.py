"""Quantum-kernel SVM and classical references on the same features; the AUC per kernel run."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import classify as cl
from hepml_nb.qml.features import FeatureSet


def test_kernel_svm_scores_checks_shapes():
    with pytest.raises(ParameterError, match=r"expected \(n_train, n_train\) and \(n_test, n_train\)"):
        cl.kernel_svm_scores(np.eye(3), [0, 1, 0], np.zeros((2, 4)))


def test_classical_scores_rejects_unknown_model():
    with pytest.raises(ParameterError, match="choose one of: rbf_svm, gbt"):
        cl.classical_scores(np.zeros((4, 2)), [0, 1, 0, 1], np.zeros((2, 2)), model="mlp")


def test_backend_table_scores_each_run_against_the_first(seed):
    rng = np.random.default_rng(seed)
    y_train, y_test = np.array([0, 1] * 4), np.array([0, 1] * 3)
    x_train, x_test = y_train[:, None] + 0.1 * rng.normal(size=(8, 1)), y_test[:, None] + 0.1 * rng.normal(size=(6, 1))
    fs = FeatureSet(x_train, x_test, y_train, y_test, ("x",))
    gram = cl.KernelRun(x_train @ x_train.T, x_test @ x_train.T, 1.5)
    blind = cl.KernelRun(np.eye(8), np.zeros((6, 8)), 0.5)  # sees nothing: every test score is the same
    table = cl.backend_table({"linear": gram, "blind": blind}, fs, n_boot=20, seed=seed)
    assert list(table.index) == ["linear", "blind"] and table.index.name == "backend"
    assert table.loc["linear", "auc"] == 1.0 and table.loc["blind", "auc"] == 0.5
    assert table.loc["linear", "kernel_rms_vs_exact"] == 0.0
    assert table.loc["blind", "kernel_rms_vs_exact"] == pytest.approx(np.sqrt(np.mean((x_test @ x_train.T) ** 2)))
    assert list(table["seconds"]) == [1.5, 0.5]
