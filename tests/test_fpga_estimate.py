"""Tests of the analytic latency/resource estimator against the published figures and its trends."""
import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.fpga.estimate import (
    PUBLISHED, dsp_per_product, effective_products, fitted_design_table, fpga_estimate, layer_cycles,
    validate_resource_model,
)

TAGGER = [(16, 64), (64, 32), (32, 32), (32, 5)]


def test_fpga_estimate_reproduces_published_jet_tagger_within_30_percent():
    """16-64-32-32-5, 16 bits, R=1, 200 MHz: about 50-70 ns (10-14 cycles) and 1,500-1,850 DSPs."""
    est = fpga_estimate(TAGGER, precision=(16, 6), reuse_factor=1, clock_mhz=200.0)
    assert abs(est.latency_ns - 60.0) / 60.0 < 0.30
    assert abs(est.latency_cycles - 12) / 12 < 0.30
    assert abs(est.dsp - 1675) / 1675 < 0.30
    assert est.source.startswith("estimate")


def test_fitted_design_table_is_labelled_in_sample():
    table = fitted_design_table()
    assert len(table) == 3 * len(PUBLISHED)
    assert set(table["quantity"]) == {"latency_cycles", "latency_ns", "dsp"}
    assert table["within_range"].all() and table["in_sample"].all()
    assert "rel_error" not in table  # no in-sample "calibration error"
    assert table["reference"].str.contains("arXiv:1804.06913").all()
    assert "not validated" in fpga_estimate(TAGGER).source


def test_validate_resource_model_is_leave_one_out():
    import pandas as pd

    designs = pd.DataFrame({"design": list("abcd"), "est_lut": [100.0, 200.0, 400.0, 800.0],
                            "synth_lut": [110.0, 220.0, 440.0, 1600.0]})
    table = validate_resource_model(designs)
    assert list(table["design"]) == list("abcd")
    assert table["raw_rel_error"].iloc[0] == pytest.approx(-10 / 110)
    # the outlier d is predicted from a, b, c only (scale 1.1), so its own error stays visible
    assert table["scale_fitted_on_others"].iloc[3] == pytest.approx(1.1)
    assert table["loo_rel_error"].iloc[3] == pytest.approx((880 - 1600) / 1600)
    with pytest.raises(ParameterError, match="need at least 3 synthesised designs"):
        validate_resource_model(designs.iloc[:2])
    with pytest.raises(ParameterError, match=r"lacks columns \['synth_lut'\]"):
        validate_resource_model(designs.drop(columns="synth_lut"))


def test_fpga_estimate_dsp_scale_inversely_with_reuse_factor():
    dsp = {r: fpga_estimate(TAGGER, reuse_factor=r).dsp for r in (1, 2, 4, 8)}
    for r in (2, 4, 8):
        assert dsp[r] == pytest.approx(dsp[1] / r, rel=0.02)


def test_fpga_estimate_latency_grows_with_reuse_and_interval_equals_reuse():
    lat = [fpga_estimate(TAGGER, reuse_factor=r) for r in (1, 2, 4, 8)]
    assert all(a.latency_cycles < b.latency_cycles for a, b in zip(lat, lat[1:]))
    assert [e.interval_cycles for e in lat] == [1, 2, 4, 8]


def test_fpga_estimate_small_widths_move_products_to_luts():
    narrow, wide = fpga_estimate(TAGGER, precision=(8, 4)), fpga_estimate(TAGGER, precision=(16, 6))
    assert narrow.dsp == 0 and wide.dsp > 1000
    assert dsp_per_product(9) == 0 and dsp_per_product(16) == 1 and dsp_per_product(24) == 2
    assert fpga_estimate(TAGGER, precision=(24, 8)).dsp == 2 * wide.dsp


def test_fpga_estimate_resource_strategy_uses_bram_at_large_reuse():
    assert fpga_estimate(TAGGER, reuse_factor=64, strategy="Latency").bram == 0
    assert fpga_estimate(TAGGER, reuse_factor=64, strategy="Resource").bram > 0


def test_layer_cycles_needs_more_cycles_at_higher_clock():
    slow = layer_cycles(64, width=16, clock_mhz=100.0)
    fast = layer_cycles(64, width=16, clock_mhz=400.0)
    assert fast > slow
    # but the time in ns gets shorter or equal
    assert fast * 1e3 / 400.0 <= slow * 1e3 / 100.0


def test_effective_products_drops_zero_and_power_of_two_weights():
    w = np.array([[0.0, 0.5, 0.3], [0.01, -0.25, 0.7]])
    # ap_fixed<8,3>: 0.01 -> 0, 0.5 and -0.25 are powers of two, 0.3 and 0.7 need multipliers
    assert effective_products(w, width=8, integer=3) == 2
    est_dense = fpga_estimate([(3, 2)], softmax=False)
    est_sparse = fpga_estimate([(3, 2)], softmax=False, weights=[w])
    assert est_sparse.dsp < est_dense.dsp


@pytest.mark.parametrize("kwargs, match", [
    ({"layers": []}, "non-empty list of"),
    ({"precision": (4, 6)}, r"ap_fixed<4,6>"),
    ({"reuse_factor": 0}, "reuse_factor must be an integer >= 1"),
    ({"strategy": "Fast"}, "choose one of: Latency, Resource"),
    ({"clock_mhz": 5000.0}, "within 10-1000 MHz"),
    ({"weights": [np.zeros((64, 16))]}, "1 weight matrices for 4 layers"),
])
def test_fpga_estimate_rejects_bad_input(kwargs, match):
    kwargs = {"layers": TAGGER, **kwargs}
    with pytest.raises(ParameterError, match=match):
        fpga_estimate(kwargs.pop("layers"), **kwargs)
