"""The quantum-kernel notebook executed in the ci profile, and the secret-handling check."""

import json

import pytest
from conftest import CI_RUN_LOG, FAKE_IBM_TOKEN

pytestmark = pytest.mark.slow


def test_qml_notebook_records_aucs_per_backend_and_timings(ci_run):
    _, metrics = ci_run("qml")
    assert metrics["auc_quantum_exact"] > 0.75 and metrics["auc_rbf_svm"] > 0.75 and metrics["auc_gbt"] > 0.75
    assert 0 <= metrics["auc_quantum_exact_std"] < 0.2
    assert {"exact", "noisy fake_lagos"} <= set(metrics["auc_per_backend"])
    assert 0.0 <= metrics["device_auc_noisy"] <= 1.0 and metrics["device_kernel_rms"] > 0.01
    # kernel timings are recorded (their size is for benchmarks/, not a test)
    assert metrics["kernel_seconds"]["exact_train"] > 0
    assert set(metrics["kernel_seconds"]["device"]) >= {"exact", "noisy fake_lagos"}
    assert 0 < metrics["kernel_target_alignment"] < 1


def test_qml_notebook_exercises_pass_and_figures_exist(ci_run):
    run_dir, _ = ci_run("qml")
    for name in ("features", "auc_vs_training_size", "device_kernels"):
        assert (run_dir / f"{name}.png").stat().st_size > 1000
    nb = json.loads((run_dir / "02_qml_qsvm_higgs.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"])
    assert text.count("Correct!") == 3 and "Incorrect" not in text
    assert "real hardware skipped" in text


def test_qml_notebook_never_reveals_the_ibm_token(ci_run):
    """The session's run saw a fake token in the environment; it appears nowhere in its notebook, metrics or log."""
    run_dir, metrics = ci_run("qml")
    assert FAKE_IBM_TOKEN not in json.dumps(metrics)
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {"02_qml_qsvm_higgs.ipynb", CI_RUN_LOG} <= {p.name for p in files}
    for path in files:
        assert FAKE_IBM_TOKEN.encode() not in path.read_bytes(), path
    nb_text = (run_dir / "02_qml_qsvm_higgs.ipynb").read_text()
    assert "QISKIT_IBM_TOKEN (not shown)" in nb_text  # the notebook did see the token
