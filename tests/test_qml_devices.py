"""Device names, transpiled depths and the entanglement study (depth vs noise)."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import devices as dv
from hepml_nb.qml import study
from hepml_nb.qml.features import FeatureSet


def test_resolve_device_names_and_old_bare_names():
    assert dv.resolve_device("fake:fake_lagos", n_qubits=6).name == "fake:fake_lagos"
    assert dv.resolve_device("fake_lagos", n_qubits=6).name == "fake:fake_lagos"
    sim = dv.resolve_device("origin-sim:noisy", n_qubits=6)
    assert (sim.name, sim.provider, sim.hardware) == ("origin-sim:noisy", "origin", False)
    with pytest.raises(ParameterError, match="unknown device 'qasm'.*fake:<name>, ibm:<name>, origin-sim:noisy"):
        dv.resolve_device("qasm", n_qubits=6)


def test_transpiled_depths_full_entanglement_is_deeper_on_a_sparse_device():
    table = dv.transpiled_depths("fake:fake_lagos", n_qubits=6, entanglements=("linear", "full"))
    assert list(table.index) == ["linear", "full"]
    assert {"depth", "two_qubit_depth", "two_qubit_gates"} <= set(table.columns)
    assert table.loc["full", "two_qubit_depth"] > 2 * table.loc["linear", "two_qubit_depth"]
    logical = dv.transpiled_depths("origin-sim:noisy", n_qubits=6)
    assert logical.loc["linear", "two_qubit_gates"] == 2 * 2 * 2 * 5  # reps x (compute, uncompute) x CX pair x pairs


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
