"""Origin Quantum through pyqpanda3: the local simulator against the exact kernel, and the cloud path on a stub."""

import json

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import backends as bk
from hepml_nb.qml import devices as dv
from hepml_nb.qml import origin
from hepml_nb.qml.circuits import angle_matrix, kernel_pairs
from hepml_nb.qml.kernels import entangling_pairs, exact_kernel

FAKE_KEY = "fake-origin-key-91c3e7-never-print"
SETTINGS = dict(n_qubits=4, reps=2, entanglement="linear", optimization_level=1, seed=0)


def _angles(x, entanglement="linear"):
    return angle_matrix(x, x, kernel_pairs(len(x)), alpha=0.5, entangled=entangling_pairs(x.shape[1], entanglement))


@pytest.mark.parametrize("entanglement", ["linear", "full"])
def test_origin_simulator_ideal_fidelities_equal_exact_kernel(entanglement, seed):
    x = np.random.default_rng(seed).uniform(0, np.pi, (5, 4))
    sim = origin.OriginSimulator("ideal", **{**SETTINGS, "entanglement": entanglement})
    zero = np.array([sim.probabilities(row)[0] for row in _angles(x, entanglement)])
    exact = exact_kernel(x, entanglement=entanglement)[np.triu_indices(5, 1)]
    assert np.abs(zero - exact).max() < 1e-10


def test_origin_simulator_noisy_kernel_is_seeded_and_shrinks_towards_uniform_floor(seed):
    x = np.random.default_rng(seed).uniform(0, np.pi, (6, 4))
    noisy = bk.device_kernel(x, backend="origin-sim:noisy", shots=4096, seed=seed, entanglement="linear")
    again = bk.device_kernel(x, backend="origin-sim:noisy", shots=4096, seed=seed, entanglement="linear")
    assert np.array_equal(noisy, again)
    ideal = bk.device_kernel(
        x, backend="origin-sim:ideal", shots=4096, seed=seed, entanglement="linear", enforce_psd=False
    )
    exact = exact_kernel(x, entanglement="linear")
    off = np.triu_indices(6, 1)
    assert np.abs(ideal - exact)[off].max() < 5 * np.sqrt(0.25 / 4096)
    sim = origin.OriginSimulator("noisy", **SETTINGS)
    p_noisy = np.array([sim.probabilities(row)[0] for row in _angles(x)])
    high = exact[off] > 0.1  # well above the floor 1/2**4
    assert np.all(p_noisy[high] < exact[off][high])  # noise pulls large fidelities down ...
    assert np.all(p_noisy > 0.0)  # ... towards the maximally mixed value 1/2**n, not to 0


def test_origin_simulator_rejects_unknown_mode():
    with pytest.raises(ParameterError, match="unknown Origin simulator mode 'fast'; choose one of: origin-sim:noisy"):
        bk.resolve_quantum_device("origin-sim:fast", n_qubits=4)
    with pytest.raises(ParameterError, match="unknown device 'rigetti:aspen'.*origin-sim:noisy"):
        bk.resolve_quantum_device("rigetti:aspen", n_qubits=4)


class _StubCloud:
    """pyqpanda3.qcloud stand-in: records keys, submissions and retrievals; jobs return fixed counts."""

    def __init__(self, qubits=6, fail_result_at=None, run_error=None):
        self.keys, self.submitted, self.retrieved, self.jobs = [], [], [], {}
        self.qubits, self.fail_result_at, self.run_error = qubits, fail_result_at, run_error
        stub = self

        class Job:
            def __init__(self, job_id):
                self._id = job_id

            def job_id(self):
                return self._id

            def result(self):
                if stub.fail_result_at == self._id:
                    stub.fail_result_at = None
                    raise KeyboardInterrupt  # the run is interrupted while waiting for this job
                n = stub.jobs[self._id]

                class Result:
                    def get_counts_list(self):
                        return [{"0000": 30 + k, "0101": 34 - k} for k in range(n)]

                return Result()

        class RetrievedJob(Job):
            def __init__(self, job_id):
                stub.retrieved.append(job_id)
                super().__init__(job_id)

        class Chip:
            def qubits_num(self):
                return stub.qubits

            def chip_id(self):
                return "WK_C102_400"

            def available_qubits(self):
                return list(range(stub.qubits))

        class Backend:
            def chip_info(self):
                return Chip()

            def run(self, progs, shots, options):
                if stub.run_error:
                    raise RuntimeError(stub.run_error)
                job_id = f"job-{len(stub.submitted)}"
                stub.submitted.append((job_id, len(progs), shots))
                stub.jobs[job_id] = len(progs)
                return Job(job_id)

        class Service:
            def __init__(self, key):
                stub.keys.append(key)

            def backend(self, name):
                return Backend()

        self.QCloudService, self.QCloudJob = Service, RetrievedJob
        self.QCloudOptions = type(
            "Options",
            (),
            {"set_mapping": lambda s, v: None, "set_optimization": lambda s, v: None, "set_amend": lambda s, v: None},
        )


@pytest.fixture
def cloud(monkeypatch):
    from pyqpanda3 import qcloud

    stub = _StubCloud()
    for name in ("QCloudService", "QCloudJob", "QCloudOptions"):
        monkeypatch.setattr(qcloud, name, getattr(stub, name))
    monkeypatch.setenv(dv.ORIGIN_TOKEN_ENV, FAKE_KEY)
    return stub


def test_origin_cloud_needs_confirmation_prints_cost_and_hides_the_key(cloud, capsys, tmp_path, seed):
    from hepml_nb.qml.features import FeatureSet

    x = np.random.default_rng(seed).uniform(0, np.pi, (4, 4))
    with pytest.raises(ParameterError, match="confirm_hardware_submission=True"):
        bk.hardware_kernel(x, backend="origin:WK_C102_400", shots=64)
    assert cloud.submitted == []
    kernel = bk.hardware_kernel(
        x,
        backend="origin:WK_C102_400",
        shots=64,
        confirm_hardware_submission=True,
        entanglement="linear",
        enforce_psd=False,
    )
    assert cloud.keys[-1] == FAKE_KEY and cloud.submitted == [("job-0", 6, 64)]
    assert kernel[0, 1] == pytest.approx(30 / 64)
    out = capsys.readouterr().out
    assert "6 circuits x 64 shots" in out and FAKE_KEY not in out
    fs = FeatureSet(x, x, np.array([0, 1, 0, 1]), np.array([1, 0, 1, 0]), tuple("abcd"))
    bk.record_device_run(
        fs,
        backend="origin:WK_C102_400",
        path=tmp_path / "run.json",
        shots=64,
        seed=seed,
        entanglement="linear",
        confirm_hardware_submission=True,
    )
    text = (tmp_path / "run.json").read_text()
    assert FAKE_KEY not in text and json.loads(text)["backend"]["properties"]["chip_id"] == "WK_C102_400"


def test_origin_cloud_interrupted_run_resumes_from_checkpointed_job_ids(cloud, tmp_path, seed):
    from hepml_nb.qml.records import DeviceRecord

    x = np.random.default_rng(seed).uniform(0, np.pi, (5, 4))  # 10 training circuits
    device = bk.resolve_quantum_device("origin:WK_C102_400", n_qubits=4, entanglement="linear")
    options = dict(
        backend=device, shots=64, entanglement="linear", confirm_hardware_submission=True, max_circuits_per_job=4
    )
    path = tmp_path / "record.json"
    cloud.fail_result_at = "job-1"
    with pytest.raises(KeyboardInterrupt):
        bk.device_kernel(x, record=DeviceRecord.open(path, device, settings={}), **options)
    saved = json.loads(path.read_text())["kernels"]["train"]["batches"]
    assert [b["job_id"] for b in saved] == ["job-0", "job-1"]  # checkpointed as submitted
    assert saved[0]["counts"] is not None and saved[1]["counts"] is None
    kernel = bk.device_kernel(x, record=DeviceRecord.open(path, device, settings={}), **options)
    assert [s[0] for s in cloud.submitted] == ["job-0", "job-1", "job-2"]  # only the missing batch is new
    assert cloud.retrieved == ["job-1"]  # the interrupted one is fetched by ID, not resubmitted
    assert kernel.shape == (5, 5)
    done = json.loads(path.read_text())["kernels"]["train"]["batches"]
    assert [(b["start"], b["stop"]) for b in done] == [(0, 4), (4, 8), (8, 10)]


@pytest.mark.parametrize("message", ["HTTP 401 Unauthorized: token expired", "invalid api key " + FAKE_KEY])
def test_origin_cloud_expired_token_is_a_clear_error_without_the_key(cloud, message, seed):
    cloud.run_error = message
    x = np.random.default_rng(seed).uniform(0, np.pi, (3, 4))
    with pytest.raises(dv.TokenError, match=r"origin rejected the credential.*set \$ORIGIN_QCLOUD_API_KEY") as info:
        bk.hardware_kernel(x, backend="origin:WK_C102_400", shots=8, confirm_hardware_submission=True)
    assert FAKE_KEY not in str(info.value) and info.value.__cause__ is None


def test_origin_cloud_small_chip_and_missing_key(cloud, monkeypatch):
    cloud.qubits = 3
    with pytest.raises(dv.BackendTooSmallError, match="'origin:WK_C102_400' has 3 qubits, fewer than the 4"):
        bk.resolve_quantum_device("origin:WK_C102_400", n_qubits=4)
    monkeypatch.delenv(dv.ORIGIN_TOKEN_ENV)
    with pytest.raises(ParameterError, match=r"no Origin Quantum API key: set \$ORIGIN_QCLOUD_API_KEY"):
        bk.resolve_quantum_device("origin:WK_C102_400", n_qubits=4)
    assert "not shown" not in origin.origin_token_status()
    monkeypatch.setenv(dv.ORIGIN_TOKEN_ENV, FAKE_KEY)
    assert FAKE_KEY not in origin.origin_token_status() and "(not shown)" in origin.origin_token_status()


def test_record_device_run_on_hardware_prints_cost_and_needs_confirmation(cloud, capsys, tmp_path, seed):
    from hepml_nb.qml.features import FeatureSet

    x = np.random.default_rng(seed).uniform(0, np.pi, (4, 4))
    fs = FeatureSet(x, x[:2], np.array([0, 1, 0, 1]), np.array([1, 0]), tuple("abcd"))
    with pytest.raises(ParameterError, match="hardware submission not confirmed: 14 circuits"):
        bk.record_device_run(fs, backend="origin:WK_C102_400", path=tmp_path / "r.json", shots=8)
    assert "origin:WK_C102_400: 14 circuits x 8 shots" in capsys.readouterr().out
    assert cloud.submitted == [] and not (tmp_path / "r.json").exists()
