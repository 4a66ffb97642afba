"""Acceptance of the classifier test: reference vs reference is at 0.5, a 10 % miscalibration is caught."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hepml_nb.calo.classifier import (
    CHALLENGE_THRESHOLD_MEV,
    PRESETS,
    classifier_test,
    default_threshold_mev,
    high_level_inputs,
    jsd_from_bce,
    low_level_inputs,
    preset_inputs,
    shower_classifier_test,
)
from hepml_nb.calo.classifier_inputs import CHALLENGE_SPLITS, challenge_split
from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.features import challenge_features, shower_features
from hepml_nb.calo.gflash import reference_showers
from hepml_nb.calo.study import PUBLISHED_AUC, ValidationReport, classifier_table, validate_showers
from hepml_nb.calo.validation import separation_power
from hepml_nb.core.errors import DataError, ParameterError


@pytest.fixture(scope="module")
def two_references():
    """Two GFlash samples of 10,000 showers: the statistical checks (slow tests)."""
    a, _ = reference_showers(10000, seed=101, progress=False)
    b, _ = reference_showers(10000, seed=202, progress=False)
    return a, b


@pytest.fixture(scope="module")
def few_references():
    """Two GFlash samples of 2,000 showers: what the report's plumbing needs."""
    a, _ = reference_showers(2000, seed=101, progress=False)
    b, _ = reference_showers(2000, seed=202, progress=False)
    return a, b


def _scaled(showers, factor):
    return ShowerSet(showers.e_inc, showers.cells * factor, showers.geometry)


@pytest.mark.slow
def test_classifier_test_reference_vs_reference_is_half(two_references):
    a, b = two_references
    res = classifier_test(high_level_inputs(a), high_level_inputs(b), epochs=8, seed=1, progress=False)
    assert abs(res.auc - 0.5) < 0.03
    assert res.jsd < 0.02 and res.n_test == 4000
    low = classifier_test(low_level_inputs(a), low_level_inputs(b), epochs=4, seed=1, progress=False)
    assert abs(low.auc - 0.5) < 0.03


@pytest.mark.slow
def test_classifier_test_flags_cells_scaled_by_1p1(two_references):
    a, b = two_references
    wrong = _scaled(b, 1.1)
    res = classifier_test(high_level_inputs(a), high_level_inputs(wrong), epochs=8, seed=1, progress=False)
    assert res.auc > 0.9 and res.jsd > 0.5
    low = classifier_test(low_level_inputs(a), low_level_inputs(wrong), epochs=4, seed=1, progress=False)
    assert low.auc > 0.6


@pytest.mark.slow
def test_separation_power_flags_scaled_response(two_references):
    a, b = two_references
    fa, fb, fw = shower_features(a), shower_features(b), shower_features(_scaled(b, 1.1))
    floor = separation_power(fa["etot_over_einc"], fb["etot_over_einc"])
    wrong = separation_power(fa["etot_over_einc"], fw["etot_over_einc"])
    assert floor < 0.01 and wrong > 0.5
    for key in ("efrac_1", "width_x_1", "sparsity_1"):  # other features stay at the floor level
        assert separation_power(fa[key], fb[key]) < 0.01


def test_validate_showers_report_and_table(few_references):
    a, b = few_references
    rep = validate_showers(a, b, epochs=2, levels=("high",), progress=False)
    assert set(rep.classifier) == {"high"} and "cell_log10e" in rep.separation
    assert max(rep.separation.values()) < 0.05
    m = rep.metrics(prefix="floor_")
    assert "floor_auc_high" in m and "floor_sep_etot_over_einc" in m
    assert {"floor_auc_err_high", "floor_jsd_raw_high", "floor_fpd", "floor_kpd_err"} <= set(m)
    assert m["floor_preset_high"] == "tutorial+custom"  # epochs=2 is not the preset's
    table = classifier_table({"floor": rep})
    assert table.loc[0, "comparison"] == "floor" and table["AUC high"].notna().all()
    assert len(table) == 1  # tutorial numbers are not put beside the challenge's published AUCs
    challenge_like = rep._replace(classifier={"high": rep.classifier["high"]._replace(preset="challenge")})
    table = classifier_table({"floor": challenge_like})
    assert (table["preset"] == "challenge (published)").sum() == len(PUBLISHED_AUC)
    with pytest.raises(ParameterError, match="unknown classifier input level"):
        validate_showers(a, b, levels=("mid",))


def test_validate_showers_trains_with_the_threads_it_is_given(few_references, monkeypatch):
    """``threads=None`` (torch's setting: the fast choice for the challenge's 3 x 2048 network) reaches the
    classifier; the default stays at one thread."""
    import hepml_nb.calo.classifier as classifier_module

    seen, real = [], classifier_module.torch_threads
    monkeypatch.setattr(classifier_module, "torch_threads", lambda n: seen.append(n) or real(n))
    a, b = (s.subset(slice(0, 300)) for s in few_references)
    for threads in (None, 1):
        kwargs = {} if threads == 1 else {"threads": threads}
        validate_showers(a, b, epochs=1, levels=("high",), distances=False, progress=False, **kwargs)
    assert seen == [None, 1]


def test_jsd_from_bce_limits():
    assert jsd_from_bce(np.log(2)) == pytest.approx(0.0)
    assert jsd_from_bce(0.0) == pytest.approx(1.0)


def test_classifier_test_rejects_bad_inputs():
    with pytest.raises(DataError, match="same width"):
        classifier_test(np.zeros((100, 3)), np.zeros((100, 4)))
    with pytest.raises(DataError, match="at least 50 showers"):
        classifier_test(np.zeros((10, 3)), np.zeros((100, 3)))
    with pytest.raises(ParameterError, match="epochs and batch_size must be >= 1"):
        classifier_test(np.zeros((100, 3)), np.zeros((100, 3)), epochs=0)


def test_classifier_test_is_reproducible_whatever_the_global_torch_state(seed):
    """Dropout draws from the seeded stream, not from torch's (randomly seeded) global generator."""
    import torch

    rng = np.random.default_rng(seed)
    ref, gen = rng.normal(size=(600, 5)), rng.normal(0.3, 1.0, size=(600, 5))
    torch.manual_seed(1)
    first = classifier_test(ref, gen, hidden=(16,), epochs=3, seed=seed, progress=False, n_bootstrap=0)
    torch.manual_seed(2)
    state = torch.get_rng_state()
    second = classifier_test(ref, gen, hidden=(16,), epochs=3, seed=seed, progress=False, n_bootstrap=0)
    assert first.auc == second.auc and first.jsd == second.jsd
    assert torch.equal(torch.get_rng_state(), state)  # the caller's stream is left alone


# --- presets (issue #11): the challenge's evaluate.py configuration, bootstrap errors, clipped JSD


def _capture_training(monkeypatch):
    """Replace the training loop by a no-op that records the network and its arguments."""
    import hepml_nb.calo.classifier as clf

    seen = {}

    def fake_train(net, train, val, **kwargs):
        seen.update(net=net, train=train, val=val, **kwargs)
        return net.eval(), 1, {"val_bce": [], "val_accuracy": []}

    monkeypatch.setattr(clf, "_train_mlp", fake_train)
    return seen


def test_challenge_preset_builds_the_challenge_network_and_optimiser(monkeypatch):
    import torch

    seen = _capture_training(monkeypatch)
    rng = np.random.default_rng(3)
    res = classifier_test(rng.normal(size=(500, 6)), rng.normal(size=(700, 6)), preset="challenge", progress=False)
    layers = list(seen["net"])
    linears = [m for m in layers if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(6, 2048), (2048, 2048), (2048, 2048), (2048, 1)]
    acts = [m for m in layers if isinstance(m, torch.nn.LeakyReLU)]
    assert len(acts) == 3 and all(m.negative_slope == pytest.approx(0.01) for m in acts)
    assert not any(isinstance(m, torch.nn.Dropout) for m in layers)
    assert seen["lr"] == pytest.approx(2e-4) and seen["batch_size"] == 1000 and seen["epochs"] == 50
    assert seen["select"] == "accuracy"
    # 60/20/20 of the 500 showers per class (the larger sample is subsampled), classes balanced in each split
    assert (res.n_train, res.n_val, res.n_test) == (600, 200, 200)
    assert seen["train"][1].mean() == 0.5 and seen["val"][1].mean() == 0.5 and res.labels.mean() == 0.5
    assert res.preset == "challenge" and res.settings["hidden"] == (2048, 2048, 2048)
    assert PRESETS["challenge"].epochs == 50 and PRESETS["challenge"].dropout == 0.0
    # evaluate.py sets torch's default dtype to float64: the network and its arithmetic are float64
    assert all(p.dtype == torch.float64 for p in seen["net"].parameters())
    # its inputs are not standardised (the training split is the raw inputs, shuffled)
    assert res.settings["standardize"] is False and np.abs(seen["train"][0]).max() > 3.0
    # the AUC is that of the isotonic-calibrated output, the JSD 1 - BCE(calibrated) / ln 2
    assert res.auc == pytest.approx(roc_auc_score(res.labels, res.scores))
    assert res.jsd_raw == pytest.approx(jsd_from_bce(res.bce))


def test_tutorial_preset_is_the_default_and_overrides_are_marked(monkeypatch):
    import torch

    seen = _capture_training(monkeypatch)
    rng = np.random.default_rng(4)
    ref, gen = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    res = classifier_test(ref, gen, progress=False, n_bootstrap=0)  # the errors are not what this test is about
    widths = [m.out_features for m in seen["net"] if isinstance(m, torch.nn.Linear)]
    assert widths == [256, 256, 1] and sum(isinstance(m, torch.nn.Dropout) for m in seen["net"]) == 2
    assert (seen["lr"], seen["batch_size"], seen["epochs"], seen["select"]) == (1e-3, 256, 20, "loss")
    assert res.preset == "tutorial" and res.settings["standardize"] is True
    assert all(p.dtype == torch.float32 for p in seen["net"].parameters())
    assert np.abs(seen["train"][0].mean(0)).max() < 1e-5  # standardised on the training split
    quick = {"progress": False, "n_bootstrap": 0}
    assert classifier_test(ref, gen, epochs=3, **quick).preset == "tutorial+custom"
    assert classifier_test(ref, gen, standardize=False, **quick).preset == "tutorial+custom"
    assert classifier_test(ref, gen, standardize=True, **quick).preset == "tutorial"
    assert classifier_test(ref, gen, preset="challenge", hidden=(8,), **quick).preset == "challenge+custom"
    with pytest.raises(ParameterError, match="unknown classifier preset 'fast'"):
        classifier_test(ref, gen, preset="fast")


def _toy_showers(geometry, n=120, n_cells=50, seed=0):
    rng = np.random.default_rng(seed)
    e_inc = rng.uniform(1.0, 100.0, n)
    cells = (rng.exponential(0.05, size=(n, n_cells)) * (rng.random((n, n_cells)) < 0.5)).astype(np.float32)
    return ShowerSet(e_inc, cells, geometry)


def test_challenge_low_level_inputs_are_evaluate_py_cls_low():
    """cls-low: log10(E_inc / MeV) first, then every voxel / E_inc, voxels below 15.15 keV set to 0."""
    s = _toy_showers("dataset2")
    thr = CHALLENGE_THRESHOLD_MEV
    assert thr == 0.5e-3 / 0.033  # evaluate.py: 0.5 keV / 0.033 sampling fraction
    x = low_level_inputs(s, representation="fraction", threshold_mev=thr)
    frac = np.where(s.cells < thr, 0.0, s.cells) / (1000.0 * s.e_inc[:, None])
    np.testing.assert_allclose(x[:, 0], np.log10(1000.0 * s.e_inc), rtol=1e-6)
    np.testing.assert_allclose(x[:, 1:], frac, rtol=1e-6)
    assert ((s.cells > 0) & (s.cells < thr)).any() and not ((x[:, 1:] > 0) & (s.cells < thr)).any()
    np.testing.assert_array_equal(low_level_inputs(s), low_level_inputs(s, threshold_mev=0.0))
    with pytest.raises(ParameterError, match="threshold_mev must be >= 0"):
        low_level_inputs(s, threshold_mev=-1.0)
    with pytest.raises(ParameterError, match="unknown low-level representation 'raw'; choose one of: log, fraction"):
        low_level_inputs(s, representation="raw")


def test_challenge_voxel_threshold_per_dataset():
    """evaluate.py's min_energy: 1 MeV on dataset 1, 15.15 keV on datasets 2 and 3; none elsewhere."""
    assert default_threshold_mev("dataset1-photons", "challenge") == 1.0
    assert default_threshold_mev("dataset1-pions", "challenge") == 1.0
    assert default_threshold_mev("dataset2", "challenge") == default_threshold_mev("dataset3", "challenge")
    assert default_threshold_mev("dataset3", "challenge") == pytest.approx(0.015151515)
    assert default_threshold_mev("calogan", "challenge") == 0.0 and default_threshold_mev("dataset2") == 0.0


def _evaluate_py_columns(showers):
    """The columns of evaluate.py's prepare_high_data_for_classifier, written out from its source (dataset 2)."""
    f = challenge_features(showers)
    layers = range(45)  # every dataset-2 layer has voxels and 16 angular bins
    cols = [np.log10(1000.0 * showers.e_inc)] + [np.log10(f[f"E_layer_{i}"] + 1e-8) for i in layers]
    for kind in ("EC_eta", "EC_phi", "width_eta", "width_phi"):
        cols += [f[f"{kind}_{i}"] / 1e2 for i in layers]
    cols += [np.log10(f["E_tot"] + 1e-8)] + [f[f"sparsity_{i}"] for i in layers]
    cols += [f[f"EC_r_{i}"] / 1e2 for i in layers] + [f[f"width_r_{i}"] / 1e2 for i in layers]
    return np.column_stack(cols)


def test_challenge_high_level_inputs_are_evaluate_py_cls_high():
    """cls-high: 1 + 8 x 45 + 1 = 362 columns on dataset 2, logarithms and /100 as evaluate.py, no E_tot/E_inc,
    features of the thresholded voxels, nothing standardised."""
    s = _toy_showers("dataset2", n=60, n_cells=6480, seed=5)
    thr = CHALLENGE_THRESHOLD_MEV
    x = high_level_inputs(s, representation="challenge", threshold_mev=thr)
    expected = _evaluate_py_columns(ShowerSet(s.e_inc, np.where(s.cells < thr, 0.0, s.cells), "dataset2"))
    assert x.shape == (60, 362) and x.dtype == np.float32
    np.testing.assert_allclose(x, expected, rtol=2e-6, atol=1e-6)
    response = challenge_features(s)["etot_over_einc"]
    assert not any(np.allclose(col, response, rtol=1e-3) for col in x.T)  # the challenge gives no E_tot/E_inc
    assert not np.allclose(x, high_level_inputs(s, representation="challenge"))  # the threshold matters
    # the tutorial's features: the response first, then the per-layer features and log10(E_inc / GeV)
    tutorial = high_level_inputs(s)
    np.testing.assert_allclose(tutorial[:, 0], response, rtol=1e-6)
    np.testing.assert_allclose(tutorial[:, -1], np.log10(s.e_inc), rtol=1e-6)
    with pytest.raises(ParameterError, match="unknown high-level representation 'mine'; choose one of: features"):
        high_level_inputs(s, representation="mine")


def test_challenge_high_level_inputs_in_the_calogan_geometry_use_the_same_scaling():
    """CaloGAN is none of the challenge's datasets: its own features get evaluate.py's scaling."""
    s = _toy_showers("calogan", n=40, n_cells=504, seed=6)
    x = high_level_inputs(s, representation="challenge")
    f, e_mev = shower_features(s, threshold_mev=0.0), 1000.0 * s.e_inc
    assert x.shape == (40, 1 + 3 + 12 + 1 + 3)
    np.testing.assert_allclose(x[:, 0], np.log10(e_mev), rtol=1e-6)
    np.testing.assert_allclose(
        x[:, 1:4], np.log10(np.column_stack([f[f"efrac_{i}"] for i in range(3)]) * e_mev[:, None] + 1e-8), rtol=1e-6
    )
    np.testing.assert_allclose(x[:, 4], f["ce_x_0"] / 100, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(x[:, 16], np.log10(f["etot_over_einc"] * e_mev + 1e-8), rtol=1e-6)
    np.testing.assert_allclose(x[:, 17:], np.column_stack([f[f"sparsity_{i}"] for i in range(3)]), rtol=1e-6)


def test_preset_inputs_are_each_presets_representation_and_threshold():
    s = _toy_showers("dataset2", n=30, n_cells=6480, seed=9)
    thr = CHALLENGE_THRESHOLD_MEV
    np.testing.assert_array_equal(
        preset_inputs(s, level="high", preset="challenge"),
        high_level_inputs(s, representation="challenge", threshold_mev=thr),
    )
    np.testing.assert_array_equal(
        preset_inputs(s, level="low", preset="challenge"),
        low_level_inputs(s, representation="fraction", threshold_mev=thr),
    )
    np.testing.assert_array_equal(preset_inputs(s, level="high"), high_level_inputs(s))
    np.testing.assert_array_equal(preset_inputs(s, level="low"), low_level_inputs(s))
    with pytest.raises(ParameterError, match="unknown classifier input level 'cells'; choose 'low' or 'high'"):
        preset_inputs(s, level="cells")


def test_challenge_split_is_evaluate_py_fixed_counts():
    assert challenge_split("dataset2", 100000) == (60000, 20000, 20000) == CHALLENGE_SPLITS["dataset3"]
    assert challenge_split("dataset3", 130000) == (60000, 20000, 50000)  # np.split puts the rest in its "val"
    assert challenge_split("dataset1-photons", 121000) == (80000, 20000, 21000)
    assert challenge_split("dataset1-pions", 120800) == (80000, 20000, 20800)
    assert challenge_split("dataset2", 99999) is None and challenge_split("calogan", 10**6) is None
    rng = np.random.default_rng(8)
    ref, gen = rng.normal(size=(70, 3)), rng.normal(size=(90, 3))
    res = classifier_test(ref, gen, hidden=(4,), epochs=1, split=(30, 15, 20), progress=False, n_bootstrap=0)
    assert (res.n_train, res.n_val, res.n_test) == (60, 30, 40) and res.labels.mean() == 0.5
    with pytest.raises(ParameterError, match=r"split \(50, 15, 20\) must be three positive counts"):
        classifier_test(ref, gen, split=(50, 15, 20), progress=False)


def test_shower_classifier_test_takes_the_challenge_split(monkeypatch):
    import hepml_nb.calo.classifier as clf

    seen = _capture_training(monkeypatch)
    asked = []
    monkeypatch.setattr(clf, "challenge_split", lambda geometry, n: asked.append((geometry, n)) or (50, 20, 30))
    a, b = _toy_showers("dataset2", n=120, seed=1), _toy_showers("dataset2", n=110, seed=2)
    res = shower_classifier_test(a, b, level="low", preset="challenge", progress=False, n_bootstrap=0)
    assert asked == [("dataset2", 110)] and (res.n_train, res.n_val, res.n_test) == (100, 40, 60)
    assert len(seen["train"][1]) == 100
    tutorial = shower_classifier_test(a, b, level="low", progress=False, n_bootstrap=0)  # 60/20/20 of 110
    assert asked == [("dataset2", 110)] and (tutorial.n_train, tutorial.n_val, tutorial.n_test) == (132, 44, 44)


def test_train_mlp_keeps_the_first_epoch_of_highest_validation_accuracy(seed):
    """evaluate.py's epoch selection: the first epoch of highest accuracy of the selection set, and training
    stops at an accuracy of 1."""
    rng = np.random.default_rng(seed)
    ref, gen = rng.normal(size=(600, 4)), rng.normal(0.4, 1.0, size=(600, 4))
    kw = {"preset": "challenge", "hidden": (16,), "batch_size": 64, "lr": 1e-3, "progress": False, "seed": seed}
    kw["n_bootstrap"] = 0
    res = classifier_test(ref, gen, epochs=12, **kw)
    acc = res.history["val_accuracy"]
    assert len(acc) == 12 and len(res.history["val_bce"]) == 12
    assert res.best_epoch == int(np.argmax(acc)) + 1  # argmax: the first of equal maxima
    separable = classifier_test(ref, ref + 5.0, epochs=40, **kw)
    assert separable.history["val_accuracy"][-1] == 1.0 and len(separable.history["val_accuracy"]) < 40
    assert separable.best_epoch == len(separable.history["val_accuracy"])


def test_shower_classifier_test_applies_the_challenge_threshold(monkeypatch):
    seen = _capture_training(monkeypatch)
    a, b = _toy_showers("dataset2", seed=1), _toy_showers("dataset2", seed=2)
    res = shower_classifier_test(a, b, level="low", preset="challenge", progress=False, n_bootstrap=0)
    assert res.settings["threshold_mev"] == CHALLENGE_THRESHOLD_MEV and res.settings["standardize"] is False
    x = seen["train"][0]  # log10(E_inc / MeV) and E_cell / E_inc, not standardised
    kept = x[:, 1:] * 10.0 ** x[:, :1]  # back to E_cell [MeV]: every non-zero cell is above 15.15 keV
    assert np.all(kept >= 0) and (kept == 0).mean() > (a.cells == 0).mean()
    assert kept[kept > 0].min() >= CHALLENGE_THRESHOLD_MEV * (1 - 1e-5)
    off = shower_classifier_test(
        a, b, level="low", preset="challenge", threshold_mev=0.0, progress=False, n_bootstrap=0
    )
    assert off.settings["threshold_mev"] == 0.0
    with pytest.raises(ParameterError, match="unknown classifier input level 'mid'"):
        shower_classifier_test(a, b, level="mid")


def test_isotonic_calibration_is_monotone_in_the_raw_score(seed):
    rng = np.random.default_rng(seed)
    ref, gen = rng.normal(size=(800, 4)), rng.normal(1.0, 1.0, size=(800, 4))
    res = classifier_test(ref, gen, hidden=(16,), epochs=3, seed=seed, progress=False)
    order = np.argsort(res.raw_scores, kind="stable")
    assert np.all(np.diff(res.scores[order]) >= -1e-12)  # a non-decreasing step function of the raw output
    assert np.unique(res.scores).size < np.unique(res.raw_scores).size
    assert res.scores.min() >= 1e-6 and res.scores.max() <= 1 - 1e-6
    assert res.auc == pytest.approx(res.auc_raw)  # the tutorial quotes the raw AUC
    assert res.auc > 0.75 and 0 < res.auc_err < 0.05 and 0 < res.jsd_err < 0.1


def test_jsd_is_never_shown_negative_but_the_raw_estimate_is_kept():
    rng = np.random.default_rng(11)
    ref, gen = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))
    kw = {"hidden": (8,), "epochs": 1, "progress": False, "n_bootstrap": 50}  # errors for the bound below
    results = [classifier_test(ref, gen, seed=s, **kw) for s in range(3)]
    assert any(r.jsd_raw < 0 for r in results)  # the estimator fluctuates below 0 ...
    for r in results:  # ... the displayed value does not
        assert r.jsd >= 0 and r.jsd == max(r.jsd_raw, 0.0) and r.jsd_raw == pytest.approx(jsd_from_bce(r.bce))
        assert "JSD -" not in r.summary() and abs(r.auc - 0.5) < 4 * r.auc_err + 0.02
    rep = ValidationReport({}, {"high": next(r for r in results if r.jsd_raw < 0)})
    assert not classifier_table({"floor": rep}, published=False)["JSD high"].str.startswith("-").any()
    assert rep.metrics()["jsd_high"] >= 0


def _challenge_floor(a, b, **kwargs):
    floor = shower_classifier_test(
        a, b, level="high", preset="challenge", seed=1, threads=None, progress=False, **kwargs
    )
    assert floor.preset.startswith("challenge") and floor.n_test == 2 * (len(a) - int(0.8 * len(a)))
    print(floor.summary(), f"raw AUC {floor.auc_raw:.3f}")
    # 0.50 +- 0.02, or 3 bootstrap standard errors where that is wider (at 2 x 2000 test showers the AUC's
    # standard error is about 0.009, so 0.02 is only 2.2 sigma); the JSD likewise within 0.01 or 3 errors
    assert abs(floor.auc - 0.5) < max(0.02, 3 * floor.auc_err)
    assert floor.jsd < max(0.01, 3 * floor.jsd_err)


@pytest.mark.slow
def test_challenge_preset_reference_vs_reference_and_scaled_cells(two_references):
    """The challenge's classifier (its unstandardised inputs, float64 3 x 2048) at 2k vs 2k high-level inputs
    and 20 epochs (a few minutes on 2 CPU cores): the floor is consistent with 0.5 and a sample with every
    cell scaled by 1.3 is flagged. A scale of 1.05 is not, at this size or at 100k vs 100k in 10 epochs, by
    the challenge's own evaluate.py either (the guide's side-by-side table): its unstandardised network
    must learn the difference of log10(E_tot) and log10(E_inc); measured here: 0.677 +- 0.018."""
    a, b = two_references
    few = np.arange(2000)
    _challenge_floor(a.subset(few), b.subset(few), epochs=20)
    wrong = shower_classifier_test(
        a.subset(few), _scaled(b.subset(few), 1.3), level="high", preset="challenge", epochs=20, seed=1,
        threads=None, progress=False,
    )  # fmt: skip
    print(wrong.summary())
    assert wrong.auc > 0.6 and wrong.auc - 0.5 > 5 * wrong.auc_err


@pytest.mark.slow
@pytest.mark.paper
def test_challenge_preset_reference_vs_reference_at_10k(two_references):
    """Issue #11's acceptance scale: 10k vs 10k (149 s on the 2-core machine, several times that on a slower
    one; pytest --paper)."""
    _challenge_floor(*two_references)
