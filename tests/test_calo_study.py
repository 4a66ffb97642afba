"""The calo study layer: the speed table, the validation study of every sample (its comparison rule,
table and metrics) and the run's records."""

import numpy as np
import pandas as pd
import pytest

from hepml_nb.calo import study
from hepml_nb.calo.classifier import ClassifierResult
from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.validation import Chi2Point, verdict_table
from hepml_nb.core.errors import ParameterError


def test_speed_table_times_per_shower_and_speedups(monkeypatch):
    clock = [0.0]  # a clock that advances only when a generator runs: exact timings
    monkeypatch.setattr(study.time, "perf_counter", lambda: clock[0])
    calls = []

    def maker(overhead_s, per_shower_s):
        def make(n):
            calls.append(n)
            clock[0] += overhead_s + per_shower_s * n

        return make

    makers = {"simulation": maker(0.0, 1e-2), "network": maker(1e-3, 1e-5)}
    table = study.speed_table(makers, batch_sizes=(1, 1000), reference="simulation", min_showers=10)
    assert table.loc["simulation", "ms_b1"] == pytest.approx(10.0)
    assert table.loc["network", "ms_b1"] == pytest.approx(1.01)  # the per-call overhead dominates
    assert table.loc["network", "ms_b1000"] == pytest.approx(0.011)
    assert table.loc["network", "speedup_b1000"] == pytest.approx(10.0 / 0.011)
    assert table.loc["simulation", "speedup_b1"] == pytest.approx(1.0)
    assert calls.count(1) == 20 and calls.count(1000) == 2  # 10 showers' worth of calls at batch 1


def test_speed_table_rejects_bad_arguments():
    with pytest.raises(ParameterError, match="reference 'geant4' is not one of the generators: a"):
        study.speed_table({"a": lambda n: None}, reference="geant4")
    with pytest.raises(ParameterError, match="batch sizes must be positive"):
        study.speed_table({"a": lambda n: None}, batch_sizes=(0,))


def _report(auc, auc_err, *, preset="tutorial", level="high"):
    result = ClassifierResult(auc, 0.1, 0.6, np.zeros(2), np.zeros(2), 10, 2, 0.1, auc_err, 0.01, preset)
    return study.ValidationReport({"etot_over_einc": 0.01}, {level: result})


def _study(gan_auc, flow_auc, *, err=0.01):
    reports = {"floor": _report(0.5, err), "GAN": _report(gan_auc, err), "flow": _report(flow_auc, err)}
    challenge = {name: _report(0.6, 0.05, preset="challenge") for name in reports}
    labels = {"floor": "GFlash vs GFlash (floor)", "GAN": "GAN vs GFlash", "flow": "flow vs GFlash"}
    return study.ValidationStudy(reports, challenge, 300, labels, "GFlash")


@pytest.mark.parametrize(
    ("gan_auc", "flow_auc", "err", "winner"),
    [
        (0.80, 0.70, 0.01, "flow"),  # 0.10 > 2 x 0.014
        (0.70, 0.80, 0.01, "GAN"),
        (0.80, 0.78, 0.01, "neither (within 2 sigma)"),  # 0.02 < 2 x 0.014
        (0.80, 0.70, 0.0, "cannot be said (no bootstrap uncertainty)"),
    ],
)
def test_validation_study_closer_follows_the_projects_comparison_rule(gan_auc, flow_auc, err, winner):
    sentence = _study(gan_auc, flow_auc, err=err).closer("GAN", "flow")
    assert sentence.startswith(
        f"closer to GFlash in the high-level classifier test (tutorial preset): {winner} (AUC difference"
    )
    assert f"{gan_auc - flow_auc:+.3f}" in sentence


def test_validation_study_closer_reads_the_challenge_preset_when_asked():
    result = _study(0.9, 0.9)
    result.challenge["GAN"] = _report(0.70, 0.02, preset="challenge")
    result.challenge["flow"] = _report(0.55, 0.02, preset="challenge")
    sentence = result.closer("GAN", "flow", preset="challenge")
    assert sentence.startswith("closer to GFlash in the high-level classifier test (challenge preset): flow (")
    assert "+0.150 +/- 0.028" in sentence
    assert "neither" in result.closer("GAN", "flow")  # the tutorial rows are equal


def test_validation_study_closer_refuses_a_missing_test():
    result = _study(0.8, 0.7)
    with pytest.raises(ParameterError, match="preset must be 'tutorial' or 'challenge', got 'paper'"):
        result.closer("GAN", "flow", preset="paper")
    with pytest.raises(ParameterError, match="no low-level tutorial-preset classifier test of 'GAN', 'flow'"):
        result.closer("GAN", "flow", level="low")
    with pytest.raises(ParameterError, match="challenge-preset classifier test of 'diffusion'.*challenge"):
        result.closer("GAN", "diffusion", preset="challenge")


def test_validation_study_metrics_prefix_each_sample_and_preset():
    metrics = _study(0.8, 0.7).metrics()
    assert metrics["auc_high"] == 0.8 and metrics["flow_auc_high"] == 0.7 and metrics["floor_auc_high"] == 0.5
    assert metrics["challenge_auc_high"] == metrics["challenge_flow_auc_high"] == 0.6
    assert metrics["challenge_floor_preset_high"] == "challenge" and metrics["n_challenge"] == 300
    assert metrics["sep_etot_over_einc"] == metrics["floor_sep_etot_over_einc"] == 0.01


def test_validation_study_table_puts_the_challenge_rows_after_the_tutorial_rows():
    table = _study(0.8, 0.7).table(published=False)
    assert list(table["comparison"]) == [
        "GFlash vs GFlash (floor)",
        "GAN vs GFlash",
        "flow vs GFlash",
        "GFlash vs GFlash (floor), 300 vs 300",
        "GAN vs GFlash, 300 vs 300",
        "flow vs GFlash, 300 vs 300",
    ]


def test_metric_prefix_names_every_sample_but_the_headline():
    assert study.metric_prefix("GAN") == "" and study.metric_prefix("flow") == "flow_"
    assert study.metric_prefix("Flow matching") == "flow_matching_"
    assert study.metric_prefix("flow", headline="flow") == "" and study.metric_prefix("GAN", headline="flow") == "gan_"


def test_validation_study_runs_the_tutorial_and_challenge_presets(monkeypatch):
    calls = []

    def fake_validate(reference, generated, **options):
        calls.append((len(reference), len(generated), options))
        return _report(0.5, 0.01)

    monkeypatch.setattr(study, "validate_showers", fake_validate)
    showers = ShowerSet(np.ones(50), np.ones((50, 4), np.float32), "calogan")
    samples = {"floor": showers, "GAN": showers.subset(slice(0, 40)), "flow": showers}
    result = study.validation_study(
        showers, samples, reference_name="file", epochs=3, n_challenge=1000, seed=7, device="cuda"
    )
    assert result.n_challenge == 40 and list(result.reports) == list(result.challenge) == ["floor", "GAN", "flow"]
    assert result.labels == {"floor": "file vs file (floor)", "GAN": "GAN vs file", "flow": "flow vs file"}
    tutorial, challenge = calls[:3], calls[3:]
    assert [c[1] for c in tutorial] == [50, 40, 50] and all(c[2] == {"epochs": 3, "seed": 7} for c in tutorial)
    assert all(c[:2] == (40, 40) for c in challenge)
    assert all(c[2]["preset"] == "challenge" and c[2]["levels"] == ("high",) for c in challenge)
    assert all(c[2]["device"] == "cuda" and c[2]["distances"] is False for c in challenge)
    assert all(c[2]["threads"] is None for c in challenge)  # the 3 x 2048 network on every core (tutorial: 1)
    calls.clear()
    assert study.validation_study(showers, samples, reference_name="file", challenge_levels=()).challenge == {}
    assert len(calls) == 3


def test_validation_study_refuses_a_headline_that_is_not_a_generator():
    showers = ShowerSet(np.ones(5), np.ones((5, 4), np.float32), "calogan")
    with pytest.raises(ParameterError, match="headline sample 'floor' is not one of the generators: GAN; give"):
        study.validation_study(showers, {"floor": showers, "GAN": showers}, reference_name="x", headline="floor")


def test_study_metrics_records_every_section():
    reference = ShowerSet(np.array([10.0, 20.0]), np.ones((2, 504), np.float32), "calogan")
    speed = pd.DataFrame(
        {"ms_b1": [2.0, 4.0, 8.0], "ms_b100": [1.0, 0.01, 0.02], "speedup_b1": [1.0, 0.5, 0.25]},
        index=["GFlash (cpu)", "GAN (cpu)", "flow (cpu)"],
    )
    verdicts = {
        "GAN": verdict_table({"a": 0.5, "b": 0.0, "c": 0.3}, {"a": 0.0, "b": 0.0, "c": 0.0}),
        "flow": verdict_table({"a": 0.5, "b": 0.0, "c": 0.0}, {"a": 0.0, "b": 0.0, "c": 0.0}),
    }
    chi2 = [Chi2Point(1.0, 50.0, 10.0, 9, 100, 100), Chi2Point(50.0, 100.0, 3.0, 0, 1, 1)]
    metrics = study.study_metrics(
        reference,
        source="GFlash",
        generator="pretrained",
        features={"reference": {"etot_over_einc": np.array([0.9, 1.0])}, "GAN": {"etot_over_einc": np.ones(2)}},
        validation=_study(0.8, 0.7),
        verdicts=verdicts,
        chi2=chi2,
        speed=speed,
        ds2_rate=1234.56,
    )
    assert metrics["n_eval"] == 2 and metrics["data"] == "GFlash" and metrics["geometry"] == "calogan"
    assert metrics["response_mean_reference"] == 0.95 and metrics["response_mean_generated"] == 1.0
    assert metrics["gflash_showers_per_s"] == 1000.0  # at the largest batch
    assert metrics["gan_showers_per_s_batch1"] == 250.0  # at the smallest
    assert metrics["speed_table"]["flow (cpu)"] == {"ms_b1": 8.0, "ms_b100": 0.02, "speedup_b1": 0.25}
    assert metrics["gflash_ds2_showers_per_s"] == 1234.6 and metrics["n_features"] == 3
    assert metrics["n_features_poor"] == 2 and metrics["n_features_poor_flow"] == 1
    assert metrics["chi2_ndf_etot"][0] == pytest.approx(1.111) and np.isnan(metrics["chi2_ndf_etot"][1])
    assert metrics["auc_high"] == 0.8 and metrics["challenge_flow_auc_high"] == 0.6
    no_gflash = study.study_metrics(
        ShowerSet(reference.e_inc, reference.cells, "dataset1-photons"),
        source="f.h5",
        generator="trained here on 10 showers",
        features={"reference": {"etot_over_einc": np.ones(2)}, "GAN": {"etot_over_einc": np.ones(2)}},
        validation=_study(0.8, 0.7),
        verdicts=verdicts,
        chi2=chi2,
        speed=speed.drop(index="GFlash (cpu)"),
        ds2_rate=1.0,
    )
    assert "gflash_showers_per_s" not in no_gflash and no_gflash["geometry"] == "dataset1-photons"
