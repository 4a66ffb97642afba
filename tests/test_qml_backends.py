"""Circuit kernels: the compute-uncompute circuit, the noisy fake device and the guarded hardware path."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import backends as bk
from hepml_nb.qml.devices import BackendTooSmallError, TokenError
from hepml_nb.qml.kernels import entangling_pairs, exact_kernel, project_psd

FAKE_TOKEN = "fake-token-4f2a9c0e-do-not-print"


@pytest.mark.parametrize("entanglement", ["linear", "full"])
def test_compute_uncompute_circuit_overlap_is_exact_fidelity(entanglement, seed):
    from qiskit.quantum_info import Statevector

    x = np.random.default_rng(seed).uniform(0, np.pi, (2, 4))
    circuit = bk.compute_uncompute_circuit(4, reps=2, entanglement=entanglement).remove_final_measurements(
        inplace=False
    )
    values = bk._parameter_values(
        circuit, x[:1], x[1:], (np.array([0]), np.array([0])), alpha=0.7, entangled=entangling_pairs(4, entanglement)
    )
    state = Statevector(circuit.assign_parameters(values[0]))
    expected = exact_kernel(x[:1], x[1:], alpha=0.7, entanglement=entanglement)[0, 0]
    assert abs(state.data[0]) ** 2 == pytest.approx(expected, abs=1e-12)


def test_circuit_estimate_counts_training_and_test_pairs():
    assert bk.circuit_estimate(50) == {"circuits": 1225, "shots_per_circuit": 1024, "total_shots": 1225 * 1024}
    assert bk.circuit_estimate(10, 20, shots=100)["circuits"] == 200
    i, j = bk.kernel_pairs(4)
    assert len(i) == 6 and np.all(i < j)


def test_device_kernel_on_fake_backend_tracks_exact_kernel(seed):
    x = np.random.default_rng(seed).uniform(0, np.pi, (6, 6))
    settings = dict(alpha=0.5, entanglement="linear")
    noisy = bk.device_kernel(x, backend=bk.fake_backend("fake_lagos"), shots=2048, seed=seed, **settings)
    exact = exact_kernel(x, **settings)
    assert np.allclose(np.diag(noisy), 1.0) and np.allclose(noisy, noisy.T)
    off = np.triu_indices(6, 1)
    assert np.corrcoef(noisy[off], exact[off])[0, 1] > 0.8  # noise shrinks but keeps the pattern
    assert np.sqrt(np.mean((noisy[off] - exact[off]) ** 2)) > 0.005  # ... and it is really noisy


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
        bk.fake_backend(name, n_qubits=6)


def test_hardware_kernel_refuses_without_confirmation_and_prints_estimate(capsys, monkeypatch):
    monkeypatch.setenv(bk.TOKEN_ENV, FAKE_TOKEN)
    x = np.zeros((4, 6))
    with pytest.raises(ParameterError, match="confirm_hardware_submission=True"):
        bk.hardware_kernel(x, backend="ibm_brisbane", shots=100)
    out = capsys.readouterr().out
    assert "6 circuits x 100 shots" in out and FAKE_TOKEN not in out


def test_hardware_kernel_runs_the_same_path_on_a_fake_backend(capsys, monkeypatch, seed):
    monkeypatch.setenv(bk.TOKEN_ENV, FAKE_TOKEN)
    rng = np.random.default_rng(seed)
    x, z = rng.uniform(0, np.pi, (4, 6)), rng.uniform(0, np.pi, (3, 6))
    kernel = bk.hardware_kernel(
        z,
        x,
        backend=bk.fake_backend("fake_lagos"),
        shots=256,
        confirm_hardware_submission=True,
        alpha=0.5,
        entanglement="linear",
    )
    assert kernel.shape == (3, 4) and np.all((kernel >= 0) & (kernel <= 1))
    out = capsys.readouterr().out
    assert "12 circuits x 256 shots" in out and FAKE_TOKEN not in out


def test_device_kernel_training_kernel_is_psd_and_refuses_unconfirmed_hardware(seed):
    x = np.random.default_rng(seed).uniform(0, np.pi, (8, 6))
    kernel = bk.device_kernel(x, backend="fake:fake_lagos", shots=64, seed=seed, entanglement="linear")
    assert np.array_equal(kernel, kernel.T) and np.linalg.eigvalsh(kernel).min() > -1e-10
    raw = bk.device_kernel(x, backend="fake:fake_lagos", shots=64, seed=seed, entanglement="linear", enforce_psd=False)
    assert np.allclose(np.diag(raw), 1.0) and np.allclose(project_psd(raw), kernel)
    with pytest.raises(ParameterError, match="ibm:ibm_kyiv is real hardware: call qml.hardware_kernel"):
        bk.device_kernel(x, backend=_StubIBM(), shots=10)


class _StubIBM:
    """A 'real' IBM backend (not a fake): the real-hardware code paths without a service."""

    def __init__(self, num_qubits=7, fail=None):
        from qiskit_ibm_runtime.fake_provider import FakeLagosV2

        self._fake, self.num_qubits, self.name, self.fail = FakeLagosV2(), num_qubits, "ibm_kyiv", fail
        self.target, self.max_circuits = self._fake.target, 3

    def __getattr__(self, name):
        return getattr(self._fake, name)


def test_hardware_kernel_session_closed_and_small_backend_are_clear_errors(monkeypatch, seed):
    from hepml_nb.qml.devices import SessionClosedError

    class ClosedSampler:
        def run(self, pubs):
            raise RuntimeError("The session is closed. Session ID abc")

    monkeypatch.setattr(bk, "_sampler", lambda backend, shots, seed: ClosedSampler())
    x = np.random.default_rng(seed).uniform(0, np.pi, (3, 6))
    with pytest.raises(
        SessionClosedError, match="session on 'ibm:ibm_kyiv' was closed.*run again with the same record"
    ):
        bk.hardware_kernel(x, backend=_StubIBM(), shots=10, confirm_hardware_submission=True)
    with pytest.raises(BackendTooSmallError, match="'ibm:ibm_kyiv' has 4 qubits, fewer than the 6"):
        bk.hardware_kernel(x, backend=_StubIBM(num_qubits=4), shots=10, confirm_hardware_submission=True)


def test_ibm_adapter_batches_within_the_device_limit_and_transpiles_once(seed, monkeypatch):
    import qiskit.transpiler

    from hepml_nb.qml import devices as dv
    from hepml_nb.qml.records import DeviceRecord

    calls = []
    original = qiskit.transpiler.generate_preset_pass_manager
    monkeypatch.setattr(
        qiskit.transpiler, "generate_preset_pass_manager", lambda **kw: calls.append(kw) or original(**kw)
    )
    backend = bk.fake_backend("fake_lagos")
    x = np.random.default_rng(seed).uniform(0, np.pi, (4, 6))
    device = dv.resolve_device(backend, n_qubits=6, entanglement="linear", seed=seed)
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
    monkeypatch.setenv(bk.TOKEN_ENV, FAKE_TOKEN)
    with pytest.raises(TokenError, match="ibm rejected the credential.*set \\$QISKIT_IBM_TOKEN") as info:
        bk.ibm_backend("ibm_test")
    assert seen["token"] == FAKE_TOKEN
    assert FAKE_TOKEN not in str(info.value) and info.value.__cause__ is None


def test_records_and_run_folders_never_contain_the_tokens(monkeypatch, tmp_path, seed):
    """With both providers' tokens in the environment, a recorded run writes neither of them."""
    from hepml_nb.qml import records
    from hepml_nb.qml.devices import ORIGIN_TOKEN_ENV
    from hepml_nb.qml.features import FeatureSet

    monkeypatch.setenv(bk.TOKEN_ENV, FAKE_TOKEN)
    monkeypatch.setenv(ORIGIN_TOKEN_ENV, FAKE_TOKEN + "-origin")
    rng = np.random.default_rng(seed)
    fs = FeatureSet(
        rng.uniform(0, np.pi, (4, 6)),
        rng.uniform(0, np.pi, (4, 6)),
        np.array([0, 1, 0, 1]),
        np.array([1, 0, 1, 0]),
        tuple("abcdef"),
    )
    for backend in ("fake:fake_lagos", "origin-sim:noisy"):
        records.record_device_run(
            fs,
            backend=backend,
            path=tmp_path / f"{backend.replace(':', '_')}.json",
            shots=16,
            seed=seed,
            entanglement="linear",
        )
    files = list(tmp_path.rglob("*"))
    assert len(files) == 2
    for path in files:
        assert b"fake-token" not in path.read_bytes(), path


def test_token_status_reports_source_without_the_token(monkeypatch):
    monkeypatch.setenv(bk.TOKEN_ENV, FAKE_TOKEN)
    status = bk.token_status()
    assert bk.TOKEN_ENV in status and FAKE_TOKEN not in status


def test_check_hardware_request_skips_or_requires_confirmation(capsys):
    assert bk.check_hardware_request(None, confirm_hardware_submission=False, n_events=100, shots=1024) is None
    with pytest.raises(ParameterError, match="needs confirm_hardware_submission=True: 3725 circuits"):
        bk.check_hardware_request("ibm_brisbane", confirm_hardware_submission=False, n_events=100, shots=1024)
    estimate = bk.check_hardware_request("ibm_brisbane", confirm_hardware_submission=True, n_events=100, shots=10)
    assert estimate == {"circuits": 3725, "total_shots": 37250}
    assert "3725 circuits x 10 shots on ibm_brisbane" in capsys.readouterr().out
