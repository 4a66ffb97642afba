"""The compute-uncompute circuit of the ZZ feature map, its angles and depths, and kernels from its counts.

Each kernel entry is a compute-uncompute circuit ``U(y)^dagger U(x)`` measured in the
computational basis; the fraction of all-zero outcomes estimates ``|<psi(y)|psi(x)>|^2``
(Havlicek et al., arXiv:1804.11326). A training kernel needs the ``N(N-1)/2`` pairs
``i < j`` (:func:`kernel_pairs`), a test kernel all ``N_a N_b`` pairs. Each circuit is one
row of angles (:func:`angle_matrix`), so a whole kernel is one parameter sweep of one
circuit, which each device adapter (:mod:`hepml_nb.qml.ibm`, :mod:`hepml_nb.qml.origin`) builds
once per device and settings.

This is the lowest layer of the circuit kernels: it imports only the statevector module
:mod:`hepml_nb.qml.kernels` (qubit pairs, PSD projection) and, inside the functions that
build circuits, qiskit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hepml_nb.core.lazy import needs_extra
from hepml_nb.qml.kernels import entangling_pairs, project_psd

__all__ = [
    "compute_uncompute_circuit",
    "kernel_pairs",
    "circuit_estimate",
    "angle_matrix",
    "parameter_order",
    "circuit_depths",
    "kernel_from_counts",
]


def _zz_layer_circuit(n_qubits: int, pairs: list[tuple[int, int]], reps: int, tag: str):
    """ZZ feature map with the angles themselves as parameters ``t{tag}[i]`` (qubits) and ``p{tag}[k]`` (pairs).

    Same gates as qiskit's ``zz_feature_map`` (H, P(alpha x_i), CX-P-CX per pair), but each
    phase is one plain parameter whose value is computed in numpy; symbolic products of
    parameters are avoided (qiskit 2.6's basis translator can stall on them for alpha != 2).
    """
    with needs_extra("qml"):
        from qiskit.circuit import ParameterVector, QuantumCircuit

    theta, phi = ParameterVector(f"t{tag}", n_qubits), ParameterVector(f"p{tag}", max(len(pairs), 1))
    circuit = QuantumCircuit(n_qubits)
    for _ in range(reps):
        circuit.h(range(n_qubits))
        for q in range(n_qubits):
            circuit.p(theta[q], q)
        for k, (i, j) in enumerate(pairs):
            circuit.cx(i, j)
            circuit.p(phi[k], j)
            circuit.cx(i, j)
    return circuit


def compute_uncompute_circuit(n_qubits: int, *, reps: int = 2, entanglement: str | Sequence[Sequence[int]] = "full"):
    """``U(x)`` of the ZZ feature map followed by ``U(y)^dagger``, measured on all qubits.

    Parameters: ``tx[i] = alpha x_i`` and ``px[k] = alpha (pi - x_i)(pi - x_j)`` for pair ``k``,
    and the same with ``y`` (see :func:`angle_matrix`).
    """
    pairs = entangling_pairs(n_qubits, entanglement)
    circuit = _zz_layer_circuit(n_qubits, pairs, reps, "x")
    circuit.compose(_zz_layer_circuit(n_qubits, pairs, reps, "y").inverse(), inplace=True)
    circuit.measure_all()
    return circuit


def kernel_pairs(n_a: int, n_b: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` that need a circuit: ``i < j`` for a training kernel, all otherwise."""
    if n_b is None:
        return np.triu_indices(n_a, 1)
    i, j = np.meshgrid(np.arange(n_a), np.arange(n_b), indexing="ij")
    return i.ravel(), j.ravel()


def circuit_estimate(n_a: int, n_b: int | None = None, *, shots: int = 1024) -> dict[str, int]:
    """Number of circuits and shots a kernel needs: N(N-1)/2 for training, N_a N_b for test."""
    n_circuits = n_a * (n_a - 1) // 2 if n_b is None else n_a * n_b
    return {"circuits": int(n_circuits), "shots_per_circuit": int(shots), "total_shots": int(n_circuits * shots)}


def angle_matrix(
    x_a: np.ndarray,
    x_b: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    *,
    alpha: float,
    entangled: Sequence[tuple[int, int]],
) -> np.ndarray:
    """Circuit angles, one row per kernel pair: ``[tx (n), px (P), ty (n), py (P)]`` in radians.

    ``t[q] = alpha x_q`` are the single-qubit phases and ``p[k] = alpha (pi - x_i)(pi - x_j)`` the
    phases of entangled pair ``k = (i, j)`` of the ZZ feature map, for ``x = x_a[pairs[0]]``
    (compute) and ``y = x_b[pairs[1]]`` (uncompute).
    """

    def side(x: np.ndarray) -> np.ndarray:
        cols = [alpha * x[:, q] for q in range(x.shape[1])]
        cols += [alpha * (np.pi - x[:, i]) * (np.pi - x[:, j]) for i, j in entangled]
        return np.stack(cols, axis=1)

    return np.concatenate([side(np.asarray(x_a)[pairs[0]]), side(np.asarray(x_b)[pairs[1]])], axis=1)


def parameter_order(circuit: Any, n_qubits: int, n_pairs: int) -> np.ndarray:
    """Columns of :func:`angle_matrix` in the order of ``circuit.parameters`` (a circuit of
    :func:`compute_uncompute_circuit`, transpiled or not): ``angles[:, order]`` binds the circuit."""
    names = [f"{kind}{tag}[{k}]" for tag in "xy" for kind, n in (("t", n_qubits), ("p", n_pairs)) for k in range(n)]
    return np.array([names.index(p.name) for p in circuit.parameters], dtype=int)


def circuit_depths(circuit: Any) -> dict[str, int]:
    """Depth, two-qubit depth, two-qubit gate count and gate count (barriers aside) of a qiskit circuit."""
    two = [inst for inst in circuit.data if inst.operation.num_qubits == 2]
    return {
        "depth": int(circuit.depth()),
        "two_qubit_depth": int(circuit.depth(lambda i: i.operation.num_qubits == 2)),
        "two_qubit_gates": len(two),
        "gates": int(sum(1 for i in circuit.data if i.operation.name != "barrier")),
    }


def kernel_from_counts(
    counts: Sequence[dict],
    pairs: tuple[np.ndarray, np.ndarray],
    n_a: int,
    n_b: int | None,
    *,
    shots: int,
    enforce_psd: bool = True,
) -> np.ndarray:
    """Kernel from the counts per circuit: fraction of all-zero outcomes (key ``"0"``), assembled and projected."""
    zeros = np.array([c.get("0", 0) for c in counts], dtype=float) / shots
    kernel = _assemble(zeros, pairs, n_a, n_b)
    return project_psd(kernel) if n_b is None and enforce_psd else kernel


def _assemble(values: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], n_a: int, n_b: int | None) -> np.ndarray:
    kernel = np.zeros((n_a, n_a if n_b is None else n_b))
    kernel[pairs] = values
    if n_b is None:
        kernel = kernel + kernel.T
        np.fill_diagonal(kernel, 1.0)
    return kernel
