"""IBM devices: fake backends by name, the adapter's batches and transpilation, the token kept out of sight."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import backends as bk
from hepml_nb.qml import ibm
from hepml_nb.qml.devices import IBM_TOKEN_ENV, BackendTooSmallError, TokenError

FAKE_TOKEN = "fake-token-4f2a9c0e-do-not-print"


@pytest.mark.parametrize(
    "name, error, match",
    [
        ("fake_nowhere", ParameterError, "unknown fake backend 'fake_nowhere'"),
        (
            "fake_manila",
            BackendTooSmallError,
            "'fake:fake_manila' has 5 qubits, fewer than the 6 .*choose a larger device",
        ),
    ],
)
def test_fake_backend_rejects_unknown_or_small_devices(name, error, match):
    with pytest.raises(error, match=match):
        ibm.fake_backend(name, n_qubits=6)


def test_ibm_adapter_batches_within_the_device_limit_and_transpiles_once(seed, monkeypatch):
    import qiskit.transpiler

    from hepml_nb.qml.records import DeviceRecord

    calls = []
    original = qiskit.transpiler.generate_preset_pass_manager
    monkeypatch.setattr(
        qiskit.transpiler, "generate_preset_pass_manager", lambda **kw: calls.append(kw) or original(**kw)
    )
    backend = ibm.fake_backend("fake_lagos")
    x = np.random.default_rng(seed).uniform(0, np.pi, (4, 6))
    device = bk.resolve_quantum_device(backend, n_qubits=6, entanglement="linear", seed=seed)
    record = DeviceRecord.in_memory(device)
    bk.device_kernel(
        x, backend=device, shots=32, seed=seed, entanglement="linear", record=record, max_circuits_per_job=4
    )
    bk.device_kernel(
        x[:2], x, backend=device, shots=32, seed=seed, entanglement="linear", record=record, max_circuits_per_job=4
    )
    batches = record.data["kernels"]["train"]["batches"]
    assert [(b["start"], b["stop"]) for b in batches] == [(0, 4), (4, 6)]  # 6 circuits in jobs of 4
    assert all(b["job_id"] and len(b["counts"]) == b["stop"] - b["start"] for b in batches)
    assert len(record.data["kernels"]["test"]["batches"]) == 2
    assert len(calls) <= 1  # one transpilation for both kernels (cached per backend and settings)


def test_ibm_backend_uses_env_token_and_never_shows_it(monkeypatch):
    seen = {}

    class FailingService:
        def __init__(self, **kwargs):
            seen.update(kwargs)
            raise RuntimeError(f"login refused for token {kwargs.get('token')}")

    import qiskit_ibm_runtime

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", FailingService)
    monkeypatch.setenv(IBM_TOKEN_ENV, FAKE_TOKEN)
    with pytest.raises(TokenError, match="ibm rejected the credential.*set \\$QISKIT_IBM_TOKEN") as info:
        ibm.ibm_backend("ibm_test")
    assert seen["token"] == FAKE_TOKEN
    assert FAKE_TOKEN not in str(info.value) and info.value.__cause__ is None


def test_token_status_reports_source_without_the_token(monkeypatch):
    monkeypatch.setenv(IBM_TOKEN_ENV, FAKE_TOKEN)
    status = ibm.token_status()
    assert IBM_TOKEN_ENV in status and FAKE_TOKEN not in status
