"""Quantum kernels on devices: a device resolved by name, the device kernel, the hardware guard, recorded runs.

Each kernel entry is a compute-uncompute circuit (:mod:`hepml_nb.qml.circuits`) run on a
device: a fake IBM backend or real IBM hardware (:mod:`hepml_nb.qml.ibm`), Origin Quantum's
simulator or cloud chips (:mod:`hepml_nb.qml.origin`), named as in :mod:`hepml_nb.qml.devices`
and resolved by :func:`resolve_quantum_device`. The circuit is built (for IBM devices
transpiled) once per device and settings, and all entries run as one parameter sweep, in
jobs within the device's limit, checkpointed into a record (:mod:`hepml_nb.qml.records`) so
that an interrupted run resumes. Real hardware is used only when a submission is confirmed,
after the number of circuits and shots has been printed (:func:`hardware_kernel`,
:func:`check_hardware_request`); :func:`record_device_run` keeps a whole device study in a
record that :func:`~hepml_nb.qml.records.replay` rebuilds offline.

The top of the provider layer: it imports the adapters and the records, and only the study
layer (:mod:`hepml_nb.qml.study`) imports it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml.circuits import angle_matrix, circuit_estimate, kernel_from_counts, kernel_pairs
from hepml_nb.qml.classify import KernelRun, backend_table
from hepml_nb.qml.devices import Device, split_device_name
from hepml_nb.qml.features import FeatureSet
from hepml_nb.qml.ibm import IBMAdapter, fake_backend, ibm_backend
from hepml_nb.qml.kernels import DEFAULT_ALPHA, entangling_pairs, exact_kernel
from hepml_nb.qml.origin import OriginCloud, OriginSimulator
from hepml_nb.qml.records import DeviceRecord, run_circuits

__all__ = [
    "resolve_quantum_device",
    "transpiled_depths",
    "device_kernel",
    "hardware_kernel",
    "announce_hardware",
    "check_hardware_request",
    "record_device_run",
]


def resolve_quantum_device(
    backend: Any,
    *,
    n_qubits: int,
    reps: int = 2,
    entanglement: str | Sequence[Sequence[int]] = "full",
    optimization_level: int = 1,
    seed: int = 0,
) -> Device:
    """A quantum :class:`~hepml_nb.qml.devices.Device` from a name (``fake:fake_lagos``, ``origin-sim:noisy``, ...)
    or a qiskit backend (a resolved Device is returned as it is).

    The compute-uncompute circuit is built (and for IBM devices transpiled) here, once per
    device and settings; the same ISA circuit serves the training and the test kernel. (Not to be
    confused with :func:`hepml_nb.resolve_device`, which picks the torch device: cpu or cuda.)

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
        return IBMAdapter(backend, **settings).device()
    kind, rest = split_device_name(backend)
    if kind in ("fake", "ibm"):
        device = fake_backend(rest, n_qubits=n_qubits) if kind == "fake" else ibm_backend(rest)
        return IBMAdapter(device, **settings).device()
    if kind == "origin-sim":
        return OriginSimulator(rest, **settings).device()
    return OriginCloud(rest, **settings).device()


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

    One row per entanglement; ``backend`` as in :func:`resolve_quantum_device`. On a sparse coupling
    map full entanglement needs SWAPs, so its transpiled circuit is much deeper than the
    linear chain's.
    """
    rows = {
        ent: resolve_quantum_device(
            backend, n_qubits=n_qubits, reps=reps, entanglement=ent, optimization_level=optimization_level, seed=seed
        ).adapter.depths()
        for ent in entanglements
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("entanglement")


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
    record: DeviceRecord | None = None,
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
    x_a = np.asarray(x_a, dtype=float)
    other = x_a if x_b is None else np.asarray(x_b, dtype=float)
    device = resolve_quantum_device(
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
    split_device_name(backend)  # an unknown device name fails here, before any work
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


def record_device_run(
    features: FeatureSet,
    *,
    backend: Any,
    path: Path | str,
    shots: int = 1024,
    seed: int = 0,
    reps: int = 2,
    alpha: float = DEFAULT_ALPHA,
    entanglement: str | Sequence = "full",
    optimization_level: int = 1,
    label: str = "",
    confirm_hardware_submission: bool = False,
    max_circuits_per_job: int | None = None,
) -> KernelRun:
    """Training and test kernels of ``features`` on a device, recorded at ``path`` (resumed if it exists).

    The record also keeps the encoded features, labels and the exact kernel's time, so
    that :func:`~hepml_nb.qml.records.replay` can rebuild the whole backend table offline. Returns the device's
    :class:`~hepml_nb.qml.classify.KernelRun`.
    """
    settings = {"reps": reps, "alpha": alpha, "entanglement": entanglement}
    device = resolve_quantum_device(
        backend,
        n_qubits=features.x_train.shape[1],
        reps=reps,
        entanglement=entanglement,
        optimization_level=optimization_level,
        seed=seed,
    )
    if device.hardware:
        n_train, n_test = len(features.x_train), len(features.x_test)
        train, test = circuit_estimate(n_train, shots=shots), circuit_estimate(n_test, n_train, shots=shots)
        announce_hardware(
            device.name,
            {k: train[k] + test[k] for k in ("circuits", "total_shots")},
            shots=shots,
            confirm_hardware_submission=confirm_hardware_submission,
            max_circuits_per_job=max_circuits_per_job,
        )
    record = DeviceRecord.open(
        path,
        device,
        label=label,
        settings={
            **settings,
            "shots": shots,
            "seed": seed,
            "optimization_level": optimization_level,
            "enforce_psd": True,
        },
    )
    record.store_features(features)
    start = time.perf_counter()
    exact = KernelRun(
        exact_kernel(features.x_train, **settings), exact_kernel(features.x_test, features.x_train, **settings), 0.0
    )
    seconds = record.data.setdefault("seconds", {})
    seconds.setdefault("exact", time.perf_counter() - start)  # a resumed run keeps the first run's times
    options = dict(
        backend=device,
        shots=shots,
        seed=seed,
        confirm_hardware_submission=confirm_hardware_submission,
        record=record,
        max_circuits_per_job=max_circuits_per_job,
        **settings,
    )
    start = time.perf_counter()
    k_train = device_kernel(features.x_train, **options)
    k_test = device_kernel(features.x_test, features.x_train, **options)
    seconds.setdefault("device", time.perf_counter() - start)
    run = KernelRun(k_train, k_test, seconds["device"])
    table = backend_table({"exact": exact._replace(seconds=seconds["exact"]), device.name: run}, features, seed=seed)
    record.store_results(table)
    record.save()
    return run
