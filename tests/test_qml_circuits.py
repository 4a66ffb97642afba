"""The compute-uncompute circuit: its angles, parameter order, depths and kernels from its counts."""

import numpy as np
import pytest

from hepml_nb.qml import circuits
from hepml_nb.qml.kernels import entangling_pairs, exact_kernel, project_psd


@pytest.mark.parametrize("entanglement", ["linear", "full"])
def test_compute_uncompute_circuit_overlap_is_exact_fidelity(entanglement, seed):
    from qiskit.quantum_info import Statevector

    x = np.random.default_rng(seed).uniform(0, np.pi, (2, 4))
    circuit = circuits.compute_uncompute_circuit(4, reps=2, entanglement=entanglement).remove_final_measurements(
        inplace=False
    )
    pairs = entangling_pairs(4, entanglement)
    angles = circuits.angle_matrix(x[:1], x[1:], (np.array([0]), np.array([0])), alpha=0.7, entangled=pairs)
    order = circuits.parameter_order(circuit, 4, len(pairs))
    state = Statevector(circuit.assign_parameters(angles[0, order]))
    expected = exact_kernel(x[:1], x[1:], alpha=0.7, entanglement=entanglement)[0, 0]
    assert abs(state.data[0]) ** 2 == pytest.approx(expected, abs=1e-12)


def test_circuit_estimate_counts_training_and_test_pairs():
    assert circuits.circuit_estimate(50) == {"circuits": 1225, "shots_per_circuit": 1024, "total_shots": 1225 * 1024}
    assert circuits.circuit_estimate(10, 20, shots=100)["circuits"] == 200
    i, j = circuits.kernel_pairs(4)
    assert len(i) == 6 and np.all(i < j)


def test_kernel_from_counts_mirrors_the_training_kernel_and_projects_it():
    pairs = circuits.kernel_pairs(3)  # (0, 1), (0, 2), (1, 2)
    counts = [{"0": 80, "5": 20}, {"0": 10, "3": 90}, {"7": 100}]
    raw = circuits.kernel_from_counts(counts, pairs, 3, None, shots=100, enforce_psd=False)
    assert np.array_equal(raw, [[1.0, 0.8, 0.1], [0.8, 1.0, 0.0], [0.1, 0.0, 1.0]])
    assert np.array_equal(circuits.kernel_from_counts(counts, pairs, 3, None, shots=100), project_psd(raw))
    test = circuits.kernel_from_counts(counts[:2], circuits.kernel_pairs(1, 2), 1, 2, shots=100)
    assert np.array_equal(test, [[0.8, 0.1]])  # a test kernel: every pair, no mirror, no projection


def test_circuit_depths_count_the_logical_circuit():
    depths = circuits.circuit_depths(circuits.compute_uncompute_circuit(3, reps=1, entanglement="linear").decompose())
    assert depths["two_qubit_gates"] == 2 * 2 * 2  # (compute, uncompute) x CX pair x 2 pairs
    assert depths["gates"] > depths["depth"] >= depths["two_qubit_depth"] > 0
