"""What every quantum device has in common: its name, the :class:`Device` it resolves to, and its errors.

A device is named by a string ``provider:name``:

- ``fake:<name>``: a fake IBM backend (``qiskit_ibm_runtime.fake_provider``) sampled locally
  by Aer with the device's coupling map, basis gates and noise model (:mod:`hepml_nb.qml.ibm`);
- ``ibm:<name>``: real IBM Quantum hardware through ``QiskitRuntimeService`` (opt-in);
- ``origin-sim:noisy`` / ``origin-sim:ideal``: Origin Quantum's local density-matrix
  simulator (``pyqpanda3.core.DensityMatrixSimulator``) with or without its noise model
  (:mod:`hepml_nb.qml.origin`);
- ``origin:<name>``: Origin Quantum cloud hardware (Wuyuan / Wukong chips) through
  ``pyqpanda3.qcloud.QCloudService`` (opt-in).

This is the base of the provider layer: the IBM and Origin adapters import it, and
:func:`~hepml_nb.qml.backends.resolve_quantum_device` turns a name into a :class:`Device` with
one of them. Every device turns a list of compute-uncompute circuits (one row of angles each,
see :func:`~hepml_nb.qml.circuits.angle_matrix`) into counts per circuit;
:func:`~hepml_nb.qml.records.run_circuits` batches them into jobs within the device's limit,
checkpoints job IDs and counts into a record and resumes an interrupted run. Tokens are never
parameters: IBM's comes from ``$QISKIT_IBM_TOKEN`` or the saved account, Origin's from
``$ORIGIN_QCLOUD_API_KEY`` (pyqpanda3 0.5 has no saved-account store); neither is ever printed
or recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hepml_nb.core.errors import HepmlError, ParameterError

__all__ = [
    "IBM_TOKEN_ENV",
    "ORIGIN_TOKEN_ENV",
    "DEVICE_KINDS",
    "HardwareError",
    "TokenError",
    "SessionClosedError",
    "BackendTooSmallError",
    "Device",
    "split_device_name",
    "check_size",
    "provider_error",
]

IBM_TOKEN_ENV = "QISKIT_IBM_TOKEN"
"""Environment variable with an IBM Quantum token (else the account saved with ``QiskitRuntimeService``)."""
ORIGIN_TOKEN_ENV = "ORIGIN_QCLOUD_API_KEY"
"""Environment variable with an Origin Quantum cloud API key (the only place it is read from)."""
DEVICE_KINDS = ("fake:<name>", "ibm:<name>", "origin-sim:noisy", "origin-sim:ideal", "origin:<name>")


class HardwareError(HepmlError, RuntimeError):
    """A device run failed for a reason the user can fix (credentials, session, device size)."""


class TokenError(HardwareError, ParameterError):
    """The provider rejected the credential (expired, revoked or wrong token)."""


class SessionClosedError(HardwareError):
    """The provider's session or job mode was closed while the run was still submitting."""


class BackendTooSmallError(HardwareError, ParameterError):
    """The device has fewer qubits than the feature map needs."""


@dataclass
class Device:
    """A resolved device: its name, provider, whether it is real hardware, and its adapter.

    ``submit(values, shots, seed)`` returns a job handle with ``job_id()``; ``counts(job)`` and
    ``retrieve(job_id)`` return one ``{outcome (int): count}`` dict per circuit.
    """

    name: str
    provider: str
    hardware: bool
    num_qubits: int
    max_circuits_per_job: int
    adapter: Any = field(repr=False)

    def properties(self) -> dict[str, Any]:
        """A JSON-able snapshot of the device (qubits, basis gates, errors, noise model)."""
        return self.adapter.properties()


def split_device_name(name: str) -> tuple[str, str]:
    """``(provider, name)`` of a device name: ``"fake:fake_lagos"`` gives ``("fake", "fake_lagos")``.

    Bare names of the old notebook parameters are understood: ``fake_lagos`` is ``fake:fake_lagos``,
    ``ibm_brisbane`` is ``ibm:ibm_brisbane``.

    Raises
    ------
    ParameterError
        For an unknown provider or an empty name (the message lists the valid forms).
    """
    kind, sep, rest = name.partition(":")
    if not sep:  # bare names: fake_lagos, ibm_brisbane (the old notebook parameters)
        kind, rest = ("fake" if name.startswith("fake") else "ibm" if name.startswith("ibm_") else ""), name
    if kind not in ("fake", "ibm", "origin-sim", "origin") or not rest:
        raise ParameterError(
            f"unknown device {name!r} for the quantum kernel; choose one of: exact, shots, {', '.join(DEVICE_KINDS)}"
        )
    return kind, rest


def check_size(name: str, num_qubits: int, n_qubits: int) -> None:
    """Raise :class:`BackendTooSmallError` if a device cannot hold ``n_qubits`` qubits."""
    if num_qubits < n_qubits:
        raise BackendTooSmallError(
            f"device {name!r} has {num_qubits} qubits, fewer than the {n_qubits} the feature map needs; "
            "choose a larger device (e.g. fake:fake_lagos with 7, fake:fake_brisbane with 127) or fewer qubits"
        )


def provider_error(exc: BaseException, *, device: str, provider: str) -> HardwareError | None:
    """Translate a provider exception into a clear :class:`HardwareError`, or None if unknown.

    The message names the problem and the fix; the provider's own text is not repeated
    (it might carry the token).
    """
    text = f"{type(exc).__name__} {exc}".lower()
    env = IBM_TOKEN_ENV if provider == "ibm" else ORIGIN_TOKEN_ENV
    if any(
        word in text
        for word in (
            "401",
            "403",
            "unauthori",
            "notauthori",
            "expired token",
            "token expired",
            "invalid token",
            "api key",
            "apikey",
            "authenticat",
            "login",
        )
    ):
        return TokenError(
            f"{provider} rejected the credential while running on {device!r} ({type(exc).__name__}): the token "
            f"is expired, revoked or wrong. Create a new one in the provider's dashboard and set ${env} "
            "(or save the account again); the run resumes from its record"
        )
    if "session" in text and any(word in text for word in ("closed", "not active", "inactive", "expired")):
        return SessionClosedError(
            f"the {provider} session on {device!r} was closed before all jobs were submitted "
            f"({type(exc).__name__}); open a new session (or run without one) and run again with the same "
            "record: finished jobs are taken from it, only the missing ones are submitted"
        )
    return None
