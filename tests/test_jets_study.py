"""Tagger comparison records (hepml_nb.jets.study): flat metrics, rejection intervals, lower limits."""

import numpy as np
import pytest

from hepml_nb.core.metrics import rejection_interval, tagging_summary
from hepml_nb.course.catalog import notebook_path
from hepml_nb.course.params import read_parameters
from hepml_nb.jets.study import (
    TaggerSummary,
    balanced_accuracy,
    compare_taggers,
    signal_vs_background,
    tagger_summary,
)


def test_tagger_summary_metrics_keep_the_flat_keys_and_add_intervals(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 400)
    score = np.clip(0.3 * y + rng.uniform(0, 0.7, 400), 0, 1)
    summary = tagger_summary(y, score)
    plain = tagging_summary(y, score)
    assert isinstance(summary, TaggerSummary)
    for key in ("auc", "rej30", "rej50"):  # the existing keys keep their values
        assert getattr(summary, key) == plain[key]
    assert summary.accuracy == pytest.approx(balanced_accuracy(y, score))
    flat = summary.metrics(suffix="_particlenet")
    assert {"auc_particlenet", "accuracy_particlenet", "rej30_particlenet", "rej50_particlenet"} <= set(flat)
    assert {"rej50_low_particlenet", "rej50_high_particlenet", "rej50_n_pass_particlenet"} <= set(flat)
    assert summary.rej50_low <= summary.rej50 <= summary.rej50_high
    assert np.isnan(summary.rej50_boot_low)
    booted = tagger_summary(y, score, n_boot=30, seed=seed)
    assert booted.rej50_boot_low <= booted.rej50 <= booted.rej50_boot_high


def test_balanced_accuracy_ignores_extra_background():
    y = np.r_[np.ones(100), np.zeros(100)]
    score = np.r_[np.full(80, 0.9), np.full(20, 0.1), np.full(90, 0.1), np.full(10, 0.9)]
    more = np.r_[y, np.zeros(900)], np.r_[score, np.r_[np.full(810, 0.1), np.full(90, 0.9)]]
    assert balanced_accuracy(y, score) == pytest.approx(0.85) == balanced_accuracy(*more)


def test_compare_taggers_prints_uncertainties_and_lower_limits(seed):
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(500), np.zeros(750)].astype(int)
    perfect = np.r_[rng.uniform(0.6, 1.0, 500), rng.uniform(0.0, 0.5, 750)]
    fuzzy = np.r_[rng.normal(2.0, 1.0, 500), rng.normal(0.0, 1.0, 750)]
    table = compare_taggers({"perfect": (y, perfect), "fuzzy": (y, fuzzy)}, n_boot=20, seed=seed)
    assert table.loc["perfect", "rej30_text"].startswith("> ") and table.loc["perfect", "rej30_n_pass"] == 0
    assert "(+" in table.loc["fuzzy", "rej50_text"] and table.loc["fuzzy", "rej50_n_pass"] > 0
    assert table.loc["fuzzy", "rej50_low"] < table.loc["fuzzy", "rej50"] < table.loc["fuzzy", "rej50_high"]
    assert table.loc["fuzzy", "rej50_boot_low"] <= table.loc["fuzzy", "rej50_boot_high"]


def test_default_profile_measures_rej50_to_better_than_20_percent():
    """With the notebook's defaults, 1/eps_B = 400 at 50 % (ParticleNet-Lite level) rests on enough QCD jets."""
    params = read_parameters(notebook_path("particlenet"))
    n_qcd = round(0.15 * params["n_jets_per_class"].default) + params["n_test_qcd"].default  # test split + extra
    k = round(n_qcd / 400)
    y = np.r_[[1, 1], np.zeros(n_qcd)].astype(int)
    score = np.r_[[1.0, 0.0], np.ones(k), np.full(n_qcd - k, 0.5)]  # k background jets pass the 50 % cut
    r = rejection_interval(y, score, 0.5)
    assert r.n_background_pass == k and (r.high - r.low) / (2 * r.value) < 0.20


def test_signal_vs_background_scores_a_multiclass_tagger_like_jetclass():
    # classes: 0 gluon, 1 quark, 2 W, 3 Z, 4 top; W-vs-QCD keeps W, gluon and quark jets only
    probs = np.array([[0.5, 0.2, 0.1, 0.1, 0.1], [0.1, 0.1, 0.6, 0.1, 0.1], [0.0, 0.0, 0.0, 0.0, 1.0]])
    y, score = signal_vs_background(probs, np.array([0, 2, 4]), signal=2, background=(0, 1))
    assert y.tolist() == [0, 1]
    assert score == pytest.approx([0.1 / 0.8, 0.6 / 0.8])
    two_class = np.array([[0.8, 0.2], [0.3, 0.7]])  # a binary tagger's score is its signal probability
    assert signal_vs_background(two_class, np.array([0, 1]), signal=1, background=(0,))[1] == pytest.approx([0.2, 0.7])
    with pytest.raises(ValueError, match="distinct"):
        signal_vs_background(probs, np.array([0, 2, 4]), signal=2, background=(2,))


def test_verdict_follows_the_auc_difference_and_its_uncertainty():
    from hepml_nb.jets.study import verdict

    rng = np.random.default_rng(5)
    y = np.repeat([0, 1], 3000)
    strong = y + rng.normal(0, 0.5, y.size)
    weak = y + rng.normal(0, 1.0, y.size)
    twin = 2 * weak + 1  # a monotonic transform of `weak`: the same ROC curve
    table = compare_taggers({"strong": (y, strong), "weak": (y, weak), "twin": (y, twin)}, n_boot=50)
    text = verdict(table, baseline="weak").splitlines()
    assert text[0].startswith("strong beats the weak in AUC") and "1/eps_B at 50 % is higher than" in text[0]
    assert text[1].startswith("twin is compatible with the weak in AUC")
    assert "1/eps_B at 50 % is compatible with" in text[1]
    below = verdict(table, baseline="strong").splitlines()[0]
    assert below.startswith("weak is below the strong in AUC") and "is lower than the baseline's" in below
    with pytest.raises(ValueError, match="baseline 'bdt' is not a row"):
        verdict(table, baseline="bdt")
