import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hepml_nb.core.metrics import (
    auc,
    bootstrap_auc,
    compare_intervals,
    compare_values,
    rejection_at,
    roc,
    tagging_summary,
)


@pytest.fixture
def scores(seed):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], 2000)
    return y, np.concatenate([rng.normal(0, 1, 2000), rng.normal(1.5, 1, 2000)])


def test_auc_matches_sklearn_and_gaussian_expectation(scores):
    y, s = scores
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s))
    # two unit Gaussians 1.5 apart: AUC = Phi(1.5 / sqrt 2) = 0.8556
    assert auc(y, s) == pytest.approx(0.8556, abs=0.015)


def test_rejection_at_hand_computed():
    y = np.array([0, 0, 0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.95])
    # at eps_S = 0.5 (score > 0.9 keeps one of two signal jets), one of four background jets passes
    assert rejection_at(y, s, 0.5) == pytest.approx(4.0)


def test_rejection_at_rejects_bad_efficiency(scores):
    with pytest.raises(ValueError, match="signal efficiency must be in"):
        rejection_at(*scores, 1.5)


def test_roc_requires_two_classes():
    with pytest.raises(ValueError, match="both classes"):
        roc(np.ones(4), np.arange(4))


def test_tagging_summary_keys_and_ordering(scores):
    out = tagging_summary(*scores)
    assert set(out) == {"auc", "accuracy", "rej30", "rej50"}
    assert out["rej30"] > out["rej50"] > 1


def test_bootstrap_auc_spread_shrinks_with_more_events(scores, seed):
    y, s = scores
    _, wide = bootstrap_auc(np.r_[y[:100], y[-100:]], np.r_[s[:100], s[-100:]], n_boot=100, seed=seed)
    _, narrow = bootstrap_auc(y, s, n_boot=100, seed=seed)
    assert 0 < narrow < wide


def test_rejection_interval_clopper_pearson_hand_computed():
    from scipy.stats import beta

    from hepml_nb.core.metrics import rejection_interval

    # 4 signal, 1000 background; at eps_S = 0.5 the cut is the 2nd-highest signal score (0.9): 2 background pass
    y = np.r_[np.ones(4), np.zeros(1000)].astype(int)
    s = np.r_[[0.95, 0.9, 0.2, 0.1], np.linspace(0.0, 0.5, 998), [0.92, 0.99]]
    r = rejection_interval(y, s, 0.5)
    assert (r.n_background_pass, r.n_background, r.is_lower_limit) == (2, 1000, False)
    assert r.value == pytest.approx(500.0)
    assert r.low == pytest.approx(1 / beta.ppf(0.5 + 0.6827 / 2, 3, 998))
    assert r.high == pytest.approx(1 / beta.ppf(0.5 - 0.6827 / 2, 2, 999))
    assert r.low < r.value < r.high and str(r).startswith("500 (+")


def test_rejection_interval_no_background_passing_is_a_lower_limit():
    from hepml_nb.core.metrics import format_rejection, rejection_interval

    y = np.r_[np.ones(10), np.zeros(750)].astype(int)
    s = np.r_[np.linspace(0.6, 1.0, 10), np.linspace(0.0, 0.5, 750)]
    r = rejection_interval(y, s, 0.3)
    assert r.is_lower_limit and r.n_background_pass == 0 and r.high == float("inf")
    assert r.value == pytest.approx(1.0 / (1.0 - (1.0 - 0.6827) ** (1 / 750)))  # about 653, below the test size
    assert format_rejection(r) == f"> {r.value:.0f}"


def test_rejection_interval_rejects_bad_levels(scores):
    from hepml_nb.core.metrics import rejection_interval

    with pytest.raises(ValueError, match="signal efficiency must be in"):
        rejection_interval(*scores, 0.0)
    with pytest.raises(ValueError, match="confidence level must be in"):
        rejection_interval(*scores, 0.5, cl=1.0)


def test_bootstrap_rejection_brackets_the_value(scores, seed):
    from hepml_nb.core.metrics import bootstrap_rejection

    low, high = bootstrap_rejection(*scores, 0.5, n_boot=50, seed=seed)
    assert low < rejection_at(*scores, 0.5) < high


def test_rejection_summary_keys(scores):
    from hepml_nb.core.metrics import rejection_summary

    out = rejection_summary(*scores)
    assert out["rej50_n_background"] == 2000 and out["rej50_low"] < out["rej50_high"]
    assert {"rej30_low", "rej30_high", "rej30_n_pass", "rej30_lower_limit"} <= set(out)


@pytest.mark.parametrize(
    "value,error,expected",
    [
        (0.95, 0.01, "higher than"),
        (0.85, 0.01, "lower than"),
        (0.92, 0.01, "compatible with"),
        (0.95, 0, "higher than"),
    ],
)
def test_compare_values_is_the_two_sigma_rule(value, error, expected):
    assert compare_values(value, error, 0.90, 0.01) == expected


def test_compare_values_without_uncertainty_is_not_comparable():
    assert compare_values(0.95, 0.0, 0.90, 0.0) == "not comparable with"
    assert compare_values(0.95, float("nan"), 0.90, 0.01) == "not comparable with"


def test_compare_intervals_needs_them_apart():
    assert compare_intervals(10, 20, 1, 9) == "higher than"
    assert compare_intervals(1, 9, 10, 20) == "lower than"
    assert compare_intervals(5, 12, 10, float("inf")) == "compatible with"
