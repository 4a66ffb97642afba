"""IBM Quantum devices: fake backends with their noise models and, opt-in, real hardware.

One adapter, :class:`IBMAdapter`, serves a fake backend from ``qiskit_ibm_runtime.fake_provider``
(sampled locally by Aer with the device's coupling map, basis gates and noise model) and a real
backend from ``QiskitRuntimeService`` (sampled by ``qiskit_ibm_runtime.SamplerV2``): the
compute-uncompute circuit of :mod:`hepml_nb.qml.circuits` is transpiled once for the device with
the data as circuit parameters, and each job is one parameter sweep of it.

The IBM token is never a parameter: it comes from ``$QISKIT_IBM_TOKEN`` or the account
saved with ``QiskitRuntimeService.save_account``, and it is never printed.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.qml.circuits import circuit_depths, compute_uncompute_circuit, parameter_order
from hepml_nb.qml.devices import IBM_TOKEN_ENV, Device, check_size, provider_error
from hepml_nb.qml.kernels import entangling_pairs

__all__ = ["MAX_CIRCUITS", "fake_backend", "ibm_backend", "token_status", "IBMAdapter"]

MAX_CIRCUITS = 10_000
"""Circuits (parameter sets) per ``SamplerV2`` job at most; a backend's own ``max_circuits`` may be lower."""
_FAKE_EXAMPLES = "fake_lagos, fake_nairobi, fake_perth, fake_brisbane, fake_sherbrooke"


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


class IBMAdapter:
    """Fake or real IBM backend: the ISA circuit transpiled once, SamplerV2 jobs, counts per circuit."""

    def __init__(
        self, backend: Any, *, n_qubits: int, reps: int, entanglement: Any, optimization_level: int, seed: int
    ):
        self.backend, self.fake = backend, _is_fake(backend)
        self.name = f"{'fake' if self.fake else 'ibm'}:{backend.name}"
        check_size(self.name, backend.num_qubits, n_qubits)
        self.isa = _isa_circuit(backend, n_qubits, reps, entanglement, optimization_level, seed)
        self.order = parameter_order(self.isa, n_qubits, len(entangling_pairs(n_qubits, entanglement)))

    def device(self) -> Device:
        limit = min(int(getattr(self.backend, "max_circuits", None) or MAX_CIRCUITS), MAX_CIRCUITS)
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
        return circuit_depths(self.isa)

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


def token_status() -> str:
    """Where an IBM Quantum credential would come from, without revealing it."""
    if os.environ.get(IBM_TOKEN_ENV):
        return f"an IBM Quantum token is set in ${IBM_TOKEN_ENV} (not shown)"
    try:
        with needs_extra("qml"):
            from qiskit_ibm_runtime import QiskitRuntimeService

        if QiskitRuntimeService.saved_accounts():
            return "a saved IBM Quantum account was found (QiskitRuntimeService.save_account)"
    except Exception:  # noqa: BLE001 - a broken account file means: no usable account
        pass
    return f"no IBM Quantum credential: set ${IBM_TOKEN_ENV} or save an account to use real hardware"


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

    token = os.environ.get(IBM_TOKEN_ENV)
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
            f"${IBM_TOKEN_ENV} or run QiskitRuntimeService.save_account(...) once, and check the backend name"
        ) from None
