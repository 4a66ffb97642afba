"""The shower-validation notebook executed once in the ci profile (shared session run)."""

import json

import pytest

pytestmark = pytest.mark.slow


def test_calo_notebook_floor_is_indistinguishable(ci_run):
    _, metrics = ci_run("calogan")
    assert abs(metrics["floor_auc_high"] - 0.5) < 0.06 and abs(metrics["floor_auc_low"] - 0.5) < 0.06
    assert metrics["floor_sep_etot_over_einc"] < 0.02


def test_calo_notebook_reports_gan_metrics_and_speed(ci_run):
    _, metrics = ci_run("calogan")
    for key in (
        "auc_low",
        "auc_high",
        "jsd_low",
        "jsd_high",
        "sep_etot_over_einc",
        "sep_cell_log10e",
        "sep_width_x_1",
        "sep_sparsity_2",
    ):
        assert key in metrics
    assert metrics["auc_high"] >= metrics["floor_auc_high"] - 0.05
    assert metrics["n_features"] == 20 and 0 <= metrics["n_features_poor"] <= 20
    # speeds are recorded (how fast they are is for benchmarks/, not a test)
    assert metrics["gflash_showers_per_s"] > 0 and metrics["gan_showers_per_s_batch1"] > 0
    speed = metrics["speed_table"]  # time per shower at the ci profile's batch sizes, speed-up over GFlash
    assert set(speed) == {"GFlash (cpu)", "GAN (cpu)", "flow matching (cpu)"}
    assert speed["GFlash (cpu)"]["speedup_b1"] == 1.0
    assert all(v > 0 for row in speed.values() for v in row.values())
    assert len(metrics["chi2_ndf_etot"]) == 5
    second = ("auc_high", "auc_low", "fpd", "sep_etot_over_einc")  # the flow-matching model's, prefixed
    assert {f"flow_matching_{k}" for k in second} | {"challenge_flow_matching_auc_high"} <= set(metrics)


def test_calo_notebook_verdict_table_follows_metrics(ci_run):
    """The verdict printed in the notebook is computed from the recorded separation powers."""
    from hepml_nb.calo.validation import verdict

    run_dir, metrics = ci_run("calogan")
    poor = sum(
        verdict(metrics[f"sep_{name}"], metrics[f"floor_sep_{name}"]) == "poor"
        for name in [k[4:] for k in metrics if k.startswith("sep_")]
    )
    assert poor == metrics["n_features_poor"]
    for name in ("features", "chi2_per_energy", "classifier_roc", "training_history"):
        assert (run_dir / f"{name}.png").stat().st_size > 1000
    nb = json.loads((run_dir / "03_gan_shower_validation.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"])
    assert "Correct!" in text and "Incorrect" not in text


@pytest.mark.parametrize("layout", ["calogan", "dataset1-photons"])
def test_calo_notebook_data_path_trains_and_validates_on_the_file(tmp_path, layout):
    """A file whose showers differ from GFlash (CaloGAN: GFlash with every cell x 0.6; dataset 1 photons, a
    CaloChallenge layout GFlash cannot simulate: toy showers with response 0.6): the notebook trains its
    generators on the file and validates them against it, so the generated response follows the file's,
    not that of the pretrained generator (about 1.0, GFlash's in the CaloGAN geometry)."""
    from conftest import toy_showers

    from hepml_nb.calo import data, gflash, io
    from hepml_nb.course.runner import execute

    if layout == "calogan":
        showers, _ = gflash.reference_showers(1500, seed=77)
        scaled = data.ShowerSet(showers.e_inc, 0.6 * showers.cells, showers.geometry, 0.6 * showers.overflow)
        path = io.write_calogan_h5(scaled, tmp_path / "not_gflash.h5")
    else:
        path = io.write_challenge_h5(toy_showers(layout, 1500, seed=77, response=0.6), tmp_path / "ds1.hdf5")
    params = dict(data_path=str(path), n_eval=400, n_train=700, gan_iterations=400, fm_steps=300, n_challenge=200)
    run = execute("calogan", "ci", tmp_path / "run", **params)
    metrics = run.metrics
    assert metrics["data"] == str(path) and metrics["generator"] == "trained here on 700 showers"
    assert metrics["geometry"] == layout
    assert 0.5 < metrics["response_mean_reference"] < 0.62  # the file's showers, not GFlash's
    file_response, gflash_response = metrics["response_mean_reference"], metrics["response_mean_reference"] / 0.6
    # a GAN trained on GFlash would sit near gflash_response; this one learnt the file (a short training)
    generated = metrics["response_mean_generated"]
    assert abs(generated - file_response) < 0.5 * abs(generated - gflash_response)
    assert abs(metrics["floor_auc_high"] - 0.5) < 0.1  # the floor is two halves of the same file
    assert {"challenge_auc_high", "challenge_flow_matching_auc_high", "flow_matching_fpd"} <= set(metrics)
    # GFlash has no depth model of dataset 1: its speed table is relative to the GAN
    assert ("GFlash (cpu)" in metrics["speed_table"]) == (layout == "calogan")
    assert (run.run_dir / "features.png").stat().st_size > 1000
