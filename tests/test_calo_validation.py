import numpy as np
import pytest

from hepml_nb.calo.validation import (
    chi2_ndf,
    chi2_per_energy,
    common_bins,
    feature_separation,
    separation_power,
    separation_power_hist,
    verdict,
    verdict_summary,
    verdict_table,
)
from hepml_nb.core.errors import DataError, ParameterError


def test_separation_power_hist_hand_computed():
    # h1 = [1, 1, 0, 2] / 4 = [.25, .25, 0, .5]; h2 = [0, 2, 2, 0] / 4 = [0, .5, .5, 0]
    # S = 1/2 [ .25^2/.25 + .25^2/.75 + .5^2/.5 + .5^2/.5 ] = 1/2 [.25 + 1/12 + .5 + .5] = 2/3
    assert separation_power_hist([1, 1, 0, 2], [0, 2, 2, 0]) == pytest.approx(2 / 3)


def test_separation_power_identical_and_disjoint():
    assert separation_power_hist([3, 0, 5], [6, 0, 10]) == 0.0
    assert separation_power_hist([3, 0, 0], [0, 0, 1]) == pytest.approx(1.0)


def test_separation_power_samples_small_for_same_distribution(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=20000), rng.normal(size=20000)
    assert separation_power(a, b) < 0.003
    assert separation_power(a, b + 1.0) > 0.15
    # under/overflow folded into the edge bins
    assert separation_power(a, np.full(10, 100.0)) == pytest.approx(
        separation_power_hist(np.histogram(np.clip(a, *common_bins(a)[[0, -1]]), common_bins(a))[0], np.eye(30)[-1])
    )


def test_separation_power_hist_errors():
    with pytest.raises(DataError, match="different binnings"):
        separation_power_hist([1, 2], [1, 2, 3])
    with pytest.raises(DataError, match="positive sum"):
        separation_power_hist([0, 0], [1, 2])
    with pytest.raises(DataError, match="reference sample is empty"):
        common_bins(np.array([np.nan]))


def test_feature_separation_mismatch():
    with pytest.raises(DataError, match=r"feature sets differ: \['b'\]"):
        feature_separation({"a": np.ones(3)}, {"a": np.ones(3), "b": np.ones(3)})


def test_chi2_ndf_consistent_and_shifted(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=50000), rng.normal(size=50000)
    chi2, ndf = chi2_ndf(a, b, bins=20)
    assert ndf == 19 and chi2 / ndf < 2.5
    chi2, ndf = chi2_ndf(a, b + 0.2, bins=20)
    assert chi2 / ndf > 10


def test_chi2_per_energy_slices_and_errors(seed):
    rng = np.random.default_rng(seed)
    e1, e2 = rng.uniform(1, 100, 4000), rng.uniform(1, 100, 4000)
    v1, v2 = rng.normal(size=4000), rng.normal(size=4000) * np.where(e2 > 50, 1.5, 1.0)
    points = chi2_per_energy(v1, e1, v2, e2, energy_edges=[1, 50, 100])
    assert len(points) == 2 and points[0].n_reference > 1000
    assert points[0].chi2_ndf < 3 < points[1].chi2_ndf
    with pytest.raises(ParameterError, match="increasing list"):
        chi2_per_energy(v1, e1, v2, e2, energy_edges=[50, 1])
    with pytest.raises(DataError, match=r"energy slice \[100, 200\) GeV has 0 reference"):
        chi2_per_energy(v1, e1, v2, e2, energy_edges=[1, 100, 200])


def test_verdict_table_uses_floor():
    table = verdict_table({"a": 0.5, "b": 0.03, "c": 0.011}, {"a": 0.01, "b": 0.02, "c": 0.0})
    assert list(table["feature"]) == ["a", "b", "c"]
    assert list(table["verdict"]) == ["poor", "good", "good"]
    assert verdict(0.05) == "fair"
    text = verdict_summary(table)
    assert "NOT reproduced (S - floor >= 0.1): a" in text and "b, c" in text
