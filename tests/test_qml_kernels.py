"""Exact and shot kernels of the ZZ feature map against qiskit and qiskit-machine-learning."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import kernels as kn


@pytest.mark.parametrize("entanglement", ["full", "linear", "reverse_linear", "circular"])
@pytest.mark.parametrize("reps", [1, 2, 3])
def test_zz_statevectors_match_qiskit_statevector(entanglement, reps, seed):
    from qiskit.circuit.library import zz_feature_map
    from qiskit.quantum_info import Statevector

    x = np.random.default_rng(seed).uniform(-1, 4, (3, 4))
    circuit = zz_feature_map(4, reps=reps, entanglement=entanglement, alpha=1.3)
    reference = np.array([Statevector(circuit.assign_parameters(row)).data for row in x])
    ours = kn.zz_statevectors(x, reps=reps, alpha=1.3, entanglement=entanglement)
    assert np.abs(ours - reference).max() < 1e-12


def test_zz_statevectors_accept_explicit_pairs(seed):
    x = np.random.default_rng(seed).uniform(0, 3, (2, 3))
    assert np.allclose(
        kn.zz_statevectors(x, entanglement=[(0, 1), (1, 2)]), kn.zz_statevectors(x, entanglement="linear")
    )
    assert not np.allclose(kn.zz_statevectors(x, entanglement="full"), kn.zz_statevectors(x, entanglement="linear"))


def test_exact_kernel_equals_fidelity_quantum_kernel(seed):
    from qiskit.circuit.library import zz_feature_map
    from qiskit_machine_learning.kernels import FidelityQuantumKernel

    rng = np.random.default_rng(seed)
    x, z = rng.uniform(0, 2 * np.pi, (7, 6)), rng.uniform(0, 2 * np.pi, (4, 6))
    reference = FidelityQuantumKernel(feature_map=zz_feature_map(6, alpha=kn.DEFAULT_ALPHA))
    assert np.abs(kn.exact_kernel(x) - reference.evaluate(x)).max() < 1e-9
    assert np.abs(kn.exact_kernel(z, x) - reference.evaluate(z, x)).max() < 1e-9
    qiskit_default = FidelityQuantumKernel(feature_map=zz_feature_map(6))  # qiskit's alpha is 2.0
    assert np.abs(kn.exact_kernel(x, alpha=2.0) - qiskit_default.evaluate(x)).max() < 1e-9


def test_exact_kernel_equals_fidelity_statevector_kernel_with_settings(seed):
    from qiskit.circuit.library import zz_feature_map
    from qiskit_machine_learning.kernels import FidelityStatevectorKernel

    x = np.random.default_rng(seed).uniform(0, np.pi, (9, 5))
    reference = FidelityStatevectorKernel(feature_map=zz_feature_map(5, reps=3, entanglement="linear", alpha=0.5))
    ours = kn.exact_kernel(x, reps=3, entanglement="linear", alpha=0.5)
    assert np.abs(ours - reference.evaluate(x)).max() < 1e-9


def test_fidelity_kernel_blocks_and_float32_agree(seed):
    psi = kn.zz_statevectors(np.random.default_rng(seed).uniform(0, 3, (50, 4)))
    full = kn.fidelity_kernel(psi)
    assert np.allclose(kn.fidelity_kernel(psi, block=7), full, atol=1e-14)
    assert np.allclose(kn.fidelity_kernel(psi, psi, block=7), full, atol=1e-14)  # general path, no symmetry used
    assert np.array_equal(full, full.T)  # mirrored blocks: exactly symmetric
    assert np.allclose(kn.fidelity_kernel(psi, dtype=np.float32), full, atol=1e-5)
    assert np.allclose(np.diag(full), 1.0) and np.allclose(full, full.T)


def test_shot_kernel_is_binomial_around_exact(seed):
    x = np.random.default_rng(seed).uniform(0, np.pi, (30, 4))
    exact = kn.exact_kernel(x, alpha=0.5)
    sampled = kn.shot_kernel(x, shots=4096, seed=seed, alpha=0.5, enforce_psd=False)
    assert np.allclose(np.diag(sampled), 1.0) and np.allclose(sampled, sampled.T)
    assert np.allclose(sampled * 4096, np.round(sampled * 4096))  # multiples of 1/shots
    residual = (sampled - exact)[np.triu_indices(30, 1)]
    sigma = np.sqrt(exact * (1 - exact) / 4096)[np.triu_indices(30, 1)]
    assert abs(residual.mean()) < 3 * sigma.mean() / np.sqrt(residual.size) + 1e-4
    assert 0.5 < np.std(residual) / np.sqrt(np.mean(sigma**2)) < 1.5


def test_shot_kernel_is_reproducible_and_test_kernel_not_symmetrised(seed):
    rng = np.random.default_rng(seed)
    x, z = rng.uniform(0, 3, (5, 3)), rng.uniform(0, 3, (4, 3))
    assert np.array_equal(kn.shot_kernel(z, x, shots=100, seed=1), kn.shot_kernel(z, x, shots=100, seed=1))
    assert kn.shot_kernel(z, x, shots=100, seed=1).shape == (4, 5)


def test_kernel_target_alignment_perfect_and_unrelated(seed):
    y = np.array([1, 1, 0, 0, 1, 0])
    ideal = np.equal.outer(y, y).astype(float)
    assert kn.kernel_target_alignment(ideal, y) == pytest.approx(1.0)
    assert kn.kernel_target_alignment(np.eye(6), y) < 0.5
    assert kn.kernel_target_alignment(np.ones((6, 6)), y) == 0.0
    k = kn.exact_kernel(np.random.default_rng(seed).uniform(0, np.pi, (6, 3)))
    center = np.eye(6) - 1.0 / 6  # the textbook centring as dense matrix products
    kc, t = center @ k @ center, np.where(y > 0, 1.0, -1.0)
    assert kn.kernel_target_alignment(k, y) == pytest.approx(t @ kc @ t / (np.linalg.norm(kc) * 6), abs=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: kn.entangling_pairs(4, "star"), "unknown entanglement 'star'.*full, linear"),
        (lambda: kn.entangling_pairs(3, [(0, 3)]), "pairs of distinct qubits in 0..2"),
        (lambda: kn.zz_statevectors(np.zeros(6)), "2-d array"),
        (lambda: kn.zz_statevectors(np.full((2, 3), np.nan)), "NaN or inf"),
        (lambda: kn.zz_statevectors(np.zeros((2, 17))), "integer in 1..16"),
        (lambda: kn.zz_statevectors(np.zeros((2, 3)), reps=0), "reps must be a positive integer"),
        (lambda: kn.shot_kernel(np.zeros((2, 3)), shots=0), "shots must be a positive integer"),
        (lambda: kn.exact_kernel(np.zeros((2, 3)), np.zeros((2, 4))), "same number of features"),
        (lambda: kn.kernel_target_alignment(np.eye(3), [1, 0]), "must be square"),
        (lambda: kn.project_psd(np.zeros((2, 3))), r"only a square symmetric \(training\) kernel.*\(2, 3\)"),
        (lambda: kn.project_psd(np.array([[1.0, 0.2], [0.5, 1.0]])), "not symmetric"),
    ],
)
def test_kernels_reject_bad_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_alpha_default_is_one_constant_everywhere():
    """One default for the feature-map scale (0.5, the notebook's) in every public function."""
    import inspect

    from hepml_nb import qml

    assert kn.DEFAULT_ALPHA == 0.5
    import types

    functions = [getattr(qml, name) for name in qml.__all__ if isinstance(getattr(qml, name), types.FunctionType)]
    defaults = {
        f.__name__: inspect.signature(f).parameters["alpha"].default
        for f in functions
        if "alpha" in inspect.signature(f).parameters
    }
    assert {"exact_kernel", "zz_statevectors", "device_kernel", "kernel_view", "feature_map_view"} <= set(defaults)
    assert set(defaults.values()) == {kn.DEFAULT_ALPHA}, defaults


def test_shot_kernel_training_kernel_is_projected_onto_psd_cone(seed):
    x = np.random.default_rng(seed).uniform(0, np.pi, (150, 6))
    raw = kn.shot_kernel(x, shots=16, seed=seed, enforce_psd=False)
    assert np.linalg.eigvalsh(raw).min() < -1e-3  # few shots: an indefinite Gram matrix
    projected = kn.shot_kernel(x, shots=16, seed=seed)
    assert np.array_equal(projected, projected.T)
    assert np.linalg.eigvalsh(projected).min() > -1e-10
    assert np.allclose(projected, kn.project_psd(raw))
    test = kn.shot_kernel(x[:5], x, shots=16, seed=seed)  # test kernels are left as sampled
    assert np.allclose(test * 16, np.round(test * 16))


def test_project_psd_clips_negative_eigenvalues_like_qiskit_machine_learning(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(8, 8))
    kernel = 0.5 * (a + a.T)
    values, vectors = np.linalg.eig(kernel)  # qiskit-machine-learning's QuantumKernel._make_psd
    reference = (vectors @ np.diag(np.maximum(0, values)) @ vectors.transpose()).real
    assert np.allclose(kn.project_psd(kernel), reference, atol=1e-12)
    psd = kernel @ kernel.T
    assert np.allclose(kn.project_psd(psd), psd, atol=1e-10)  # already PSD: unchanged


def test_fidelity_kernel_threaded_blocks_equal_single_thread(seed):
    psi = kn.zz_statevectors(np.random.default_rng(seed).uniform(0, 3, (300, 5)))
    threaded = kn.fidelity_kernel(psi, block=32, workers=2)
    assert np.array_equal(threaded, kn.fidelity_kernel(psi, block=32, workers=1))
    assert np.array_equal(threaded, threaded.T)
    assert np.allclose(kn.fidelity_kernel(psi[:7], psi, block=32, workers=2), threaded[:7], atol=1e-14)
