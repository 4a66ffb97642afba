"""Circuit kernels on devices: one API for IBM (fake or real) and Origin Quantum (simulator or cloud).

A device is named by a string ``provider:name``:

- ``fake:<name>``: a fake IBM backend (``qiskit_ibm_runtime.fake_provider``) sampled locally
  by Aer with the device's coupling map, basis gates and noise model;
- ``ibm:<name>``: real IBM Quantum hardware through ``QiskitRuntimeService`` (opt-in);
- ``origin-sim:noisy`` / ``origin-sim:ideal``: Origin Quantum's local density-matrix
  simulator (``pyqpanda3.core.DensityMatrixSimulator``) with or without its noise model
  (:data:`ORIGIN_NOISE`);
- ``origin:<name>``: Origin Quantum cloud hardware (Wuyuan / Wukong chips) through
  ``pyqpanda3.qcloud.QCloudService`` (opt-in).

Every device turns a list of compute-uncompute circuits (one row of angles each, see
:func:`angle_matrix`) into counts per circuit. :func:`~hepml_nb.qml.records.run_circuits`
batches them into jobs within the device's limit, checkpoints job IDs and counts into a
record and resumes an interrupted run. Tokens are never parameters: IBM's comes from
``$QISKIT_IBM_TOKEN`` or the saved account, Origin's from ``$ORIGIN_QCLOUD_API_KEY``
(pyqpanda3 0.5 has no saved-account store); neither is ever printed or recorded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hepml_nb.core.errors import HepmlError, ParameterError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ORIGIN_TOKEN_ENV",
    "ORIGIN_NOISE",
    "DEVICE_KINDS",
    "HardwareError",
    "TokenError",
    "SessionClosedError",
    "BackendTooSmallError",
    "Device",
    "angle_matrix",
    "resolve_device",
    "origin_token_status",
    "transpiled_depths",
]

ORIGIN_TOKEN_ENV = "ORIGIN_QCLOUD_API_KEY"
DEVICE_KINDS = ("fake:<name>", "ibm:<name>", "origin-sim:noisy", "origin-sim:ideal", "origin:<name>")
ORIGIN_NOISE = {"p1": 0.001, "p2": 0.015, "readout": (0.02, 0.05)}
"""Noise of ``origin-sim:noisy``: depolarising probability after each one-qubit gate (``p1``) and
each CNOT (``p2``), readout flips P(1|0), P(0|1). Illustrative values of the size Origin quotes
for its superconducting chips (one-qubit fidelity ~99.9 %, two-qubit ~98-99 %, readout ~95-98 %),
not a calibration of a particular chip."""
_IBM_MAX_CIRCUITS = 10_000  # circuits (parameter sets) per SamplerV2 job
_ORIGIN_MAX_CIRCUITS = 200


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


def _split_name(name: str) -> tuple[str, str]:
    kind, sep, rest = name.partition(":")
    if not sep:  # bare names: fake_lagos, ibm_brisbane (the old notebook parameters)
        kind, rest = ("fake" if name.startswith("fake") else "ibm" if name.startswith("ibm_") else ""), name
    if kind not in ("fake", "ibm", "origin-sim", "origin") or not rest:
        raise ParameterError(
            f"unknown device {name!r} for the quantum kernel; choose one of: exact, shots, {', '.join(DEVICE_KINDS)}"
        )
    return kind, rest


def resolve_device(
    backend: Any,
    *,
    n_qubits: int,
    reps: int = 2,
    entanglement: str | Sequence[Sequence[int]] = "full",
    optimization_level: int = 1,
    seed: int = 0,
) -> Device:
    """A :class:`Device` from a name (``fake:fake_lagos``, ``origin-sim:noisy``, ...) or a qiskit backend.

    The compute-uncompute circuit is built (and for IBM devices transpiled) here, once per
    device and settings; the same ISA circuit serves the training and the test kernel.

    Raises
    ------
    ParameterError
        For an unknown device name.
    BackendTooSmallError
        If the device has fewer than ``n_qubits`` qubits.
    TokenError
        If a hardware provider rejects the credential (the token is never shown).
    """
    settings = {
        "n_qubits": n_qubits,
        "reps": reps,
        "entanglement": entanglement,
        "optimization_level": optimization_level,
        "seed": seed,
    }
    if isinstance(backend, Device):
        return backend
    if not isinstance(backend, str):
        from hepml_nb.qml.backends import IBMAdapter

        return IBMAdapter(backend, **settings).device()
    kind, rest = _split_name(backend)
    if kind in ("fake", "ibm"):
        from hepml_nb.qml import backends

        device = backends.fake_backend(rest, n_qubits=n_qubits) if kind == "fake" else backends.ibm_backend(rest)
        return backends.IBMAdapter(device, **settings).device()
    from hepml_nb.qml import origin

    if kind == "origin-sim":
        return origin.OriginSimulator(rest, **settings).device()
    return origin.OriginCloud(rest, **settings).device()


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
    env = "QISKIT_IBM_TOKEN" if provider == "ibm" else ORIGIN_TOKEN_ENV
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


def origin_token_status() -> str:
    """Where an Origin Quantum cloud API key would come from, without revealing it."""
    if os.environ.get(ORIGIN_TOKEN_ENV):
        return f"an Origin Quantum API key is set in ${ORIGIN_TOKEN_ENV} (not shown)"
    return f"no Origin Quantum API key: set ${ORIGIN_TOKEN_ENV} to use Origin cloud hardware"


def transpiled_depths(
    backend: Any,
    *,
    n_qubits: int,
    reps: int = 2,
    entanglements: Sequence[str] = ("linear", "full"),
    optimization_level: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Depth, two-qubit depth and two-qubit gate count of the transpiled compute-uncompute circuit.

    One row per entanglement; ``backend`` as in :func:`resolve_device`. On a sparse coupling
    map full entanglement needs SWAPs, so its transpiled circuit is much deeper than the
    linear chain's.
    """
    import pandas as pd

    rows = {
        ent: resolve_device(
            backend, n_qubits=n_qubits, reps=reps, entanglement=ent, optimization_level=optimization_level, seed=seed
        ).adapter.depths()
        for ent in entanglements
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("entanglement")
