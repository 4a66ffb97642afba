"""Origin Quantum devices through its SDK ``pyqpanda3``: the local simulator and, opt-in, cloud hardware.

The compute-uncompute circuit of the ZZ feature map is built as a ``pyqpanda3.core.QProg``
from the angles of :func:`~hepml_nb.qml.circuits.angle_matrix` (H, P and CNOT gates, the
uncompute half as ``QCircuit.dagger()``).

- ``origin-sim:ideal`` / ``origin-sim:noisy``: ``DensityMatrixSimulator`` without / with a
  ``NoiseModel`` (depolarising errors after every gate, :data:`ORIGIN_NOISE`)
  gives the outcome probabilities exactly; the readout error is applied per qubit, and
  shots are drawn from them with numpy's seeded generator (the SDK's own sampler has no
  seed), so a run is reproducible.
- ``origin:<chip>``: Origin Quantum cloud hardware (e.g. the Wukong chips of the Wuyuan
  line) through ``pyqpanda3.qcloud.QCloudService``, with the server's qubit mapping and
  circuit optimisation (``QCloudOptions``). The API key comes from ``$ORIGIN_QCLOUD_API_KEY``
  only, is passed to the SDK and never printed or recorded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml.circuits import circuit_depths, compute_uncompute_circuit
from hepml_nb.qml.devices import ORIGIN_TOKEN_ENV, Device, check_size, provider_error
from hepml_nb.qml.kernels import entangling_pairs

__all__ = [
    "SIMULATOR_MODES",
    "ORIGIN_NOISE",
    "MAX_CIRCUITS",
    "origin_token_status",
    "origin_program",
    "origin_noise_model",
    "OriginSimulator",
    "OriginCloud",
]

SIMULATOR_MODES = ("noisy", "ideal")
ORIGIN_NOISE = {"p1": 0.001, "p2": 0.015, "readout": (0.02, 0.05)}
"""Noise of ``origin-sim:noisy``: depolarising probability after each one-qubit gate (``p1``) and
each CNOT (``p2``), readout flips P(1|0), P(0|1). Illustrative values of the size Origin quotes
for its superconducting chips (one-qubit fidelity ~99.9 %, two-qubit ~98-99 %, readout ~95-98 %),
not a calibration of a particular chip."""
MAX_CIRCUITS = 200
"""Circuits per job on Origin Quantum's cloud chips."""
_SIM_QUBITS = 12  # the local density-matrix simulator: 4**n entries


def origin_token_status() -> str:
    """Where an Origin Quantum cloud API key would come from, without revealing it."""
    if os.environ.get(ORIGIN_TOKEN_ENV):
        return f"an Origin Quantum API key is set in ${ORIGIN_TOKEN_ENV} (not shown)"
    return f"no Origin Quantum API key: set ${ORIGIN_TOKEN_ENV} to use Origin cloud hardware"


def _feature_map(core, n_qubits: int, pairs: Sequence[tuple[int, int]], reps: int, theta, phi):
    circuit = core.QCircuit()
    for _ in range(reps):
        for q in range(n_qubits):
            circuit << core.H(q)
        for q in range(n_qubits):
            circuit << core.P(q, float(theta[q]))
        for k, (i, j) in enumerate(pairs):
            circuit << core.CNOT(i, j) << core.P(j, float(phi[k])) << core.CNOT(i, j)
    return circuit


def origin_program(
    row: np.ndarray, *, n_qubits: int, reps: int, pairs: Sequence[tuple[int, int]], measure: bool = True
):
    """``U(y)^dagger U(x)`` as a ``pyqpanda3`` ``QProg`` from one row of circuit angles (measured on all qubits)."""
    from pyqpanda3 import core

    n_pairs = len(pairs)
    x_part, y_part = row[: n_qubits + n_pairs], row[n_qubits + n_pairs :]
    prog = core.QProg()
    prog << _feature_map(core, n_qubits, pairs, reps, x_part[:n_qubits], x_part[n_qubits:])
    prog << _feature_map(core, n_qubits, pairs, reps, y_part[:n_qubits], y_part[n_qubits:]).dagger()
    if measure:
        prog << core.measure(list(range(n_qubits)), list(range(n_qubits)))
    return prog


def origin_noise_model(noise: dict[str, Any] = ORIGIN_NOISE):
    """A ``pyqpanda3`` ``NoiseModel``: depolarising ``p1`` after H and P, ``p2`` after CNOT."""
    from pyqpanda3 import core

    model = core.NoiseModel()
    model.add_all_qubit_quantum_error(core.depolarizing_error(float(noise["p2"])), core.GateType.CNOT)
    model.add_all_qubit_quantum_error(core.depolarizing_error(float(noise["p1"])), [core.GateType.H, core.GateType.P])
    return model


def _readout(probs: np.ndarray, n_qubits: int, flips: tuple[float, float]) -> np.ndarray:
    """Outcome probabilities after independent readout flips P(1|0), P(0|1) on every qubit."""
    p10, p01 = flips
    confusion = np.array([[1 - p10, p01], [p10, 1 - p01]])  # [measured, true]
    tensor = probs.reshape((2,) * n_qubits)
    for axis in range(n_qubits):
        tensor = np.moveaxis(np.tensordot(confusion, tensor, axes=([1], [axis])), 0, axis)
    return tensor.reshape(-1)


class _Job:
    """A finished local job: its ID and the counts per circuit."""

    def __init__(self, job_id: str, counts: list[dict[str, int]]):
        self._id, self.result_counts = job_id, counts

    def job_id(self) -> str:
        return self._id


class _OriginBase:
    def __init__(  # the adapters share IBM's signature; Origin's circuits are not transpiled here
        self,
        name: str,
        *,
        n_qubits: int,
        reps: int,
        entanglement: Any,
        optimization_level: int,  # noqa: ARG002
        seed: int,  # noqa: ARG002
    ):
        self.n_qubits, self.reps = n_qubits, reps
        self.pairs = entangling_pairs(n_qubits, entanglement)
        self.name = name

    def program(self, row: np.ndarray, measure: bool = True):
        return origin_program(row, n_qubits=self.n_qubits, reps=self.reps, pairs=self.pairs, measure=measure)

    def depths(self) -> dict[str, int]:
        """Depths of the logical circuit (the local simulator is all-to-all; the cloud maps it on the chip)."""
        circuit = compute_uncompute_circuit(self.n_qubits, reps=self.reps, entanglement=self.pairs)
        return circuit_depths(circuit.decompose())  # the same counting as for IBM devices


class OriginSimulator(_OriginBase):
    """Origin Quantum's local density-matrix simulator, ``origin-sim:noisy`` or ``origin-sim:ideal``."""

    def __init__(self, mode: str, **settings: Any):
        if mode not in SIMULATOR_MODES:
            raise ParameterError(
                f"unknown Origin simulator mode {mode!r}; choose one of: "
                f"{', '.join('origin-sim:' + m for m in SIMULATOR_MODES)}"
            )
        super().__init__(f"origin-sim:{mode}", **settings)
        check_size(self.name, _SIM_QUBITS, self.n_qubits)
        self.noise = ORIGIN_NOISE if mode == "noisy" else None
        self.model = None if self.noise is None else origin_noise_model(self.noise)  # built once
        self.jobs = 0

    def device(self) -> Device:
        return Device(self.name, "origin", False, _SIM_QUBITS, 100_000, self)

    def probabilities(self, row: np.ndarray) -> np.ndarray:
        """Outcome probabilities of one circuit (index: little-endian bits, qubit 0 lowest), readout included."""
        from pyqpanda3 import core

        simulator = core.DensityMatrixSimulator()
        prog = self.program(row, measure=False)
        if self.noise is None:
            simulator.run(prog)
            return np.clip(np.asarray(simulator.state_probs(), dtype=float), 0.0, None)
        simulator.run(prog, self.model)
        probs = np.clip(np.asarray(simulator.state_probs(), dtype=float), 0.0, None)
        return _readout(probs, self.n_qubits, tuple(self.noise["readout"]))

    def submit(self, values: np.ndarray, *, shots: int, seed: int) -> _Job:
        rng = np.random.default_rng([seed, self.jobs])
        self.jobs += 1
        counts = []
        for row in values:
            probs = self.probabilities(row)
            drawn = rng.multinomial(shots, probs / probs.sum())
            counts.append({str(k): int(v) for k, v in enumerate(drawn) if v})
        return _Job(f"local-{self.name}-{seed}-{self.jobs}", counts)

    def counts(self, job: _Job) -> list[dict[str, int]]:
        return job.result_counts

    def retrieve(self, job_id: str) -> list[dict[str, int]]:
        raise ParameterError(
            f"job {job_id} ran locally on {self.name} and cannot be retrieved; delete the record "
            "(or its unfinished batch) to run it again"
        )

    def properties(self) -> dict[str, Any]:
        return {
            "simulator": "pyqpanda3.core.DensityMatrixSimulator",
            "coupling": "all-to-all",
            "noise": None if self.noise is None else {**self.noise, "readout": list(self.noise["readout"])},
        }


def _service():
    """``QCloudService`` with the API key from the environment (never a parameter, never shown)."""
    from pyqpanda3 import qcloud

    key = os.environ.get(ORIGIN_TOKEN_ENV)
    if not key:
        raise ParameterError(f"{origin_token_status()}; the key is never a notebook parameter")
    try:
        return qcloud.QCloudService(key)
    except Exception as exc:  # noqa: BLE001 - never echo a message that might carry the key
        error = provider_error(exc, device="origin cloud", provider="origin")
        raise (
            error
            or ParameterError(
                f"could not connect to the Origin Quantum cloud ({type(exc).__name__}); "
                f"check ${ORIGIN_TOKEN_ENV} and the network"
            )
        ) from None


class OriginCloud(_OriginBase):
    """An Origin Quantum cloud chip, ``origin:<name>`` (e.g. ``origin:WK_C102_400``): real hardware, opt-in."""

    def __init__(self, chip: str, **settings: Any):
        super().__init__(f"origin:{chip}", **settings)
        self.service = _service()
        try:
            self.backend = self.service.backend(chip)
            self.chip = self.backend.chip_info()
            num_qubits = int(self.chip.qubits_num())
        except Exception as exc:  # noqa: BLE001
            error = provider_error(exc, device=self.name, provider="origin")
            raise (
                error
                or ParameterError(
                    f"could not open Origin Quantum backend {chip!r} ({type(exc).__name__}); check the name "
                    "(QCloudService(...).backends() lists them)"
                )
            ) from None
        check_size(self.name, num_qubits, self.n_qubits)
        self.num_qubits = num_qubits

    def device(self) -> Device:
        return Device(self.name, "origin", True, self.num_qubits, MAX_CIRCUITS, self)

    def submit(self, values: np.ndarray, *, shots: int, seed: int):  # noqa: ARG002 - the cloud takes no seed
        from pyqpanda3 import qcloud

        options = qcloud.QCloudOptions()
        options.set_mapping(True)
        options.set_optimization(True)
        options.set_amend(False)
        return self.backend.run([self.program(row) for row in values], int(shots), options)

    def counts(self, job) -> list[dict[str, int]]:
        return [{str(int(bits, 2)): int(n) for bits, n in counts.items()} for counts in job.result().get_counts_list()]

    def retrieve(self, job_id: str) -> list[dict[str, int]]:
        from pyqpanda3 import qcloud

        return self.counts(qcloud.QCloudJob(job_id))

    def properties(self) -> dict[str, Any]:
        info = self.chip
        snapshot: dict[str, Any] = {"chip_id": str(info.chip_id()), "num_qubits": int(info.qubits_num())}
        for key, getter in (
            ("available_qubits", "available_qubits"),
            ("basic_gates", "get_basic_gates"),
            ("topology", "get_chip_topology"),
        ):
            try:
                snapshot[key] = [list(v) if isinstance(v, (list, tuple)) else v for v in getattr(info, getter)()]
            except Exception:  # noqa: BLE001 - a snapshot field the SDK does not provide is left out
                pass
        return snapshot
