"""The ParticleNet notebook executed once in the ci profile (shared session run): metrics and figures; and
once more with the published JetClass ParticleNet (``jetclass_model``) where its file is present."""

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TAGGERS = ("particlenet_lite", "part_small")  # the notebook's default taggers
# ../shared/jetclass beside the project (CI's copy of shared/); HEPML_NB_JETCLASS_FILES names another folder
JETCLASS = Path(
    os.environ.get("HEPML_NB_JETCLASS_FILES") or Path(__file__).resolve().parents[2] / "shared" / "jetclass"
)


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


def test_particlenet_notebook_without_jetclass_model_skips_the_section(ci_run):
    run_dir, metrics = ci_run("particlenet")
    assert metrics["jetclass_model"] is None and not any(
        k.endswith(("_jetclass", "_jetclass_finetuned")) for k in metrics
    )
    assert "jetclass_finetuned" not in metrics["epochs_run"]
    log = (run_dir / "ci_run_output.txt").read_text()
    assert "this section is skipped" in log and "github.com/jet-universe/particle_transformer" in log


@pytest.fixture(scope="module")
def jetclass_run(tmp_path_factory):
    """The ci profile with the published ParticleNet_full.pt as ``jetclass_model``."""
    path = JETCLASS / "ParticleNet_full.pt"
    if not path.is_file():
        pytest.skip(f"the published JetClass files are not in {JETCLASS} (particle_transformer's models/)")
    from hepml_nb.course.runner import execute

    result = execute("particlenet", "ci", tmp_path_factory.mktemp("jetclass") / "particlenet", jetclass_model=str(path))
    return result.run_dir, result.metrics


def test_particlenet_notebook_scores_and_fine_tunes_the_published_model(jetclass_run):
    run_dir, metrics = jetclass_run
    assert metrics["jetclass_model"] == "ParticleNet_full.pt"  # the published file, known by its sha256
    for name in ("jetclass", "jetclass_finetuned"):
        assert metrics[f"auc_{name}"] > 0.95, name  # the check: AUC 0.9976 on 5,000 cms-like jets
        assert {f"rej50_{name}", f"rej50_low_{name}", f"rej50_high_{name}", f"accuracy_{name}"} <= set(metrics)
        assert metrics[f"rej50_n_background_{name}"] == metrics["rej50_n_background_baseline"]  # the same test jets
    assert metrics["epochs_run"]["jetclass_finetuned"] >= 1 and metrics["timings"]["training_s_jetclass_finetuned"] > 0
    assert (run_dir / "training_history_jetclass_finetuned.png").stat().st_size > 1000


def test_particlenet_notebook_jetclass_section_changes_no_other_metric(ci_run, jetclass_run):
    """The section adds rows and keys; every other metric is the one of the run without the model."""
    without, with_model = ci_run("particlenet")[1], jetclass_run[1]
    added = {k for k in with_model if k.endswith(("_jetclass", "_jetclass_finetuned"))}
    assert added and not added & set(without)
    assert with_model["jetclass_model"] == "ParticleNet_full.pt" and without["jetclass_model"] is None
    same = set(without) - {"timings", "epochs_run", "jetclass_model"}
    assert {k: with_model[k] for k in same} == {k: without[k] for k in same}
    assert with_model["epochs_run"] == {**without["epochs_run"], "jetclass_finetuned": 1}


def test_particlenet_headline_has_the_published_and_fine_tuned_rows(jetclass_run):
    from hepml_nb.course.cli import headline_lines
    from hepml_nb.jets.spec import TOPIC

    lines = "\n".join(headline_lines(TOPIC.headline, jetclass_run[1]))
    for name in ("jetclass", "jetclass_finetuned"):
        assert f"AUC ({name}): " in lines and f"1/eps_B at eps_S = 50 % ({name}): " in lines
