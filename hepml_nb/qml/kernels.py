"""Fidelity quantum kernels of the ZZ feature map, computed without circuits.

The ZZ feature map of Havlicek et al. (arXiv:1804.11326), as built by qiskit's
:func:`qiskit.circuit.library.zz_feature_map`, repeats ``reps`` times a Hadamard layer
followed by a layer that is diagonal in the computational basis: a phase
``alpha * x_i`` on every qubit in state 1 and a phase
``alpha * (pi - x_i)(pi - x_j)`` on every entangled pair ``(i, j)`` whose bits differ
(the CX-P-CX ladder). All these phases commute, so one repetition is
``D(x) H`` with ``D(x) = diag(exp(i theta_b(x)))`` over the ``2**n`` basis states ``b``.
A statevector therefore costs ``reps`` small matrix products per event, and the
kernel ``K_ij = |<psi(x_i)|psi(x_j)>|^2`` over all pairs is one (real) matrix
product, instead of ``N(N-1)/2`` compute-uncompute circuits (Fadol et al.,
arXiv:2209.12788, section 3).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml.names import ENTANGLEMENTS

__all__ = [
    "DEFAULT_ALPHA",
    "ENTANGLEMENTS",
    "entangling_pairs",
    "zz_phases",
    "zz_statevectors",
    "fidelity_kernel",
    "exact_kernel",
    "shot_kernel",
    "project_psd",
    "kernel_target_alignment",
]

MAX_QUBITS = 16
DEFAULT_ALPHA = 0.5
"""Default scale of the ZZ feature-map angles in every kernel of :mod:`hepml_nb.qml` (qiskit's own default is 2.0).

With features encoded into [0, pi] on 6 qubits, alpha = 2 makes almost every pair of events
orthogonal (the kernel is close to the identity); 0.5 gives a kernel with a useful bandwidth.
"""


def entangling_pairs(n_qubits: int, entanglement: str | Sequence[Sequence[int]] = "full") -> list[tuple[int, int]]:
    """Qubit pairs ``(i, j)`` that get a ZZ phase, as in qiskit's ``zz_feature_map``.

    The order does not matter for the statevector (the phases commute), only the set.

    Raises
    ------
    ParameterError
        For an unknown entanglement name or a pair outside ``range(n_qubits)``.
    """
    _check_qubits(n_qubits)
    if isinstance(entanglement, str):
        if entanglement == "full":
            return [(i, j) for i in range(n_qubits) for j in range(i + 1, n_qubits)]
        if entanglement in ("linear", "reverse_linear"):
            return [(i, i + 1) for i in range(n_qubits - 1)]
        if entanglement == "circular":
            extra = [(n_qubits - 1, 0)] if n_qubits > 2 else []
            return extra + [(i, i + 1) for i in range(n_qubits - 1)]
        raise ParameterError(
            f"unknown entanglement {entanglement!r} for the ZZ feature map; choose one of: "
            f"{', '.join(ENTANGLEMENTS)}, or give a list of qubit pairs"
        )
    pairs = [tuple(int(q) for q in pair) for pair in entanglement]
    if any(len(p) != 2 or p[0] == p[1] or not all(0 <= q < n_qubits for q in p) for p in pairs):
        raise ParameterError(f"entanglement pairs {pairs} must be pairs of distinct qubits in 0..{n_qubits - 1}")
    return pairs


def _check_qubits(n_qubits: int) -> None:
    if not isinstance(n_qubits, (int, np.integer)) or not 1 <= n_qubits <= MAX_QUBITS:
        raise ParameterError(
            f"number of qubits must be an integer in 1..{MAX_QUBITS} (the statevector has 2**n "
            f"entries per event), got {n_qubits!r}"
        )


def _check_features(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ParameterError(
            f"features must be a 2-d array (n_events, n_qubits), got shape {x.shape}; "
            "use x.reshape(1, -1) for a single event"
        )
    _check_qubits(x.shape[1])
    if not np.all(np.isfinite(x)):
        raise ParameterError("features contain NaN or inf; scale them with qml.prepare_features first")
    return x


def zz_phases(
    x: np.ndarray, *, alpha: float = DEFAULT_ALPHA, entanglement: str | Sequence[Sequence[int]] = "full"
) -> np.ndarray:
    """Diagonal phases ``theta_b(x)`` of one ZZ layer, shape (n_events, 2**n_qubits) in radians.

    Basis state ``b`` uses qiskit's little-endian order (qubit 0 is the lowest bit).
    """
    x = _check_features(x)
    n = x.shape[1]
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1  # (2**n, n)
    pairs = entangling_pairs(n, entanglement)
    phases = x @ bits.T
    if pairs:
        i, j = np.array(pairs).T
        differ = bits[:, i] ^ bits[:, j]  # (2**n, n_pairs)
        phases = phases + ((np.pi - x[:, i]) * (np.pi - x[:, j])) @ differ.T
    return alpha * phases


def zz_statevectors(
    x: np.ndarray, *, reps: int = 2, alpha: float = DEFAULT_ALPHA, entanglement: str | Sequence[Sequence[int]] = "full"
) -> np.ndarray:
    """Statevectors of ``zz_feature_map(n, reps, entanglement, alpha)`` for each event.

    Parameters
    ----------
    x : array (n_events, n_qubits)
        Encoded features (angles in radians; one feature per qubit).
    reps, alpha, entanglement
        As in :func:`qiskit.circuit.library.zz_feature_map`.

    Returns
    -------
    array (n_events, 2**n_qubits), complex128, little-endian like ``qiskit.quantum_info.Statevector``.
    """
    if not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ParameterError(f"reps must be a positive integer, got {reps!r}")
    phase = np.exp(1j * zz_phases(x, alpha=alpha, entanglement=entanglement))
    dim = phase.shape[1]
    n = int(np.log2(dim))
    hadamard = np.array([[1.0]])
    for _ in range(n):
        hadamard = np.kron(hadamard, np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2.0))
    state = phase / np.sqrt(dim)  # first layer: H|0> is the uniform state
    for _ in range(reps - 1):
        state = phase * (state @ hadamard)  # H is real and symmetric
    return state


def fidelity_kernel(
    psi_a: np.ndarray,
    psi_b: np.ndarray | None = None,
    *,
    block: int = 256,
    dtype: type = np.float64,
    workers: int | None = None,
) -> np.ndarray:
    """Gram matrix ``|<a_i|b_j>|^2`` of two sets of statevectors, shape (n_a, n_b).

    The complex overlap is computed as real matrix products of the stacked real and
    imaginary parts, in blocks of ``block`` x ``block`` events (small enough for the
    element-wise squares to stay in cache). For a training kernel (``psi_b`` None) only
    the blocks on and above the diagonal are computed and mirrored, which halves the
    work (the Gram matrix is symmetric; a syrk-like blocked upper triangle). Row blocks
    are spread over ``workers`` threads (default: the usable CPU cores), each with a
    single-threaded BLAS, which stays fast on a shared, busy machine.
    """
    stack_a = _stacked(np.asarray(psi_a), dtype)
    stack_b = stack_a if psi_b is None else _stacked(np.asarray(psi_b), dtype)
    n_a, n_b = len(stack_a[0]), len(stack_b[0])
    out = np.empty((n_a, n_b), dtype=np.float64)
    symmetric = psi_b is None

    def row_block(start: int) -> None:
        rows = slice(start, start + block)
        for col in range(start if symmetric else 0, n_b, block):
            cols = slice(col, col + block)
            target = out[rows, cols]
            _fidelity_block(stack_a[0][rows], stack_a[1][rows], stack_b[0][cols], target)
            if symmetric and col == start:
                target[...] = 0.5 * (target + target.T)  # diagonal block: exactly symmetric
            elif symmetric:
                out[cols, rows] = target.T

    starts = range(0, n_a, block)
    if n_a * n_b <= block * block:  # one block: a plain BLAS call
        row_block(0)
        return out
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    workers = min(workers or _usable_cores(), len(starts))
    with threadpool_limits(limits=1, user_api="blas"):  # many small products: threads here, not in BLAS
        if workers <= 1:
            for start in starts:
                row_block(start)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(row_block, starts))  # longest rows of the triangle first: balanced work
    return out


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _stacked(psi: np.ndarray, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """``([Re, Im], [-Im, Re])`` of the statevectors, each (n, 2 * dim), C-contiguous, in ``dtype``."""
    re, im = psi.real.astype(dtype), psi.imag.astype(dtype)
    return np.concatenate([re, im], axis=1), np.concatenate([-im, re], axis=1)


def _fidelity_block(left_re: np.ndarray, left_im: np.ndarray, right: np.ndarray, out: np.ndarray) -> None:
    """``out = |<a|b>|^2`` with ``Re = [ar, ai] . [br, bi]`` and ``Im = [-ai, ar] . [br, bi]``."""
    re = left_re @ right.T
    im = left_im @ right.T
    np.square(re, out=re)
    np.square(im, out=im)
    np.add(re, im, out=out)


def exact_kernel(
    x_a: np.ndarray,
    x_b: np.ndarray | None = None,
    *,
    reps: int = 2,
    alpha: float = DEFAULT_ALPHA,
    entanglement: str | Sequence[Sequence[int]] = "full",
    dtype: type = np.float64,
) -> np.ndarray:
    """Exact fidelity kernel of the ZZ feature map, shape (n_a, n_b) (n_b = n_a when ``x_b`` is None).

    Equals qiskit-machine-learning's ``FidelityQuantumKernel(feature_map=zz_feature_map(n, reps,
    entanglement, alpha))`` up to rounding (about 1e-15 in float64); ``dtype=np.float32``
    trades precision (about 1e-6) for a ~8x faster matrix product.
    """
    settings = {"reps": reps, "alpha": alpha, "entanglement": entanglement}
    psi_a = zz_statevectors(x_a, **settings)
    psi_b = None if x_b is None else zz_statevectors(x_b, **settings)
    if psi_b is not None and psi_b.shape[1] != psi_a.shape[1]:
        raise ParameterError(
            f"both event sets need the same number of features (qubits): {int(np.log2(psi_a.shape[1]))} "
            f"vs {int(np.log2(psi_b.shape[1]))}"
        )
    return fidelity_kernel(psi_a, psi_b, dtype=dtype)


def shot_kernel(
    x_a: np.ndarray,
    x_b: np.ndarray | None = None,
    *,
    shots: int = 1024,
    seed: int | np.random.Generator = 0,
    enforce_psd: bool = True,
    **settings,
) -> np.ndarray:
    """Fidelity kernel estimated with ``shots`` measurements per entry (compute-uncompute).

    The probability of reading all zeros after ``U(x_j)^dagger U(x_i)`` is the fidelity, so
    each entry is a binomial fraction ``k / shots`` with ``k ~ Binomial(shots, K_ij)``. For a
    training kernel (``x_b`` None) only the upper triangle is sampled, mirrored, and the
    diagonal is 1, as qiskit-machine-learning does (``evaluate_duplicates="off_diagonal"``).
    ``settings`` go to :func:`exact_kernel`.
    """
    if not isinstance(shots, (int, np.integer)) or shots < 1:
        raise ParameterError(
            f"shots must be a positive integer, got {shots!r}; use the exact kernel for infinite shots"
        )
    rng = np.random.default_rng(seed)
    exact = np.clip(exact_kernel(x_a, x_b, **settings), 0.0, 1.0)
    sampled = rng.binomial(shots, exact) / shots
    if x_b is None:
        upper = np.triu(sampled, 1)
        sampled = upper + upper.T
        np.fill_diagonal(sampled, 1.0)
        if enforce_psd:
            sampled = project_psd(sampled)
    return sampled


def project_psd(kernel: np.ndarray) -> np.ndarray:
    """Nearest positive semi-definite matrix (Frobenius norm): negative eigenvalues clipped to zero.

    A training kernel estimated from finite shots or on a noisy device is symmetric but
    in general indefinite, and an SVM on an indefinite Gram matrix has no well-defined
    optimum. This is the projection of qiskit-machine-learning's ``enforce_psd=True``
    (Higham, Linear Algebra Appl. 103 (1988) 103). Returns a new symmetric array.

    Raises
    ------
    ParameterError
        If ``kernel`` is not a square symmetric matrix.
    """
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or not np.allclose(kernel, kernel.T, atol=1e-10):
        raise ParameterError(
            f"only a square symmetric (training) kernel can be projected onto the PSD cone, got shape "
            f"{kernel.shape}{'' if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] else ' (not symmetric)'}; "
            "test kernels (n_test, n_train) need no projection"
        )
    values, vectors = np.linalg.eigh(0.5 * (kernel + kernel.T))
    projected = (vectors * np.clip(values, 0.0, None)) @ vectors.T
    return 0.5 * (projected + projected.T)


def kernel_target_alignment(kernel: np.ndarray, y: np.ndarray, *, centered: bool = True) -> float:
    """Kernel-target alignment ``<K, y y^T>_F / (||K||_F ||y y^T||_F)`` with labels mapped to +-1.

    With ``centered=True`` the kernel is centred in feature space first (Cortes et al.,
    JMLR 13 (2012) 795), which removes the trivial alignment of an all-ones kernel.
    Values near 0 mean the kernel ignores the labels; 1 is perfect.
    """
    kernel = np.asarray(kernel, dtype=float)
    y = np.asarray(y).ravel()
    if kernel.ndim != 2 or kernel.shape != (y.size, y.size):
        raise ParameterError(f"kernel must be square (n, n) matching {y.size} labels, got shape {kernel.shape}")
    target = np.where(y > 0, 1.0, -1.0)
    if centered:  # C K C with C = I - 11^T/n, in O(n^2): subtract row and column means, add the total mean
        kernel = kernel - kernel.mean(axis=1, keepdims=True) - kernel.mean(axis=0, keepdims=True) + kernel.mean()
    norm = np.linalg.norm(kernel) * y.size
    return float(target @ kernel @ target / norm) if norm > 1e-12 * y.size else 0.0
