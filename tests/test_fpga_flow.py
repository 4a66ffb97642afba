"""Tests of the one-call RTL flow, its fallback when tools are missing, and the shipped reports."""

import shutil

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError

pytest.importorskip("da4ml", reason="the RTL flow needs da4ml (pip install da4ml==0.6.0)")

from hepml_nb.fpga import flow


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


def test_run_rtl_flow_rejects_unknown_simulator_before_writing_verilog(net_483, monkeypatch):
    monkeypatch.setattr(flow, "write_verilog", lambda *a, **k: pytest.fail("Verilog written before the check"))
    with pytest.raises(ParameterError, match="unknown simulator 'modelsim'; choose one of: icarus, verilator"):
        flow.run_rtl_flow(net_483, np.zeros((5, 4)), simulator="modelsim")


def test_shipped_reports_are_labelled():
    reports = flow.shipped_reports()
    assert reports["label"] == flow.SHIPPED_LABEL and "not computed in this run" in reports["label"]
    assert reports["synthesis"]["synth_lut"] > 0 and reports["simulation"]["rtl_sim_latency_cycles"] >= 1
    assert len(reports["synthesised_designs"]) >= 3
