"""The FPGA notebook executed once in the ci profile (shared session run): metrics and figures."""

import pytest

from hepml_nb.fpga import hls_tool_available

pytestmark = pytest.mark.slow


def test_fpga_notebook_reference_precision_matches_float(ci_run):
    _, metrics = ci_run("fpga")
    assert metrics["reference_precision"] == "ap_fixed<16,6>"
    assert abs(metrics["reference_accuracy"] - metrics["float_accuracy"]) <= 0.01
    assert metrics["float_accuracy"] > 0.4


def test_fpga_notebook_scan_shows_fall_off(ci_run):
    _, metrics = ci_run("fpga")
    acc = dict(zip(metrics["scan_widths"], metrics["scan_accuracy"], strict=True))
    assert acc[min(acc)] < acc[16] - 0.1
    assert metrics["min_width_within_1pct"] <= 16
    guided = dict(zip(metrics["profiled_widths"], metrics["profiled_accuracy"], strict=True))
    assert all(guided[w] >= acc[w] - 0.02 for w in guided if w in acc)  # profile-guided weights never worse


def test_fpga_notebook_hardware_figures_labelled(ci_run):
    _, metrics = ci_run("fpga")
    if not hls_tool_available():
        assert metrics["hardware_source"] == "estimate" and metrics["hls_tool"] is None
    assert 35 <= metrics["latency_ns"] <= 91 and 1050 <= metrics["dsp"] <= 2405  # published +-30 %
    assert metrics["cpu_torch_us"] > 0 and metrics["cpu_onnxruntime_us"] > 0


def test_fpga_notebook_writes_figures(ci_run):
    run_dir, _ = ci_run("fpga")
    for name in ("numerical_profile", "precision_scan", "reuse_scan"):
        assert (run_dir / f"{name}.png").stat().st_size > 1000


def test_fpga_notebook_rtl_measured(ci_run):
    _, metrics = ci_run("fpga")
    if metrics["rtl_sim_source"] == "this run":
        assert metrics["rtl_sim_bit_exact"] and metrics["rtl_sim_latency_cycles"] == metrics["rtl_pipeline_stages"]
    assert metrics["hls_vs_rtl_bit_exact"] == 1.0 and metrics["lut_estimate_max_abs_error"] < 0.15
    assert len(metrics["qat_accuracy"]) == len(metrics["ptq_accuracy"]) == len(metrics["rtl_weight_bits"])
