"""Tests of the analytic latency/resource estimator: its trends and structure (the published figures it
was fitted to are an in-sample check, shown by calibration_table, not a test of accuracy)."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.fpga.estimate import (
    PUBLISHED,
    dsp_per_product,
    effective_products,
    fitted_design_table,
    fpga_estimate,
    layer_cycles,
    validate_resource_model,
)

TAGGER = [(16, 64), (64, 32), (32, 32), (32, 5)]
REUSE = (1, 2, 3, 4, 8, 16, 32, 64, 128)
WIDTHS = tuple(range(4, 33))


def _lut_regimes(widths):
    """Runs of consecutive widths with the same DSPs per product (LUT <-> DSP moves happen between runs)."""
    runs: dict[int, list[int]] = {}
    for w in widths:
        runs.setdefault(dsp_per_product(w), []).append(w)
    return list(runs.values())


@pytest.mark.parametrize("strategy", ["Latency", "Resource"])
def test_fpga_estimate_latency_non_decreasing_and_dsp_non_increasing_with_reuse(strategy):
    est = [fpga_estimate(TAGGER, reuse_factor=r, strategy=strategy) for r in REUSE]
    cycles, dsp = [e.latency_cycles for e in est], [e.dsp for e in est]
    assert cycles == sorted(cycles) and cycles[0] < cycles[-1]
    assert dsp == sorted(dsp, reverse=True) and dsp[0] > dsp[-1]
    assert [e.latency_ns for e in est] == sorted(e.latency_ns for e in est)


@pytest.mark.parametrize("reuse_factor", [1, 4])
def test_fpga_estimate_resources_non_decreasing_with_bit_width(reuse_factor):
    est = {w: fpga_estimate(TAGGER, precision=(w, 3), reuse_factor=reuse_factor) for w in WIDTHS}
    for field in ("dsp", "ff", "latency_cycles"):
        values = [getattr(est[w], field) for w in WIDTHS]
        assert values == sorted(values), field
    # LUTs grow with the width, except where products move from LUTs to DSPs (10 bits, by design)
    for run in _lut_regimes(WIDTHS):
        luts = [est[w].lut for w in run]
        assert luts == sorted(luts), run


@pytest.mark.parametrize("layers", [TAGGER, [(1, 1)], [(100, 3)]])
def test_fpga_estimate_positive_everywhere(layers):
    for w in (4, 9, 10, 16, 18, 19, 27, 32):
        for r in (1, 2, 64):
            for strategy in ("Latency", "Resource"):
                est = fpga_estimate(layers, precision=(w, 2), reuse_factor=r, strategy=strategy)
                assert est.latency_cycles >= 1 and est.latency_ns > 0 and est.interval_cycles == r
                assert est.lut > 0 and est.ff > 0 and est.dsp >= 0 and est.bram >= 0
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

    designs = pd.DataFrame(
        {"design": list("abcd"), "est_lut": [100.0, 200.0, 400.0, 800.0], "synth_lut": [110.0, 220.0, 440.0, 1600.0]}
    )
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


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"layers": []}, "non-empty list of"),
        ({"precision": (4, 6)}, r"ap_fixed<4,6>"),
        ({"reuse_factor": 0}, "reuse_factor must be an integer >= 1"),
        ({"strategy": "Fast"}, "choose one of: Latency, Resource"),
        ({"clock_mhz": 5000.0}, "within 10-1000 MHz"),
        ({"weights": [np.zeros((64, 16))]}, "1 weight matrices for 4 layers"),
    ],
)
def test_fpga_estimate_rejects_bad_input(kwargs, match):
    kwargs = {"layers": TAGGER, **kwargs}
    with pytest.raises(ParameterError, match=match):
        fpga_estimate(kwargs.pop("layers"), **kwargs)
