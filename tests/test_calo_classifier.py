"""Acceptance of the classifier test: reference vs reference is at 0.5, a 10 % miscalibration is caught."""

import numpy as np
import pytest

from hepml_nb.calo.classifier import classifier_test, high_level_inputs, jsd_from_bce, low_level_inputs
from hepml_nb.calo.features import shower_features
from hepml_nb.calo.gflash import ShowerSet, reference_showers
from hepml_nb.calo.report import classifier_table, validate_showers
from hepml_nb.calo.validation import separation_power
from hepml_nb.core.errors import DataError, ParameterError


@pytest.fixture(scope="module")
def two_references():
    a, _ = reference_showers(10000, seed=101, progress=False)
    b, _ = reference_showers(10000, seed=202, progress=False)
    return a, b


def _scaled(showers, factor):
    return ShowerSet(showers.e_inc, showers.cells * factor, showers.geometry)


def test_classifier_test_reference_vs_reference_is_half(two_references):
    a, b = two_references
    res = classifier_test(high_level_inputs(a), high_level_inputs(b), epochs=8, seed=1, progress=False)
    assert abs(res.auc - 0.5) < 0.03
    assert res.jsd < 0.02 and res.n_test == 4000
    low = classifier_test(low_level_inputs(a), low_level_inputs(b), epochs=4, seed=1, progress=False)
    assert abs(low.auc - 0.5) < 0.03


def test_classifier_test_flags_cells_scaled_by_1p1(two_references):
    a, b = two_references
    wrong = _scaled(b, 1.1)
    res = classifier_test(high_level_inputs(a), high_level_inputs(wrong), epochs=8, seed=1, progress=False)
    assert res.auc > 0.9 and res.jsd > 0.5
    low = classifier_test(low_level_inputs(a), low_level_inputs(wrong), epochs=4, seed=1, progress=False)
    assert low.auc > 0.6


def test_separation_power_flags_scaled_response(two_references):
    a, b = two_references
    fa, fb, fw = shower_features(a), shower_features(b), shower_features(_scaled(b, 1.1))
    floor = separation_power(fa["etot_over_einc"], fb["etot_over_einc"])
    wrong = separation_power(fa["etot_over_einc"], fw["etot_over_einc"])
    assert floor < 0.01 and wrong > 0.5
    for key in ("efrac_1", "width_x_1", "sparsity_1"):  # other features stay at the floor level
        assert separation_power(fa[key], fb[key]) < 0.01


def test_validate_showers_report_and_table(two_references):
    a, b = two_references
    rep = validate_showers(
        a.subset(slice(0, 2000)), b.subset(slice(0, 2000)), epochs=2, levels=("high",), progress=False
    )
    assert set(rep.classifier) == {"high"} and "cell_log10e" in rep.separation
    assert max(rep.separation.values()) < 0.05
    m = rep.metrics(prefix="floor_")
    assert "floor_auc_high" in m and "floor_sep_etot_over_einc" in m
    table = classifier_table({"floor": rep})
    assert table.loc[0, "comparison"] == "floor" and table["AUC high"].notna().all()
    with pytest.raises(ParameterError, match="unknown classifier input level"):
        validate_showers(a, b, levels=("mid",))


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
    first = classifier_test(ref, gen, hidden=(16,), epochs=3, seed=seed, progress=False)
    torch.manual_seed(2)
    state = torch.get_rng_state()
    second = classifier_test(ref, gen, hidden=(16,), epochs=3, seed=seed, progress=False)
    assert first.auc == second.auc and first.jsd == second.jsd
    assert torch.equal(torch.get_rng_state(), state)  # the caller's stream is left alone
