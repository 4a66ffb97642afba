"""The ParticleNet notebook executed once in the ci profile (shared session run): metrics and figures."""

import pytest

pytestmark = pytest.mark.slow


def test_particlenet_notebook_records_both_taggers(ci_run):
    _, metrics = ci_run("particlenet")
    assert metrics["auc_particlenet"] > 0.8 and metrics["auc_baseline"] > 0.75
    for tagger in ("particlenet", "baseline"):
        assert {f"accuracy_{tagger}", f"rej30_{tagger}", f"rej50_{tagger}"} <= set(metrics)
    assert metrics["n_jets"] >= 200 and metrics["use_pretrained"] is True


def test_particlenet_notebook_onnx_matches_torch(ci_run):
    run_dir, metrics = ci_run("particlenet")
    assert metrics["onnx_max_diff"] < 1e-5
    assert (run_dir / "particlenet_lite.onnx").stat().st_size > 10_000


def test_particlenet_notebook_writes_figures_and_timings(ci_run):
    run_dir, metrics = ci_run("particlenet")
    for name in ("high_level_features", "roc", "scores", "training_history"):
        assert (run_dir / f"{name}.png").stat().st_size > 1000
    assert metrics["timings"]["train_jets_per_s"] > 0 and metrics["epochs_run"] >= 1
