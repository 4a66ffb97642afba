import numpy as np
import pytest

from hepml_nb.calo.validation import (
    chi2_ndf,
    chi2_per_energy,
    common_bins,
    feature_separation,
    frechet_distance,
    frechet_physics_distance,
    kernel_physics_distance,
    physics_distances,
    separation_power,
    separation_power_hist,
    standardise_features,
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


# --- Frechet and kernel physics distances (Kansal et al., arXiv:2211.10295)


def _gaussians(n=4000, d=5, shift=0.0, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d))
    b = rng.normal(size=(n, d))
    b[:, 0] += shift
    b[:, 1] *= scale
    return a, b


def test_frechet_distance_analytic():
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 1.0]), np.diag([1.0, 1.0, 9.0])
    # |mu1 - mu2|^2 + sum (sigma1 - sigma2)^2 for diagonal covariances = 5 + (2 - 1)^2 + (1 - 3)^2
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(10.0)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_fpd_and_kpd_consistent_with_zero_for_identical_distributions():
    a, b = _gaussians(seed=5)
    fpd = frechet_physics_distance(a, b, n_batches=10, seed=1)
    kpd = kernel_physics_distance(a, b, batch_size=1000, seed=1)
    assert abs(fpd.value) < 3 * fpd.error and fpd.error < 0.01 and len(fpd.sizes) == 10
    assert abs(kpd.value) < 3 * kpd.error and kpd.values.size == 10 and kpd.sizes[0] == 1000


def test_fpd_matches_the_analytic_frechet_distance_and_kpd_flags_a_shift():
    a, b = _gaussians(shift=0.5, scale=1.3, seed=6)
    fpd = frechet_physics_distance(a, b, n_batches=10, seed=2)
    # features standardised by the reference (std 1): |0.5|^2 + (1.3 - 1)^2 = 0.34, plus sampling noise of the
    # two finite samples (about 2 * 0.5 * sqrt(2 / 4000) ~ 0.02), which the subsampling error does not include
    assert fpd.value == pytest.approx(0.34, abs=max(4 * fpd.error, 0.03))
    kpd = kernel_physics_distance(a, b, batch_size=1000, seed=2)
    assert kpd.value > 0 and kpd.significance() > 5
    assert "FPD = " in str(fpd)


def test_physics_distances_standardise_with_the_reference():
    a, b = _gaussians(n=2000, d=3, shift=0.5, seed=7)
    units = np.array([1e3, 1.0, 1e-3])  # the distances do not depend on the features' units
    d1 = physics_distances(a, b, seed=3, batch_size=500)
    d2 = physics_distances(a * units, b * units, seed=3, batch_size=500)
    assert d1["fpd"].value == pytest.approx(d2["fpd"].value, rel=1e-6)
    assert d1["kpd"].value == pytest.approx(d2["kpd"].value, rel=1e-6)
    fa = {"x": a[:, 0], "y": a[:, 1]}
    fb = {"y": b[:, 1], "x": b[:, 0]}  # dicts are matched by name
    x, y = standardise_features(fa, fb)
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(y[:, 0], (b[:, 0] - a[:, 0].mean()) / a[:, 0].std())
    with pytest.raises(DataError, match="feature sets differ"):
        standardise_features(fa, {"x": b[:, 0]})
    with pytest.raises(DataError, match="NaN"):
        standardise_features(a, np.full_like(b, np.nan))
    with pytest.raises(DataError, match="at least 20 samples"):
        frechet_physics_distance(a[:10], b[:10])
    with pytest.raises(DataError, match="KPD needs batches of at least 10"):
        kernel_physics_distance(a[:15], b[:15])
