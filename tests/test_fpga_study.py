"""Tests of hepml_nb.fpga.study: the notebook's records and the metrics it writes."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from hepml_nb.core.errors import DataError
from hepml_nb.fpga import study
from hepml_nb.fpga.compare import Agreement
from hepml_nb.fpga.data import TaggerData
from hepml_nb.fpga.flow import SHIPPED_LABEL, RTLFlowResult, shipped_reports
from hepml_nb.fpga.hls import HLSBuild
from hepml_nb.fpga.qat import quantized_metrics
from hepml_nb.fpga.rtl import RTLDesign
from hepml_nb.fpga.rtlsim import RTLSimulation
from hepml_nb.fpga.synth import SynthesisReport

#: the keys of the notebook's metrics.json (its ci run before the study layer took over the bookkeeping)
NOTEBOOK_KEYS = {
    "bram", "compile_seconds", "cpu_onnxruntime_us", "cpu_torch_us", "dsp", "emulation_jets_per_s",
    "estimator_fit_within_published_range", "ff", "float_accuracy", "float_mean_auc", "hardware_source", "hls_tool",
    "hls_vs_rtl_bit_exact", "latency_cycles", "latency_ns", "lut", "lut_estimate_max_abs_error",
    "min_width_within_1pct", "n_emulated", "n_test", "n_train", "profiled_accuracy", "profiled_widths",
    "ptq_accuracy", "qat_accuracy", "reference_accuracy", "reference_accuracy_drop", "reference_mean_auc",
    "reference_precision", "rtl_accuracy", "rtl_key", "rtl_n_nonzero", "rtl_pipeline_stages", "rtl_sim_bit_exact",
    "rtl_sim_latency_cycles", "rtl_sim_latency_ns", "rtl_sim_source", "rtl_weight_bits", "scan_accuracy",
    "scan_widths", "synth_ff", "synth_lut", "synth_source",
}  # fmt: skip


class _FakeHLSModel:
    """Stands in for a compiled hls4ml model: one input of 3 features, scores = the inputs' one-hot class."""

    def get_input_variables(self):
        return [SimpleNamespace(shape=(3,))]

    def predict(self, X):
        return np.eye(3)[np.argmax(X, axis=1)]


def _scan(widths, accuracies):
    return pd.DataFrame({"width": widths, "accuracy": accuracies, "precision": [f"ap_fixed<{w},6>" for w in widths]})


def _flow(sim=None, syn=None):
    design = RTLDesign(Path("/nonexistent"), "tagger", "abc123", 4, 5.0, 120.0, 40, 0.1, True)
    return RTLFlowResult(design, sim, syn, None, {})


def _data(seed):
    X = np.random.default_rng(seed).normal(scale=2.0, size=(60, 4))
    y = np.argmax(X[:, :3], axis=1)
    return TaggerData(X, X, y, y, (), ("a", "b", "c"), np.zeros(4), np.ones(4))


def test_emulation_check_scores_the_emulation_against_the_float_model(seed):
    X = np.random.default_rng(seed).normal(size=(90, 3))
    y = np.argmax(X, axis=1)
    y[:9] = (y[:9] + 1) % 3  # 10 % of the labels disagree with the emulated class
    build = HLSBuild(_FakeHLSModel(), Path("."), True, 0.25)
    check = study.emulation_check(
        build, X, y, ("a", "b", "c"), precision="ap_fixed<8,3>", float_metrics={"accuracy": 0.95, "mean_auc": 0.97}
    )
    assert check.emulated_metrics["accuracy"] == pytest.approx(0.9)
    assert check.accuracy_drop == pytest.approx(0.05) and check.n_jets == 90 and check.jets_per_second > 0
    metrics = check.metrics()
    assert metrics["reference_precision"] == "ap_fixed<8,3>" and metrics["n_emulated"] == 90
    assert metrics["reference_accuracy_drop"] == pytest.approx(0.05) and metrics["compile_seconds"] == 0.25
    assert metrics["float_accuracy"] == 0.95 and "reused in 0.2 s" in check.summary()


def test_min_width_within_tolerance_and_none():
    scan = _scan([6, 8, 10, 12], [0.5, 0.70, 0.745, 0.76])
    assert study.min_width_within(scan, 0.75) == 10
    assert study.min_width_within(scan, 0.75, tolerance=0.06) == 8
    assert study.min_width_within(scan, 0.80) is None


def test_precision_study_comparison_and_metrics():
    uniform = _scan([8, 12, 16], [0.6, 0.74, 0.75])
    profiled = _scan([6, 8], [0.65, 0.73])
    precision = study.PrecisionStudy(uniform, profiled, float_accuracy=0.75)
    table = precision.comparison()
    assert table.to_dict("list") == {"width": [8], "uniform": [0.6], "profile_guided": [0.73]}
    assert precision.metrics() == {
        "min_width_within_1pct": 12,
        "scan_widths": [8, 12, 16],
        "scan_accuracy": [0.6, 0.74, 0.75],
        "profiled_widths": [6, 8],
        "profiled_accuracy": [0.65, 0.73],
    }


def test_compare_methods_pairs_widths_and_rejects_unpaired_scans():
    scan = pd.DataFrame(
        {
            "method": ["PTQ", "PTQ", "QAT", "QAT"],
            "weight_bits": [3, 4, 3, 4],
            "accuracy": [0.3, 0.6, 0.7, 0.72],
            "est_lut": [900.0, 1200.0, 300.0, 400.0],
        }
    )
    methods = study.compare_methods(scan)
    assert methods.table["qat_est_lut"].tolist() == [300.0, 400.0]
    assert methods.metrics() == {"rtl_weight_bits": [3, 4], "qat_accuracy": [0.7, 0.72], "ptq_accuracy": [0.3, 0.6]}
    with pytest.raises(DataError, match=r"PTQ widths \[3, 4\] and QAT widths \[4\] differ"):
        study.compare_methods(scan.drop(index=2))


def test_rtl_outcome_falls_back_to_the_labelled_shipped_reports(net_483, seed):
    data = _data(seed)
    outcome = study.rtl_outcome(_flow(), net_483, data)
    shipped = shipped_reports()
    metrics = outcome.metrics()
    assert metrics["rtl_sim_source"] == metrics["synth_source"] == SHIPPED_LABEL and not metrics["rtl_sim_bit_exact"]
    assert metrics["synth_lut"] == shipped["synthesis"]["synth_lut"]
    assert metrics["rtl_sim_latency_cycles"] == shipped["simulation"]["rtl_sim_latency_cycles"]
    assert metrics["rtl_key"] == "abc123" and metrics["rtl_pipeline_stages"] == 4
    assert metrics["rtl_accuracy"] == quantized_metrics(net_483, data.X_test, data.y_test, "abc")["accuracy"]
    assert metrics["rtl_n_nonzero"] == net_483.n_nonzero()


def test_rtl_outcome_takes_the_steps_of_this_run(net_483, seed):
    sim = RTLSimulation(np.zeros((7, 3)), 4, 20.0, 0.1, 0.2, "icarus")
    syn = SynthesisReport(500, 20, 300, 40, 0, 0, {}, "xcup", 12.0, False)
    outcome = study.rtl_outcome(_flow(sim, syn), net_483, _data(seed), shipped={})
    metrics = outcome.metrics()
    assert metrics["rtl_sim_source"] == "this run" and metrics["rtl_sim_bit_exact"]
    assert metrics["synth_source"] == "this run (Yosys, synth_xilinx -family xcup)"
    assert (metrics["synth_lut"], metrics["synth_ff"], metrics["rtl_sim_latency_ns"]) == (500, 300, 20.0)
    assert "7 jets bit-exact" in outcome.summary() and "4 cycles = 20 ns at 200 MHz" in outcome.summary()


def test_study_metrics_records_exactly_the_notebook_keys(net_483, seed):
    data = _data(seed)
    build = HLSBuild(_FakeHLSModel(), Path("."), False, 3.0)
    X3 = data.X_test[:, :3]
    reference = study.emulation_check(
        build, X3, data.y_test, "abc", precision="ap_fixed<16,6>", float_metrics={"accuracy": 1.0, "mean_auc": 1.0}
    )
    hardware = {"latency_ns": 60.0, "latency_cycles": 12, "dsp": 1675, "lut": 9, "ff": 8, "bram": 0}
    metrics = study.study_metrics(
        data,
        reference=reference,
        precision=study.PrecisionStudy(_scan([8, 16], [0.5, 1.0]), _scan([8], [0.9]), 1.0),
        reuse=pd.DataFrame([{**hardware, "source": "estimate"}, {**hardware, "dsp": 419, "source": "estimate"}]),
        hls_tool=None,
        fitted=pd.DataFrame({"within_range": [True, True]}),
        cpu={"torch": 30.0, "onnxruntime": 7.0},
        methods=study.MethodComparison(pd.DataFrame(columns=["weight_bits", "qat_accuracy", "ptq_accuracy"])),
        rtl=study.rtl_outcome(_flow(), net_483, data),
        hls_vs_rtl=Agreement(10, 1.0, 1.0, 0.0, None),
        lut_check=pd.DataFrame({"raw_rel_error": [0.02, -0.08]}),
    )
    assert set(metrics) == NOTEBOOK_KEYS
    assert metrics["dsp"] == 1675 and metrics["hardware_source"] == "estimate"  # the smallest reuse factor's row
    assert metrics["n_train"] == 60 and metrics["min_width_within_1pct"] == 16 and metrics["cpu_onnxruntime_us"] == 7.0
    assert metrics["lut_estimate_max_abs_error"] == 0.08 and metrics["estimator_fit_within_published_range"] is True
