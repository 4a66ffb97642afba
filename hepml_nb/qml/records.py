"""Device runs recorded as JSON and replayed offline (bit for bit on the recording machine).

A record holds everything a device kernel was computed from: the device name and a
snapshot of its properties, the transpiled circuit's depths, the feature-map settings
and shots, the angles of every circuit, the job IDs (written as soon as a job is
submitted) and the counts per circuit (written as soon as a job returns), timestamps and
software versions, plus the encoded features and labels of the study. The file is
rewritten atomically after each step (:func:`hepml_nb.core.results.write_json_atomic`),
so an interrupted hardware run resumes from it: finished batches are kept, submitted
ones are fetched by job ID, only the missing ones are submitted (:func:`run_circuits`).

A record is written by :func:`~hepml_nb.qml.backends.record_device_run` (or by any device
kernel given one); :func:`replay` rebuilds the kernels and the AUC table from it without any
device, network or quantum SDK. Credentials are never part of a record.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.results import write_json_atomic
from hepml_nb.qml.circuits import kernel_from_counts, kernel_pairs
from hepml_nb.qml.classify import KernelRun, backend_table
from hepml_nb.qml.devices import Device, HardwareError, provider_error
from hepml_nb.qml.features import FeatureSet
from hepml_nb.qml.kernels import exact_kernel

__all__ = [
    "RECORD_FORMAT",
    "BUNDLED_RECORD",
    "DeviceRecord",
    "Replay",
    "run_circuits",
    "replay",
    "load_record",
]

RECORD_FORMAT = "hepml-nb qml device record v1"
BUNDLED_RECORD = Path(__file__).with_name("records") / "fake_lagos_small.json"
"""A small record made on the fake backend ``fake:fake_lagos`` (a noise model, not hardware), shipped for replay."""
_SOFTWARE = ("numpy", "scipy", "scikit-learn", "qiskit", "qiskit-aer", "qiskit-ibm-runtime", "pyqpanda3", "hepml-nb")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _software() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in _SOFTWARE:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


class DeviceRecord:
    """The JSON record of one device run, kept in memory and (with a path) on disk after every change."""

    def __init__(self, data: dict[str, Any], path: Path | None = None):
        self.data, self.path = data, path

    @classmethod
    def in_memory(cls, device: Device) -> DeviceRecord:
        """A record that is not written anywhere (a plain device kernel)."""
        return cls(_new_record(device, label=""), None)

    @classmethod
    def open(cls, path: Path | str, device: Device, *, settings: dict[str, Any], label: str = "") -> DeviceRecord:
        """Resume the record at ``path`` if it exists (same device and settings), else start a new one.

        Raises
        ------
        DataError
            If an existing record belongs to another device or other settings.
        """
        path = Path(path)
        if path.exists():
            data = load_record(path)
            if data["backend"]["name"] != device.name or data["settings"] != _jsonable(settings):
                raise DataError(
                    f"record {path} belongs to {data['backend']['name']} with settings {data['settings']}, not to "
                    f"{device.name} with {_jsonable(settings)}; give another path to start a new run"
                )
            return cls(data, path)
        data = _new_record(device, label=label)
        data["settings"] = _jsonable(settings)
        record = cls(data, path)
        record.save()
        return record

    def section(self, name: str, *, shape: tuple[int, int], values: np.ndarray, shots: int) -> dict[str, Any]:
        """The kernel section ``name`` ('train' or 'test'): circuit angles, batches with job IDs and counts.

        Raises
        ------
        DataError
            If a resumed section was made from other circuits (other events or shots).
        """
        sections = self.data.setdefault("kernels", {})
        angles = values.tolist()
        if name in sections:
            old = sections[name]
            if old["shape"] != list(shape) or old["shots"] != shots or old["parameters"] != angles:
                raise DataError(
                    f"the {name} kernel in the record was made from other circuits (events, settings "
                    f"or shots); give another record path to start a new run"
                )
            return old
        sections[name] = {
            "shape": list(shape),
            "symmetric": name == "train",
            "shots": int(shots),
            "parameters": angles,
            "batches": [],
        }
        return sections[name]

    def store_features(self, features: FeatureSet) -> None:
        """Keep the encoded features, labels and feature names of the study (what :func:`replay` needs)."""
        self.data["features"] = {
            "x_train": features.x_train.tolist(),
            "x_test": features.x_test.tolist(),
            "y_train": np.asarray(features.y_train).tolist(),
            "y_test": np.asarray(features.y_test).tolist(),
            "names": list(features.names),
        }

    def store_results(self, table: pd.DataFrame) -> None:
        """Keep the backend table of the run (one JSON row per backend, the index as ``backend``)."""
        self.data["results"] = _jsonable(table.reset_index().to_dict(orient="records"))

    def save(self) -> None:
        """Write the record atomically (no-op for an in-memory record)."""
        self.data["updated"] = _now()
        if self.path is not None:
            write_json_atomic(self.path, self.data)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def _new_record(device: Device, *, label: str) -> dict[str, Any]:
    return {
        "format": RECORD_FORMAT,
        "label": label,
        "created": _now(),
        "updated": _now(),
        "software": _software(),
        "backend": {
            "name": device.name,
            "provider": device.provider,
            "hardware": device.hardware,
            "num_qubits": device.num_qubits,
            "max_circuits_per_job": device.max_circuits_per_job,
            "properties": device.properties(),
            "transpiled": device.adapter.depths(),
        },
        "settings": {},
        "kernels": {},
    }


def run_circuits(
    device: Device,
    values: np.ndarray,
    *,
    shots: int,
    seed: int,
    section: dict[str, Any],
    save: Callable[[], None],
    max_circuits_per_job: int | None = None,
) -> list[dict[str, int]]:
    """Counts per circuit for the rows of ``values``, in jobs of at most ``max_circuits_per_job`` circuits.

    Each job's ID is written to ``section`` (and saved) as soon as it is submitted, its counts
    as soon as it returns. Batches already in ``section`` are not submitted again: finished
    ones are reused, submitted ones are fetched by job ID.

    Raises
    ------
    ParameterError
        For a non-positive ``max_circuits_per_job``.
    HardwareError
        When the provider rejects the token or the session is closed (translated; the run can resume).
    """
    size = int(max_circuits_per_job or device.max_circuits_per_job)
    if size < 1:
        raise ParameterError(f"max_circuits_per_job must be a positive integer, got {max_circuits_per_job!r}")
    batches, counts = section["batches"], []
    for index, start in enumerate(range(0, len(values), size)):
        if index < len(batches) and batches[index].get("counts") is not None:
            counts += batches[index]["counts"]
            continue
        entry = batches[index] if index < len(batches) else None
        try:
            if entry is not None and entry.get("job_id"):
                result = device.adapter.retrieve(entry["job_id"])
            else:
                job = device.adapter.submit(values[start : start + size], shots=shots, seed=seed + index)
                entry = {
                    "start": start,
                    "stop": min(start + size, len(values)),
                    "job_id": str(job.job_id()),
                    "submitted": _now(),
                    "counts": None,
                }
                batches[index : index + 1] = [entry]
                save()
                result = device.adapter.counts(job)
        except HardwareError:
            raise
        except Exception as exc:  # translate what the user can fix, keep the rest (re-raised below)
            error = provider_error(exc, device=device.name, provider=device.provider)
            if error is None:
                raise
            raise error from None
        entry.update(counts=result, completed=_now())
        save()
        counts += result
    return counts


class Replay(NamedTuple):
    """Kernels (exact and device) and the backend table rebuilt from a record, and the record itself."""

    runs: dict[str, KernelRun]
    table: pd.DataFrame
    features: FeatureSet
    record: dict[str, Any]


def load_record(path: Path | str = BUNDLED_RECORD) -> dict[str, Any]:
    """Read a device record (default: the bundled fake-backend record).

    Raises
    ------
    DataError
        If the file is missing, not JSON or not a device record.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(
            f"cannot read device record {path} ({type(exc).__name__}); give the path of a JSON record "
            "written by qml.record_device_run"
        ) from None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise DataError(
            f"{path} is not a device record (format {data.get('format') if isinstance(data, dict) else None!r}, "
            f"expected {RECORD_FORMAT!r})"
        )
    return data


def replay(path: Path | str = BUNDLED_RECORD, *, n_boot: int = 200) -> Replay:
    """Rebuild the kernels and the AUC table of a recorded device run, offline.

    The device kernels come from the recorded counts (fraction of all-zero outcomes, the
    training kernel mirrored and projected onto the PSD cone as in the run), the exact
    kernel from the recorded features; the table is :func:`~hepml_nb.qml.classify.backend_table`
    with the run's seed. No quantum SDK, device or network is used. On the machine that
    recorded the run the replay is bit for bit; another BLAS may round the floating-point
    sums differently (seen: the kernel's RMS in the 17th digit).

    Raises
    ------
    DataError
        If the record is incomplete (an interrupted run: resume it with record_device_run).
    """
    data = load_record(path)
    feats, settings = data.get("features"), data["settings"]
    kernels = data.get("kernels", {})
    unfinished = [
        name
        for name in ("train", "test")
        if name not in kernels or any(b.get("counts") is None for b in kernels[name]["batches"])
    ]
    if feats is None or unfinished:
        raise DataError(
            f"record {path} is incomplete (missing: {', '.join(unfinished) or 'features'}); resume the "
            "run with qml.record_device_run(..., path=the same record)"
        )
    fs = FeatureSet(
        np.array(feats["x_train"]),
        np.array(feats["x_test"]),
        np.array(feats["y_train"]),
        np.array(feats["y_test"]),
        tuple(feats["names"]),
    )
    device_kernels = {}
    for name, n_b in (("train", None), ("test", len(fs.x_train))):
        section = kernels[name]
        counts = [c for batch in section["batches"] for c in batch["counts"]]
        n_a = section["shape"][0]
        device_kernels[name] = kernel_from_counts(
            counts,
            kernel_pairs(n_a, n_b),
            n_a,
            n_b,
            shots=section["shots"],
            enforce_psd=settings.get("enforce_psd", True),
        )
    ks = {k: settings[k] for k in ("reps", "alpha", "entanglement")}
    seconds = data.get("seconds", {})
    runs = {
        "exact": KernelRun(
            exact_kernel(fs.x_train, **ks),
            exact_kernel(fs.x_test, fs.x_train, **ks),
            float(seconds.get("exact", float("nan"))),
        ),
        data["backend"]["name"]: KernelRun(
            device_kernels["train"], device_kernels["test"], float(seconds.get("device", float("nan")))
        ),
    }
    return Replay(runs, backend_table(runs, fs, n_boot=n_boot, seed=int(settings["seed"])), fs, data)
