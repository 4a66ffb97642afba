"""Kernels from circuits: a noisy fake IBM device and, opt-in, real IBM Quantum hardware.

Each kernel entry is a compute-uncompute circuit ``U(y)^dagger U(x)`` measured in the
computational basis; the fraction of all-zero outcomes estimates ``|<psi(y)|psi(x)>|^2``
(Havlicek et al., arXiv:1804.11326). The circuit is transpiled once for the target
device with the data as circuit parameters, and all entries run as one parameter sweep
of a ``SamplerV2`` job. The same code serves a fake backend from
``qiskit_ibm_runtime.fake_provider`` (sampled locally by Aer with the device's coupling
map, basis gates and noise model) and a real backend from ``QiskitRuntimeService``
(sampled by ``qiskit_ibm_runtime.SamplerV2``).

The IBM token is never a parameter: it comes from ``$QISKIT_IBM_TOKEN`` or the account
saved with ``QiskitRuntimeService.save_account``, and it is never printed.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Sequence

import numpy as np

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.qml.kernels import entangling_pairs

__all__ = [
    "TOKEN_ENV", "compute_uncompute_circuit", "kernel_pairs", "circuit_estimate", "fake_backend",
    "device_kernel", "token_status", "ibm_backend", "hardware_kernel", "check_hardware_request",
]

TOKEN_ENV = "QISKIT_IBM_TOKEN"
_FAKE_EXAMPLES = "fake_lagos, fake_nairobi, fake_perth, fake_brisbane, fake_sherbrooke"


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


def compute_uncompute_circuit(n_qubits: int, *, reps: int = 2,
                              entanglement: str | Sequence[Sequence[int]] = "full"):
    """``U(x)`` of the ZZ feature map followed by ``U(y)^dagger``, measured on all qubits.

    Parameters: ``tx[i] = alpha x_i`` and ``px[k] = alpha (pi - x_i)(pi - x_j)`` for pair ``k``,
    and the same with ``y`` (see :func:`_angles`).
    """
    pairs = entangling_pairs(n_qubits, entanglement)
    circuit = _zz_layer_circuit(n_qubits, pairs, reps, "x")
    circuit.compose(_zz_layer_circuit(n_qubits, pairs, reps, "y").inverse(), inplace=True)
    circuit.measure_all()
    return circuit


def _angles(x: np.ndarray, tag: str, *, alpha: float, pairs: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    """Values of the circuit parameters of one side (``tag`` 'x' or 'y'), one row per event."""
    out = {f"t{tag}[{q}]": alpha * x[:, q] for q in range(x.shape[1])}
    out.update({f"p{tag}[{k}]": alpha * (np.pi - x[:, i]) * (np.pi - x[:, j]) for k, (i, j) in enumerate(pairs)})
    return out


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


def fake_backend(name: str = "fake_lagos", *, n_qubits: int = 6):
    """A fake IBM backend with its noise model, by name (``fake_lagos``, ``lagos`` or ``FakeLagosV2``).

    Raises
    ------
    ParameterError
        For an unknown name or a device with fewer than ``n_qubits`` qubits.
    """
    with needs_extra("qml"):
        from qiskit_ibm_runtime import fake_provider

    stem = name.removeprefix("fake:").removeprefix("fake_").removeprefix("Fake").removesuffix("V2")
    stem = stem[:1].upper() + stem[1:]
    cls = getattr(fake_provider, f"Fake{stem}V2", None) or getattr(fake_provider, f"Fake{stem}", None)
    if cls is None or not isinstance(cls, type):
        raise ParameterError(f"unknown fake backend {name!r}; choose e.g. one of: {_FAKE_EXAMPLES} "
                             "(any class of qiskit_ibm_runtime.fake_provider)")
    backend = cls()
    if backend.num_qubits < n_qubits:
        raise ParameterError(f"fake backend {name!r} has {backend.num_qubits} qubits, fewer than the {n_qubits} "
                             f"needed; choose a larger one, e.g. fake_lagos (7) or fake_brisbane (127)")
    return backend


def _parameter_values(circuit, x_a: np.ndarray, x_b: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], *,
                      alpha: float, entangled: list[tuple[int, int]]) -> np.ndarray:
    """Values for ``circuit.parameters`` for every kernel pair (rows)."""
    columns = _angles(x_a[pairs[0]], "x", alpha=alpha, pairs=entangled)
    columns.update(_angles(x_b[pairs[1]], "y", alpha=alpha, pairs=entangled))
    return np.stack([columns[p.name] for p in circuit.parameters], axis=1)


def device_kernel(x_a: np.ndarray, x_b: np.ndarray | None = None, *, backend: Any, shots: int = 1024,
                  seed: int = 0, optimization_level: int = 1, reps: int = 2, alpha: float = 2.0,
                  entanglement: str | Sequence[Sequence[int]] = "full") -> np.ndarray:
    """Fidelity kernel sampled on ``backend`` (a fake or real IBM backend), shape (n_a, n_b).

    One transpiled compute-uncompute circuit, one ``SamplerV2`` job with a parameter sweep
    over the :func:`kernel_pairs`. A training kernel (``x_b`` None) is mirrored from the
    upper triangle with a diagonal of 1, as qiskit-machine-learning does.
    """
    with needs_extra("qml"):
        from qiskit.transpiler import generate_preset_pass_manager

    x_a = np.asarray(x_a, dtype=float)
    other = x_a if x_b is None else np.asarray(x_b, dtype=float)
    circuit = compute_uncompute_circuit(x_a.shape[1], reps=reps, entanglement=entanglement)
    pm = generate_preset_pass_manager(optimization_level=optimization_level, backend=backend, seed_transpiler=seed)
    isa = pm.run(circuit.decompose())  # plain gates: the basis translator stalls on the composed form
    pairs = kernel_pairs(len(x_a), None if x_b is None else len(other))
    values = _parameter_values(isa, x_a, other, pairs, alpha=alpha,
                               entangled=entangling_pairs(x_a.shape[1], entanglement))
    bits = _sampler(backend, shots=shots, seed=seed).run([(isa, values)]).result()[0].data.meas
    zeros = np.all(bits.array == 0, axis=-1).sum(axis=-1) / bits.num_shots
    return _assemble(zeros, pairs, len(x_a), None if x_b is None else len(other))


def _is_fake(backend: Any) -> bool:
    with needs_extra("qml"):
        from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return isinstance(backend, FakeBackendV2)


def _sampler(backend: Any, *, shots: int, seed: int):
    """Sampler for ``backend``: Aer with the device noise model for a fake backend, IBM Runtime otherwise.

    (qiskit-ibm-runtime's local mode, ``SamplerV2(mode=fake_backend)``, runs the same Aer
    simulation but stalled in its job thread pool on the shared CI machines.)
    """
    if _is_fake(backend):
        with needs_extra("qml"):
            from qiskit_aer import AerSimulator
            from qiskit_aer.primitives import SamplerV2 as AerSampler

        simulator = AerSimulator.from_backend(backend, method="density_matrix", seed_simulator=int(seed))
        return AerSampler.from_backend(simulator, default_shots=int(shots), seed=int(seed))
    with needs_extra("qml"):
        from qiskit_ibm_runtime import SamplerV2

    with warnings.catch_warnings():  # SamplerV2 is deprecated for a client-side Sampler (0.50)
        warnings.simplefilter("ignore", DeprecationWarning)
        sampler = SamplerV2(mode=backend)
    sampler.options.default_shots = int(shots)
    return sampler


def _assemble(values: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], n_a: int, n_b: int | None) -> np.ndarray:
    kernel = np.zeros((n_a, n_a if n_b is None else n_b))
    kernel[pairs] = values
    if n_b is None:
        kernel = kernel + kernel.T
        np.fill_diagonal(kernel, 1.0)
    return kernel


def token_status() -> str:
    """Where an IBM Quantum credential would come from, without revealing it."""
    if os.environ.get(TOKEN_ENV):
        return f"an IBM Quantum token is set in ${TOKEN_ENV} (not shown)"
    try:
        with needs_extra("qml"):
            from qiskit_ibm_runtime import QiskitRuntimeService

        if QiskitRuntimeService.saved_accounts():
            return "a saved IBM Quantum account was found (QiskitRuntimeService.save_account)"
    except Exception:  # noqa: BLE001 - a broken account file means: no usable account
        pass
    return f"no IBM Quantum credential: set ${TOKEN_ENV} or save an account to use real hardware"


def ibm_backend(name: str, *, channel: str = "ibm_quantum_platform", instance: str | None = None):
    """A real IBM backend through ``QiskitRuntimeService``, token from the environment or saved account.

    Raises
    ------
    ParameterError
        If no credential is available or the service rejects it (the token is never shown).
    """
    with needs_extra("qml"):
        from qiskit_ibm_runtime import QiskitRuntimeService

    token = os.environ.get(TOKEN_ENV)
    try:
        if token:
            service = QiskitRuntimeService(channel=channel, token=token, instance=instance)
        else:
            service = QiskitRuntimeService(instance=instance)
        return service.backend(name)
    except Exception as exc:  # noqa: BLE001 - never echo a message that might carry the token
        del token
        raise ParameterError(
            f"could not open IBM backend {name!r} ({type(exc).__name__}); {token_status()}. Set "
            f"${TOKEN_ENV} or run QiskitRuntimeService.save_account(...) once, and check the backend name"
        ) from None


def hardware_kernel(x_a: np.ndarray, x_b: np.ndarray | None = None, *, backend: Any, shots: int = 1024,
                    confirm_hardware_submission: bool = False, seed: int = 0, **settings: Any) -> np.ndarray:
    """The device kernel on real hardware, after printing the cost and checking the confirmation.

    ``backend`` is an IBM backend name (opened with :func:`ibm_backend`) or a backend object;
    passing a fake backend object exercises exactly this path locally. Nothing is submitted
    unless ``confirm_hardware_submission`` is True.

    Raises
    ------
    ParameterError
        If the submission is not confirmed (after printing the estimate).
    """
    estimate = circuit_estimate(len(x_a), None if x_b is None else len(x_b), shots=shots)
    label = backend if isinstance(backend, str) else getattr(backend, "name", type(backend).__name__)
    print(f"hardware kernel on {label}: {estimate['circuits']} circuits x {shots} shots = "
          f"{estimate['total_shots']} shots in one job")
    if confirm_hardware_submission is not True:
        raise ParameterError(
            f"hardware submission not confirmed: {estimate['circuits']} circuits would be sent to {label}; "
            "set confirm_hardware_submission=True to submit (it uses your IBM Quantum time)"
        )
    device = ibm_backend(backend) if isinstance(backend, str) else backend
    return device_kernel(x_a, x_b, backend=device, shots=shots, seed=seed, **settings)


def check_hardware_request(backend: str | None, *, confirm_hardware_submission: bool, n_events: int,
                           shots: int) -> dict[str, int] | None:
    """Validate a hardware request up front: None skips hardware; otherwise confirmation is required.

    ``n_events`` are split half for training, half for testing. Returns the circuit estimate
    (training plus test kernel) or None when no backend is requested.

    Raises
    ------
    ParameterError
        If a backend is named but ``confirm_hardware_submission`` is not True.
    """
    if backend is None:
        return None
    half = n_events // 2
    train, test = circuit_estimate(half, shots=shots), circuit_estimate(half, half, shots=shots)
    total = {k: train[k] + test[k] for k in ("circuits", "total_shots")}
    print(f"hardware request: {total['circuits']} circuits x {shots} shots on {backend}")
    if confirm_hardware_submission is not True:
        raise ParameterError(
            f"hardware_backend={backend!r} needs confirm_hardware_submission=True: {total['circuits']} circuits "
            f"({total['total_shots']} shots) would be submitted; set it to True, or hardware_backend=None to skip"
        )
    return total
