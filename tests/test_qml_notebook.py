"""The quantum-kernel notebook executed in the ci profile, and the secret-handling check."""
import json
import os

import pytest

pytestmark = pytest.mark.slow

FAKE_TOKEN = "fake-ibm-token-7d1e5b3a-never-print-me"


def test_qml_notebook_records_aucs_per_backend_and_timings(ci_run):
    _, metrics = ci_run("qml")
    assert metrics["auc_quantum_exact"] > 0.75 and metrics["auc_rbf_svm"] > 0.75 and metrics["auc_gbt"] > 0.75
    assert 0 <= metrics["auc_quantum_exact_std"] < 0.2
    assert {"exact", "noisy fake_lagos"} <= set(metrics["auc_per_backend"])
    assert 0.0 <= metrics["device_auc_noisy"] <= 1.0 and metrics["device_kernel_rms"] > 0.01
    assert metrics["kernel_seconds"]["exact_train"] < 5.0
    assert metrics["kernel_seconds"]["device"]["noisy fake_lagos"] > metrics["kernel_seconds"]["device"]["exact"]
    assert 0 < metrics["kernel_target_alignment"] < 1


def test_qml_notebook_exercises_pass_and_figures_exist(ci_run):
    run_dir, _ = ci_run("qml")
    for name in ("features", "auc_vs_training_size", "device_kernels"):
        assert (run_dir / f"{name}.png").stat().st_size > 1000
    nb = json.loads((run_dir / "02_qml_qsvm_higgs.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"])
    assert text.count("Correct!") == 3 and "Incorrect" not in text
    assert "real hardware skipped" in text


def test_qml_notebook_never_reveals_the_ibm_token(tmp_path, monkeypatch, capfd):
    """A fake token in the environment appears nowhere in the executed notebook, metrics or logs."""
    import hepml_nb as hn

    monkeypatch.setenv("QISKIT_IBM_TOKEN", FAKE_TOKEN)
    out = tmp_path / "run"
    metrics = hn.run("qml", profile="ci", out=out)
    logs = capfd.readouterr()
    assert FAKE_TOKEN not in logs.out and FAKE_TOKEN not in logs.err
    assert FAKE_TOKEN not in json.dumps(metrics)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".ipynb" for p in files)
    for path in files:
        assert FAKE_TOKEN.encode() not in path.read_bytes(), path
    nb_text = (out / "02_qml_qsvm_higgs.ipynb").read_text()
    assert "QISKIT_IBM_TOKEN (not shown)" in nb_text  # the notebook did see the token
    assert os.environ["QISKIT_IBM_TOKEN"] == FAKE_TOKEN
