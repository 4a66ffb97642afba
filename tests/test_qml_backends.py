"""Circuit kernels: the compute-uncompute circuit, the noisy fake device and the guarded hardware path."""
import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import backends as bk
from hepml_nb.qml.kernels import entangling_pairs, exact_kernel

FAKE_TOKEN = "fake-token-4f2a9c0e-do-not-print"


@pytest.mark.parametrize("entanglement", ["linear", "full"])
def test_compute_uncompute_circuit_overlap_is_exact_fidelity(entanglement, seed):
    from qiskit.quantum_info import Statevector

    x = np.random.default_rng(seed).uniform(0, np.pi, (2, 4))
    circuit = bk.compute_uncompute_circuit(4, reps=2, entanglement=entanglement).remove_final_measurements(inplace=False)
    values = bk._parameter_values(circuit, x[:1], x[1:], (np.array([0]), np.array([0])), alpha=0.7,
                                  entangled=entangling_pairs(4, entanglement))
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


@pytest.mark.parametrize("name, match", [("fake_nowhere", "unknown fake backend 'fake_nowhere'"),
                                         ("fake_manila", "has 5 qubits, fewer than the 6 needed")])
def test_fake_backend_rejects_unknown_or_small_devices(name, match):
    with pytest.raises(ParameterError, match=match):
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
    kernel = bk.hardware_kernel(z, x, backend=bk.fake_backend("fake_lagos"), shots=256,
                                confirm_hardware_submission=True, alpha=0.5, entanglement="linear")
    assert kernel.shape == (3, 4) and np.all((kernel >= 0) & (kernel <= 1))
    out = capsys.readouterr().out
    assert "12 circuits x 256 shots" in out and FAKE_TOKEN not in out


def test_ibm_backend_uses_env_token_and_never_shows_it(monkeypatch):
    seen = {}

    class FailingService:
        def __init__(self, **kwargs):
            seen.update(kwargs)
            raise RuntimeError(f"login refused for token {kwargs.get('token')}")

    import qiskit_ibm_runtime

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", FailingService)
    monkeypatch.setenv(bk.TOKEN_ENV, FAKE_TOKEN)
    with pytest.raises(ParameterError, match="could not open IBM backend 'ibm_test'") as info:
        bk.ibm_backend("ibm_test")
    assert seen["token"] == FAKE_TOKEN
    assert FAKE_TOKEN not in str(info.value) and info.value.__cause__ is None


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
