"""Kernels on devices: device names, transpiled depths, the device kernel and the guarded hardware path."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import backends as bk
from hepml_nb.qml import ibm
from hepml_nb.qml.devices import IBM_TOKEN_ENV, BackendTooSmallError
from hepml_nb.qml.kernels import exact_kernel, project_psd

FAKE_TOKEN = "fake-token-4f2a9c0e-do-not-print"


def test_resolve_quantum_device_names_and_old_bare_names():
    assert bk.resolve_quantum_device("fake:fake_lagos", n_qubits=6).name == "fake:fake_lagos"
    assert bk.resolve_quantum_device("fake_lagos", n_qubits=6).name == "fake:fake_lagos"
    sim = bk.resolve_quantum_device("origin-sim:noisy", n_qubits=6)
    assert (sim.name, sim.provider, sim.hardware) == ("origin-sim:noisy", "origin", False)
    with pytest.raises(ParameterError, match="unknown device 'qasm'.*fake:<name>, ibm:<name>, origin-sim:noisy"):
        bk.resolve_quantum_device("qasm", n_qubits=6)


def test_transpiled_depths_full_entanglement_is_deeper_on_a_sparse_device():
    table = bk.transpiled_depths("fake:fake_lagos", n_qubits=6, entanglements=("linear", "full"))
    assert list(table.index) == ["linear", "full"]
    assert {"depth", "two_qubit_depth", "two_qubit_gates"} <= set(table.columns)
    assert table.loc["full", "two_qubit_depth"] > 2 * table.loc["linear", "two_qubit_depth"]
    logical = bk.transpiled_depths("origin-sim:noisy", n_qubits=6)
    assert logical.loc["linear", "two_qubit_gates"] == 2 * 2 * 2 * 5  # reps x (compute, uncompute) x CX pair x pairs


def test_device_kernel_on_fake_backend_tracks_exact_kernel(seed):
    x = np.random.default_rng(seed).uniform(0, np.pi, (6, 6))
    settings = dict(alpha=0.5, entanglement="linear")
    noisy = bk.device_kernel(x, backend=ibm.fake_backend("fake_lagos"), shots=2048, seed=seed, **settings)
    exact = exact_kernel(x, **settings)
    assert np.allclose(np.diag(noisy), 1.0) and np.allclose(noisy, noisy.T)
    off = np.triu_indices(6, 1)
    assert np.corrcoef(noisy[off], exact[off])[0, 1] > 0.8  # noise shrinks but keeps the pattern
    assert np.sqrt(np.mean((noisy[off] - exact[off]) ** 2)) > 0.005  # ... and it is really noisy


def test_hardware_kernel_refuses_without_confirmation_and_prints_estimate(capsys, monkeypatch):
    monkeypatch.setenv(IBM_TOKEN_ENV, FAKE_TOKEN)
    x = np.zeros((4, 6))
    with pytest.raises(ParameterError, match="confirm_hardware_submission=True"):
        bk.hardware_kernel(x, backend="ibm_brisbane", shots=100)
    out = capsys.readouterr().out
    assert "6 circuits x 100 shots" in out and FAKE_TOKEN not in out


def test_hardware_kernel_runs_the_same_path_on_a_fake_backend(capsys, monkeypatch, seed):
    monkeypatch.setenv(IBM_TOKEN_ENV, FAKE_TOKEN)
    rng = np.random.default_rng(seed)
    x, z = rng.uniform(0, np.pi, (4, 6)), rng.uniform(0, np.pi, (3, 6))
    kernel = bk.hardware_kernel(
        z,
        x,
        backend=ibm.fake_backend("fake_lagos"),
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

    monkeypatch.setattr(ibm, "_sampler", lambda backend, shots, seed: ClosedSampler())
    x = np.random.default_rng(seed).uniform(0, np.pi, (3, 6))
    with pytest.raises(
        SessionClosedError, match="session on 'ibm:ibm_kyiv' was closed.*run again with the same record"
    ):
        bk.hardware_kernel(x, backend=_StubIBM(), shots=10, confirm_hardware_submission=True)
    with pytest.raises(BackendTooSmallError, match="'ibm:ibm_kyiv' has 4 qubits, fewer than the 6"):
        bk.hardware_kernel(x, backend=_StubIBM(num_qubits=4), shots=10, confirm_hardware_submission=True)


def test_records_and_run_folders_never_contain_the_tokens(monkeypatch, tmp_path, seed):
    """With both providers' tokens in the environment, a recorded run writes neither of them."""
    from hepml_nb.qml.devices import ORIGIN_TOKEN_ENV
    from hepml_nb.qml.features import FeatureSet

    monkeypatch.setenv(IBM_TOKEN_ENV, FAKE_TOKEN)
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
        bk.record_device_run(
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


def test_check_hardware_request_skips_or_requires_confirmation(capsys):
    assert bk.check_hardware_request(None, confirm_hardware_submission=False, n_events=100, shots=1024) is None
    with pytest.raises(ParameterError, match="needs confirm_hardware_submission=True: 3725 circuits"):
        bk.check_hardware_request("ibm_brisbane", confirm_hardware_submission=False, n_events=100, shots=1024)
    estimate = bk.check_hardware_request("ibm_brisbane", confirm_hardware_submission=True, n_events=100, shots=10)
    assert estimate == {"circuits": 3725, "total_shots": 37250}
    assert "3725 circuits x 10 shots on ibm_brisbane" in capsys.readouterr().out
