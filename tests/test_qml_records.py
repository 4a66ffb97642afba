"""Device runs written as records and replayed offline (fresh process, bit for bit)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from hepml_nb.core.errors import DataError
from hepml_nb.qml import records
from hepml_nb.qml.backends import record_device_run
from hepml_nb.qml.features import FeatureSet

_REPLAY = """
import json, sys
import numpy as np
from hepml_nb.qml.records import replay
result = replay(sys.argv[1])
np.savez(sys.argv[2], **{f"{name}_{part}": getattr(run, part) for name, run in result.runs.items()
                         for part in ("k_train", "k_test")})
print(json.dumps(result.table.reset_index().to_dict(orient="records")))
"""


def _features(seed, n=6):
    rng = np.random.default_rng(seed)
    y = np.array([0, 1] * (n // 2))
    return FeatureSet(
        rng.uniform(0, np.pi, (n, 6)) + 0.3 * y[:, None],
        rng.uniform(0, np.pi, (n, 6)) + 0.3 * y[:, None],
        y,
        y[::-1].copy(),
        tuple(f"pc{i}" for i in range(1, 7)),
    )


def _replay_in_fresh_process(path, tmp_path):
    out = tmp_path / "replayed.npz"
    proc = subprocess.run(
        [sys.executable, "-c", _REPLAY, str(path), str(out)], capture_output=True, text=True, check=True
    )
    return np.load(out), json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a noisy-device simulation, then a fresh Python importing qiskit (the bundled record replays below)
def test_recorded_fake_backend_run_replays_bit_for_bit_in_a_fresh_process(tmp_path, seed):
    fs = _features(seed, n=4)
    path = tmp_path / "run.json"
    run = record_device_run(
        fs, backend="fake:fake_lagos", path=path, shots=128, seed=seed, entanglement="linear", label="fake backend test"
    )
    data = json.loads(path.read_text())
    assert data["backend"]["name"] == "fake:fake_lagos" and data["backend"]["hardware"] is False
    assert data["backend"]["transpiled"]["two_qubit_depth"] > 0 and data["backend"]["properties"]["num_qubits"] == 7
    assert {"qiskit", "pyqpanda3", "numpy", "python"} <= set(data["software"])
    assert len(data["kernels"]["train"]["parameters"]) == 6 and len(data["kernels"]["test"]["parameters"]) == 16
    assert all(b["job_id"] and b["submitted"] and b["completed"] for b in data["kernels"]["train"]["batches"])
    arrays, table = _replay_in_fresh_process(path, tmp_path)
    assert np.array_equal(arrays["fake:fake_lagos_k_train"], run.k_train)
    assert np.array_equal(arrays["fake:fake_lagos_k_test"], run.k_test)
    assert table == data["results"]  # AUCs, uncertainties, RMS and times, exactly


def test_bundled_fake_backend_record_replays_to_its_results():
    result = records.replay()
    assert "NOT a run on real hardware" in result.record["label"]
    assert result.record["backend"]["name"].startswith("fake:")
    # bit for bit on the machine that recorded it (the fresh-process test above); elsewhere another BLAS may
    # round the kernel's RMS differently in the last digit, so numbers agree to 1e-12, labels exactly
    table = result.table.reset_index().to_dict(orient="records")
    recorded = result.record["results"]
    assert [row["backend"] for row in table] == [row["backend"] for row in recorded]
    for row, ref in zip(table, recorded, strict=True):
        assert set(row) == set(ref)
        assert {k: v for k, v in row.items() if k != "backend"} == pytest.approx(
            {k: v for k, v in ref.items() if k != "backend"}, rel=1e-12, abs=1e-15
        )
    assert list(result.runs) == ["exact", "fake:fake_lagos"]
    k = result.runs["fake:fake_lagos"].k_train
    assert np.array_equal(k, k.T) and np.linalg.eigvalsh(k).min() > -1e-10


def test_record_resumes_instead_of_recomputing(tmp_path, seed, monkeypatch):
    fs = _features(seed, n=4)
    path = tmp_path / "run.json"
    first = record_device_run(fs, backend="origin-sim:noisy", path=path, shots=64, seed=seed)
    from hepml_nb.qml import origin

    monkeypatch.setattr(origin.OriginSimulator, "submit", lambda *a, **k: pytest.fail("resubmitted a finished batch"))
    again = record_device_run(fs, backend="origin-sim:noisy", path=path, shots=64, seed=seed)
    assert np.array_equal(first.k_train, again.k_train) and np.array_equal(first.k_test, again.k_test)
    with pytest.raises(DataError, match="belongs to origin-sim:noisy with settings.*give another path"):
        record_device_run(fs, backend="origin-sim:noisy", path=path, shots=32, seed=seed)


def test_replay_rejects_foreign_and_incomplete_records(tmp_path):
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(DataError, match="is not a device record"):
        records.replay(tmp_path / "other.json")
    with pytest.raises(DataError, match="cannot read device record"):
        records.replay(tmp_path / "missing.json")
    data = json.loads(records.BUNDLED_RECORD.read_text())
    data["kernels"]["test"]["batches"][-1]["counts"] = None
    (tmp_path / "cut.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"incomplete \(missing: test\); resume the run"):
        records.replay(tmp_path / "cut.json")
