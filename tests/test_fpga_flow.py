"""Tests of the one-call RTL flow, its fallback when tools are missing, the shipped reports, and the QAT/PTQ scan."""

import shutil

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError

pytest.importorskip("da4ml", reason="the RTL flow needs da4ml (pip install da4ml==0.6.0)")

from hepml_nb.fpga import flow, study  # noqa: E402
from hepml_nb.fpga.model import TaggerData, build_tagger  # noqa: E402


@pytest.fixture
def tiny_data(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, size=500)
    X = (rng.normal(size=(500, 16)) + 2.0 * np.eye(5, 16)[y]).astype(np.float32)
    return TaggerData(X[:400], X[400:], y[:400], y[400:], (), tuple("gqwzt"), np.zeros(16), np.ones(16))


def test_run_rtl_flow_skips_steps_without_tools(net_483, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = flow.run_rtl_flow(net_483, np.zeros((5, 4)))
    assert result.simulation is None and result.synthesis is None and result.place_route is None
    assert "Icarus Verilog" in result.skipped["simulation"] and "Yosys" in result.skipped["synthesis"]
    assert result.metrics()["rtl_pipeline_stages"] == result.design.n_stages


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed (apt-get install iverilog)")
def test_run_rtl_flow_simulates_bit_exactly(net_483, seed):
    X = np.random.default_rng(seed).normal(size=(50, 4))
    result = flow.run_rtl_flow(net_483, X, synthesize=False)
    assert result.simulation.latency_cycles == result.design.n_stages
    assert result.metrics()["rtl_sim_latency_cycles"] == result.design.n_stages and not result.skipped


def test_shipped_reports_are_labelled():
    reports = flow.shipped_reports()
    assert reports["label"] == flow.SHIPPED_LABEL and "not computed in this run" in reports["label"]
    assert reports["synthesis"]["synth_lut"] > 0 and reports["simulation"]["rtl_sim_latency_cycles"] >= 1
    assert len(reports["synthesised_designs"]) >= 3


def test_quantization_scan_rows(tiny_data, one_torch_thread):
    model = build_tagger(16, 5, hidden=(8,), seed=0)
    table = study.quantization_scan(model, tiny_data, weight_bits=[3, 4], qat_epochs=1, prune=0.5, progress=False)
    assert list(table["method"]) == ["PTQ", "PTQ", "QAT", "QAT"]
    assert (table["est_lut"] > 0).all() and table["design_key"].nunique() == 4
    assert table.loc[table["method"] == "QAT", "n_nonzero"].max() <= 0.5 * (16 * 8 + 8 * 5) + 1


def test_design_point_rejects_bad_method_and_pruned_ptq(tiny_data):
    model = build_tagger(16, 5, hidden=(8,))
    with pytest.raises(ParameterError, match="choose one of: PTQ, QAT"):
        study.design_point(model, tiny_data, method="HGQ", weight_bits=4, activation_type="ap_ufixed<4,2>")
    with pytest.raises(ParameterError, match="use method='QAT'"):
        study.design_point(model, tiny_data, method="PTQ", weight_bits=4, activation_type="ap_ufixed<4,2>", prune=0.5)
