"""The ParticleNet notebook executed once in the ci profile (shared session run): metrics and figures."""

import pytest

pytestmark = pytest.mark.slow

TAGGERS = ("particlenet_lite", "part_small")  # the notebook's default taggers


def test_particlenet_notebook_records_every_tagger(ci_run):
    _, metrics = ci_run("particlenet")
    assert metrics["taggers"] == list(TAGGERS) and metrics["detector"] == "cms-like" and metrics["task"] == "top"
    assert metrics["auc_baseline"] > 0.75 and all(metrics[f"auc_{t}"] > 0.8 for t in TAGGERS)
    for tagger in (*TAGGERS, "baseline"):
        assert {f"accuracy_{tagger}", f"rej30_{tagger}", f"rej50_{tagger}", f"rej50_low_{tagger}"} <= set(metrics)
    assert metrics["n_jets"] >= 200 and metrics["use_pretrained"] is True and metrics["feature_set"] == "full"


def test_particlenet_notebook_onnx_matches_torch(ci_run):
    run_dir, metrics = ci_run("particlenet")
    assert metrics["onnx_max_diff"] < 1e-5
    for tagger in TAGGERS:
        assert (run_dir / f"{tagger}.onnx").stat().st_size > 10_000


def test_particlenet_notebook_writes_figures_and_timings(ci_run):
    run_dir, metrics = ci_run("particlenet")
    names = ("high_level_features", "roc", "scores", *(f"training_history_{t}" for t in TAGGERS))
    for name in names:
        assert (run_dir / f"{name}.png").stat().st_size > 1000
    assert all(metrics["timings"][f"train_jets_per_s_{t}"] > 0 and metrics["epochs_run"][t] >= 1 for t in TAGGERS)
