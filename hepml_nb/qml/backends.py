"""Kernels from circuits: the device kernel, fake IBM devices and, opt-in, real IBM Quantum hardware.

Each kernel entry is a compute-uncompute circuit ``U(y)^dagger U(x)`` measured in the
computational basis; the fraction of all-zero outcomes estimates ``|<psi(y)|psi(x)>|^2``
(Havlicek et al., arXiv:1804.11326). The circuit is transpiled once for the target
device with the data as circuit parameters, and all entries run as one parameter sweep
of ``SamplerV2`` jobs (batched within the device's limit, see
:mod:`hepml_nb.qml.records`). Origin Quantum devices run the same circuits through
:mod:`hepml_nb.qml.origin`; :func:`device_kernel` takes any device name of
:mod:`hepml_nb.qml.devices`. The same code serves a fake backend from
``qiskit_ibm_runtime.fake_provider`` (sampled locally by Aer with the device's coupling
map, basis gates and noise model) and a real backend from ``QiskitRuntimeService``
(sampled by ``qiskit_ibm_runtime.SamplerV2``).

The IBM token is never a parameter: it comes from ``$QISKIT_IBM_TOKEN`` or the account
saved with ``QiskitRuntimeService.save_account``, and it is never printed.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.qml.devices import (
    _IBM_MAX_CIRCUITS,
    Device,
    _split_name,
    angle_matrix,
    check_size,
    provider_error,
    resolve_device,
)
from hepml_nb.qml.kernels import DEFAULT_ALPHA, entangling_pairs, project_psd

__all__ = [
    "TOKEN_ENV",
    "compute_uncompute_circuit",
    "kernel_pairs",
    "circuit_estimate",
    "fake_backend",
    "device_kernel",
    "token_status",
    "ibm_backend",
    "hardware_kernel",
    "check_hardware_request",
    "announce_hardware",
    "kernel_from_counts",
    "IBMAdapter",
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


def compute_uncompute_circuit(n_qubits: int, *, reps: int = 2, entanglement: str | Sequence[Sequence[int]] = "full"):
    """``U(x)`` of the ZZ feature map followed by ``U(y)^dagger``, measured on all qubits.

    Parameters: ``tx[i] = alpha x_i`` and ``px[k] = alpha (pi - x_i)(pi - x_j)`` for pair ``k``,
    and the same with ``y`` (see :func:`~hepml_nb.qml.devices.angle_matrix`).
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


def fake_backend(name: str = "fake_lagos", *, n_qubits: int = 6):
    """A fake IBM backend with its noise model, by name (``fake_lagos``, ``lagos`` or ``FakeLagosV2``).

    Raises
    ------
    ParameterError
        For an unknown name.
    BackendTooSmallError
        For a device with fewer than ``n_qubits`` qubits (a ParameterError too).
    """
    with needs_extra("qml"):
        from qiskit_ibm_runtime import fake_provider

    stem = name.removeprefix("fake:").removeprefix("fake_").removeprefix("Fake").removesuffix("V2")
    stem = stem[:1].upper() + stem[1:]
    cls = getattr(fake_provider, f"Fake{stem}V2", None) or getattr(fake_provider, f"Fake{stem}", None)
    if cls is None or not isinstance(cls, type):
        raise ParameterError(
            f"unknown fake backend {name!r}; choose e.g. one of: {_FAKE_EXAMPLES} "
            "(any class of qiskit_ibm_runtime.fake_provider)"
        )
    backend = cls()
    check_size(f"fake:{backend.name}", backend.num_qubits, n_qubits)
    return backend


def _parameter_values(
    circuit,
    x_a: np.ndarray,
    x_b: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    *,
    alpha: float,
    entangled: list[tuple[int, int]],
) -> np.ndarray:
    """Values for ``circuit.parameters`` for every kernel pair (rows)."""
    return angle_matrix(x_a, x_b, pairs, alpha=alpha, entangled=entangled)[
        :, _column_order(circuit, x_a.shape[1], len(entangled))
    ]


def _column_order(circuit, n_qubits: int, n_pairs: int) -> np.ndarray:
    """Columns of :func:`~hepml_nb.qml.devices.angle_matrix` in the order of ``circuit.parameters``."""
    names = [f"{kind}{tag}[{k}]" for tag in "xy" for kind, n in (("t", n_qubits), ("p", n_pairs)) for k in range(n)]
    return np.array([names.index(p.name) for p in circuit.parameters], dtype=int)


def device_kernel(
    x_a: np.ndarray,
    x_b: np.ndarray | None = None,
    *,
    backend: Any,
    shots: int = 1024,
    seed: int = 0,
    optimization_level: int = 1,
    reps: int = 2,
    alpha: float = DEFAULT_ALPHA,
    entanglement: str | Sequence[Sequence[int]] = "full",
    enforce_psd: bool = True,
    confirm_hardware_submission: bool = False,
    record: Any = None,
    max_circuits_per_job: int | None = None,
) -> np.ndarray:
    """Fidelity kernel sampled on a device, shape (n_a, n_b) (n_b = n_a when ``x_b`` is None).

    Parameters
    ----------
    x_a, x_b : arrays (n, n_qubits)
        Encoded features; ``x_b`` None gives the training kernel: only the ``i < j`` pairs run,
        it is mirrored with a diagonal of 1 and (``enforce_psd``) projected onto the PSD cone.
    backend
        A device name (``fake:fake_lagos``, ``origin-sim:noisy``, ``ibm:<name>``,
        ``origin:<name>``; see :mod:`hepml_nb.qml.devices`), a qiskit backend or a resolved
        :class:`~hepml_nb.qml.devices.Device`.
    shots, seed, optimization_level
        Shots per circuit, seed of the transpiler and the simulators, transpiler level.
    reps, alpha, entanglement
        The ZZ feature map.
    confirm_hardware_submission
        Must be True for real hardware (use :func:`hardware_kernel`, which prints the cost first).
    record
        A :class:`~hepml_nb.qml.records.DeviceRecord`: circuits' angles, job IDs and counts are
        written to it as they come, and a rerun resumes from it.
    max_circuits_per_job
        Circuits per job (default: the device's limit).

    Raises
    ------
    ParameterError
        If real hardware is requested without confirmation.
    HardwareError
        For an expired token, a closed session or a device too small (see :mod:`hepml_nb.qml.devices`).
    """
    from hepml_nb.qml.records import DeviceRecord, run_circuits

    x_a = np.asarray(x_a, dtype=float)
    other = x_a if x_b is None else np.asarray(x_b, dtype=float)
    device = resolve_device(
        backend,
        n_qubits=x_a.shape[1],
        reps=reps,
        entanglement=entanglement,
        optimization_level=optimization_level,
        seed=seed,
    )
    if device.hardware and confirm_hardware_submission is not True:
        raise ParameterError(
            f"{device.name} is real hardware: call qml.hardware_kernel (it prints the circuits and "
            "shots first) with confirm_hardware_submission=True"
        )
    n_b = None if x_b is None else len(other)
    pairs = kernel_pairs(len(x_a), n_b)
    values = angle_matrix(x_a, other, pairs, alpha=alpha, entangled=entangling_pairs(x_a.shape[1], entanglement))
    record = record if record is not None else DeviceRecord.in_memory(device)
    section = record.section(
        "train" if x_b is None else "test", shape=(len(x_a), len(other)), values=values, shots=shots
    )
    counts = run_circuits(
        device,
        values,
        shots=shots,
        seed=seed,
        section=section,
        save=record.save,
        max_circuits_per_job=max_circuits_per_job,
    )
    return kernel_from_counts(counts, pairs, len(x_a), n_b, shots=shots, enforce_psd=enforce_psd)


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


class IBMAdapter:
    """Fake or real IBM backend: the ISA circuit transpiled once, SamplerV2 jobs, counts per circuit."""

    def __init__(
        self, backend: Any, *, n_qubits: int, reps: int, entanglement: Any, optimization_level: int, seed: int
    ):
        self.backend, self.fake = backend, _is_fake(backend)
        self.name = f"{'fake' if self.fake else 'ibm'}:{backend.name}"
        check_size(self.name, backend.num_qubits, n_qubits)
        self.isa = _isa_circuit(backend, n_qubits, reps, entanglement, optimization_level, seed)
        self.order = _column_order(self.isa, n_qubits, len(entangling_pairs(n_qubits, entanglement)))

    def device(self) -> Device:
        limit = min(int(getattr(self.backend, "max_circuits", None) or _IBM_MAX_CIRCUITS), _IBM_MAX_CIRCUITS)
        return Device(self.name, "ibm", not self.fake, self.backend.num_qubits, limit, self)

    def submit(self, values: np.ndarray, *, shots: int, seed: int):
        return _sampler(self.backend, shots=shots, seed=seed).run([(self.isa, values[:, self.order])])

    def counts(self, job) -> list[dict[str, int]]:
        bits = job.result()[0].data.meas
        return [{str(k): int(v) for k, v in sorted(bits[i].get_int_counts().items())} for i in range(bits.shape[0])]

    def retrieve(self, job_id: str) -> list[dict[str, int]]:
        if self.fake:
            raise ParameterError(
                f"job {job_id} ran locally on {self.name} and cannot be retrieved; delete the "
                "record (or its unfinished batch) to run it again"
            )
        from qiskit_ibm_runtime import QiskitRuntimeService

        return self.counts(QiskitRuntimeService().job(job_id))

    def depths(self) -> dict[str, int]:
        return _depths(self.isa)

    def properties(self) -> dict[str, Any]:
        return _ibm_snapshot(self.backend)


_ISA_CACHE: dict[tuple, Any] = {}


def _isa_circuit(backend: Any, n_qubits: int, reps: int, entanglement: Any, optimization_level: int, seed: int):
    """The transpiled compute-uncompute circuit, cached per backend and settings (transpiled once)."""
    from qiskit.transpiler import generate_preset_pass_manager

    key = (id(backend), backend.name, n_qubits, reps, str(entanglement), optimization_level, seed)
    if key not in _ISA_CACHE:
        circuit = compute_uncompute_circuit(n_qubits, reps=reps, entanglement=entanglement)
        pm = generate_preset_pass_manager(optimization_level=optimization_level, backend=backend, seed_transpiler=seed)
        _ISA_CACHE[key] = (backend, pm.run(circuit.decompose()))  # plain gates: the translator stalls otherwise
    return _ISA_CACHE[key][1]


def _depths(circuit) -> dict[str, int]:
    two = [inst for inst in circuit.data if inst.operation.num_qubits == 2]
    return {
        "depth": int(circuit.depth()),
        "two_qubit_depth": int(circuit.depth(lambda i: i.operation.num_qubits == 2)),
        "two_qubit_gates": len(two),
        "gates": int(sum(1 for i in circuit.data if i.operation.name != "barrier")),
    }


def _ibm_snapshot(backend: Any) -> dict[str, Any]:
    """Qubit count, basis gates, coupling map, T1/T2, readout and two-qubit gate errors of a backend."""
    target = backend.target
    qubits = [target.qubit_properties[q] if target.qubit_properties else None for q in range(backend.num_qubits)]
    errors = {}
    for name in target.operation_names:
        for qargs, props in (target[name] or {}).items():
            if (
                props is not None
                and props.error is not None
                and qargs is not None
                and (len(qargs) == 2 or name == "measure")
            ):
                errors.setdefault(name, {})[",".join(map(str, qargs))] = float(props.error)
    return {
        "backend_name": backend.name,
        "backend_version": str(getattr(backend, "backend_version", "")),
        "num_qubits": int(backend.num_qubits),
        "basis_gates": sorted(target.operation_names),
        "coupling_map": [list(e) for e in target.build_coupling_map().get_edges()]
        if target.build_coupling_map()
        else [],
        "t1_s": [getattr(q, "t1", None) for q in qubits],
        "t2_s": [getattr(q, "t2", None) for q in qubits],
        "errors": errors,
    }


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
    TokenError
        If the service rejects the credential (a ParameterError too; the token is never shown).
    ParameterError
        If no credential is available or the backend cannot be opened.
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
        error = provider_error(exc, device=f"ibm:{name}", provider="ibm")
        if error is not None:
            raise error from None
        raise ParameterError(
            f"could not open IBM backend {name!r} ({type(exc).__name__}); {token_status()}. Set "
            f"${TOKEN_ENV} or run QiskitRuntimeService.save_account(...) once, and check the backend name"
        ) from None


def hardware_kernel(
    x_a: np.ndarray,
    x_b: np.ndarray | None = None,
    *,
    backend: Any,
    shots: int = 1024,
    confirm_hardware_submission: bool = False,
    seed: int = 0,
    **settings: Any,
) -> np.ndarray:
    """The device kernel on real hardware, after printing the circuits and shots and checking the confirmation.

    ``backend`` is a hardware name (``ibm:<name>``, ``origin:<name>``, or a bare IBM name
    such as ``ibm_brisbane``) or a backend object; passing a fake backend object exercises
    exactly this path locally. Nothing is submitted unless ``confirm_hardware_submission``
    is True. ``settings`` go to :func:`device_kernel` (``record=`` makes the run resumable).

    Raises
    ------
    ParameterError
        If the submission is not confirmed (after printing the estimate).
    HardwareError
        For an expired token, a closed session or a device too small.
    """
    announce_hardware(
        backend,
        circuit_estimate(len(x_a), None if x_b is None else len(x_b), shots=shots),
        shots=shots,
        confirm_hardware_submission=confirm_hardware_submission,
        max_circuits_per_job=settings.get("max_circuits_per_job"),
    )
    return device_kernel(
        x_a, x_b, backend=backend, shots=shots, seed=seed, confirm_hardware_submission=True, **settings
    )


def announce_hardware(
    backend: Any,
    estimate: dict[str, int],
    *,
    shots: int,
    confirm_hardware_submission: bool,
    max_circuits_per_job: int | None = None,
) -> None:
    """Print the circuits and shots about to go to hardware; refuse unless the submission is confirmed.

    Raises
    ------
    ParameterError
        If ``confirm_hardware_submission`` is not True (nothing has been submitted).
    """
    label = backend if isinstance(backend, str) else getattr(backend, "name", type(backend).__name__)
    jobs = (
        f"in jobs of at most {max_circuits_per_job} circuits"
        if max_circuits_per_job
        else "in jobs within the device's limit"
    )
    print(
        f"hardware kernel on {label}: {estimate['circuits']} circuits x {shots} shots = "
        f"{estimate['total_shots']} shots {jobs}"
    )
    if confirm_hardware_submission is not True:
        raise ParameterError(
            f"hardware submission not confirmed: {estimate['circuits']} circuits would be sent to {label}; "
            "set confirm_hardware_submission=True to submit (it uses your quantum-computer time)"
        )


def check_hardware_request(
    backend: str | None, *, confirm_hardware_submission: bool, n_events: int, shots: int
) -> dict[str, int] | None:
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
    _split_name(backend)  # an unknown device name fails here, before any work
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
