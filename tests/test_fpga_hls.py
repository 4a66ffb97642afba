"""Tests of hepml_nb.fpga.hls: the vendor-tool guard, precision parsing, configuration, compile cache, emulation."""

import os
import shutil
import stat
from collections import OrderedDict

import numpy as np
import pytest

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.fpga import hls
from hepml_nb.fpga.fixed import quantize_fixed
from hepml_nb.fpga.model import build_tagger


@pytest.fixture
def no_tool_path(tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def test_find_hls_tool_none_without_vendor_tool(no_tool_path):
    assert hls.find_hls_tool() is None
    assert hls.hls_tool_available() is False
    assert hls.resolve_synthesis("auto") is False
    assert hls.resolve_synthesis("never") is False


def test_find_hls_tool_finds_executable_on_path(no_tool_path):
    for name, backend in (("vivado_hls", "Vivado"), ("vitis-run", "Vitis")):  # vitis-run wins when both exist
        fake = no_tool_path / name
        fake.write_text("#!/bin/sh\nexit 0\n")
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
        assert hls.find_hls_tool() == str(fake)
        assert hls.synthesis_backend() == backend
    assert hls.resolve_synthesis("auto") is True and hls.resolve_synthesis("always") is True


def test_require_hls_tool_explains_fallback(no_tool_path):
    with pytest.raises(ParameterError, match="no vendor HLS tool on PATH.*vitis-run, vivado_hls.*analytic estimates"):
        hls.require_hls_tool()
    with pytest.raises(ParameterError, match="no vendor HLS tool"):
        hls.resolve_synthesis("always")


def test_resolve_synthesis_rejects_unknown_mode():
    with pytest.raises(ParameterError, match="unknown synthesis mode 'maybe'; choose one of: auto, always, never"):
        hls.resolve_synthesis("maybe")


def test_synthesize_refuses_before_work_without_tool(no_tool_path):
    class Boom:
        def build(self, **kwargs):
            raise AssertionError("build must not be reached")

    with pytest.raises(ParameterError, match="no vendor HLS tool"):
        hls.synthesize(hls.HLSBuild(Boom(), no_tool_path, False, 0.0))


def test_summarise_report_reads_hls4ml_report_keys():
    report = {
        "CSynthesisReport": {
            "WorstLatency": "11",
            "EstimatedClockPeriod": "4.2",
            "DSP": "1826",
            "LUT": "90000",
            "FF": "20000",
            "BRAM_18K": "4",
        }
    }
    got = hls._summarise_report(report)
    assert got["latency_cycles"] == 11 and got["latency_ns"] == pytest.approx(46.2)
    assert (got["dsp"], got["lut"], got["ff"], got["bram"], got["source"]) == (1826, 90000, 20000, 4, "synthesis")
    with pytest.raises(DataError, match="synthesis report lacks"):
        hls._summarise_report({"CSynthesisReport": {"WorstLatency": "11"}})


@pytest.mark.parametrize(
    "text, expected",
    [("ap_fixed<16,6>", (16, 6)), ("ap_fixed< 8, 3 >", (8, 3)), ("ap_fixed<10,4,AP_RND,AP_SAT>", (10, 4))],
)
def test_parse_precision_valid(text, expected):
    assert hls.parse_precision(text) == expected


@pytest.mark.parametrize(
    "text, match",
    [
        ("float", "not of the form"),
        ("ap_fixed<16>", "not of the form"),
        ("ap_fixed<4,6>", "W=4, I=6"),
        ("ap_fixed<80,6>", "W=80"),
    ],
)
def test_parse_precision_rejects(text, match):
    with pytest.raises(ParameterError, match=match):
        hls.parse_precision(text)


def test_hls_config_sets_precision_reuse_and_strategy_per_layer():
    model = build_tagger(seed=0)
    cfg = hls.hls_config(model, precision="ap_fixed<12,5>", reuse_factor=4, strategy="resource")
    assert cfg["Model"]["Strategy"] == "Resource"
    assert cfg["LayerName"]["fc2"]["Precision"]["weight"] == "ap_fixed<12,5>"
    assert cfg["LayerName"]["fc2"]["Precision"]["accum"] == "auto"
    assert cfg["LayerName"]["relu1"]["Precision"]["result"] == "ap_fixed<12,5,AP_TRN,AP_SAT>"
    assert cfg["LayerName"]["fc3"]["ReuseFactor"] == 4
    assert cfg["LayerName"]["softmax"]["TableSize"] == hls.SOFTMAX_TABLE_SIZE
    wrap = hls.hls_config(model, overflow="wrap", layer_precision={"fc1": "ap_fixed<18,8>"})
    assert wrap["LayerName"]["fc1"]["Precision"]["result"] == "ap_fixed<18,8,AP_TRN,AP_WRAP>"
    assert wrap["LayerName"]["fc2"]["Precision"]["result"] == "ap_fixed<16,6,AP_TRN,AP_WRAP>"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"strategy": "Fast"}, "unknown strategy 'Fast'; choose one of: Latency, Resource"),
        ({"backend": "Quartus"}, "unknown backend 'Quartus'; choose one of: Vitis, Vivado"),
        ({"reuse_factor": 0}, "reuse_factor must be an integer >= 1"),
        ({"overflow": "CLIP"}, "unknown overflow mode 'CLIP'"),
        ({"layer_precision": {"fc9": "ap_fixed<8,3>"}}, r"unknown layers \['fc9'\]"),
        ({"precision": "ap_fixed<3,5>"}, "W=3, I=5"),
    ],
)
def test_hls_config_rejects_bad_options(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        hls.hls_config(build_tagger(seed=0), **kwargs)


@pytest.fixture(scope="module")
def linear_build(tmp_path_factory):
    """One dense layer 4 -> 3 with representable weights, compiled once for the module (~10 s)."""
    import torch

    model = torch.nn.Sequential(OrderedDict(fc1=torch.nn.Linear(4, 3))).eval()
    with torch.no_grad():
        model.fc1.weight.copy_(
            torch.tensor([[0.5, -0.25, 0.125, 1.0], [0.75, 0.0, -1.5, 0.0625], [-0.3, 0.3, 0.7, -0.9]])
        )
        model.fc1.bias.copy_(torch.tensor([0.1, -0.2, 0.0]))
    root = tmp_path_factory.mktemp("hls_projects")
    build = hls.convert_tagger(model, precision="ap_fixed<10,4>", project_root=root)
    return model, root, build


@pytest.mark.slow  # g++: hls4ml compiles the linear_build project
def test_emulate_is_bit_accurate_against_numpy_fixed_point(linear_build, seed):
    model, _, build = linear_build
    X = np.random.default_rng(seed).normal(scale=3.0, size=(500, 4)).astype(np.float32)
    got = hls.emulate(build.hls_model, X)
    w = quantize_fixed(model.fc1.weight.detach().numpy(), 10, 4)
    b = quantize_fixed(model.fc1.bias.detach().numpy(), 10, 4)
    x = quantize_fixed(X, 10, 4, overflow="SAT")
    expected = quantize_fixed(x @ w.T + b, 10, 4, overflow="SAT")  # lossless accumulator, saturating output
    np.testing.assert_array_equal(got, expected)
    assert np.abs(got - model(__import__("torch").from_numpy(X)).detach().numpy()).max() > 0  # really fixed point


@pytest.mark.slow  # g++: hls4ml compiles the linear_build project
def test_convert_tagger_reuses_compiled_project(linear_build):
    model, root, first = linear_build
    assert not first.reused and (first.project_dir / ".compiled").exists()
    again = hls.convert_tagger(model, precision="ap_fixed<10,4>", project_root=root)
    assert again.reused and again.project_dir == first.project_dir
    X = np.linspace(-2, 2, 40, dtype=np.float32).reshape(10, 4)
    np.testing.assert_array_equal(hls.emulate(again.hls_model, X), hls.emulate(first.hls_model, X))


@pytest.mark.slow  # g++: hls4ml compiles the linear_build project
def test_project_key_changes_with_weights_and_config(linear_build):
    import copy

    import torch

    model, _, _ = linear_build
    cfg = hls.hls_config(model, precision="ap_fixed<10,4>")
    key = hls.project_key(model, cfg, backend="Vitis", io_type="io_parallel", part="p", clock_period=5.0)
    other_cfg = hls.hls_config(model, precision="ap_fixed<12,4>")
    assert hls.project_key(model, other_cfg, backend="Vitis", io_type="io_parallel", part="p", clock_period=5.0) != key
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.fc1.bias[0] += 0.125
    assert hls.project_key(changed, cfg, backend="Vitis", io_type="io_parallel", part="p", clock_period=5.0) != key
    np.testing.assert_allclose(model.fc1.bias.detach().numpy(), [0.1, -0.2, 0.0], rtol=1e-6)  # untouched


@pytest.mark.slow  # g++: hls4ml compiles the linear_build project
def test_emulate_rejects_wrong_feature_count(linear_build):
    with pytest.raises(DataError, match=r"must be \(N, 4\), got \(3, 5\)"):
        hls.emulate(linear_build[2].hls_model, np.zeros((3, 5)))


def test_convert_tagger_rejects_bad_io_type(tmp_path):
    with pytest.raises(ParameterError, match="unknown io_type 'io_serial'; choose one of: io_parallel, io_stream"):
        hls.convert_tagger(build_tagger(seed=0), io_type="io_serial", project_root=tmp_path)


@pytest.mark.slow  # g++: hls4ml compiles the linear_build project
def test_convert_tagger_read_only_cache_reuses_but_cannot_build(linear_build, tmp_path):
    model, root, _ = linear_build
    mode = root.stat().st_mode
    root.chmod(0o555)
    try:
        if os.access(root, os.W_OK):  # running as root: permissions are not enforced
            pytest.skip("permissions not enforced for this user")
        assert hls.convert_tagger(model, precision="ap_fixed<10,4>", project_root=root).reused
        with pytest.raises(DataError, match="cannot write hls4ml projects under .*HEPML_NB_CACHE"):
            hls.convert_tagger(model, precision="ap_fixed<12,4>", project_root=root)
    finally:
        root.chmod(mode)


def test_build_lock_unwritable_root_raises_data_error(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(DataError, match="cannot write hls4ml projects under"):
        with hls._build_lock(not_a_folder, "abc"):
            pass


@pytest.mark.slow  # g++: hls4ml compiles the linear_build project
def test_emulation_does_not_depend_on_reuse_factor_or_strategy(linear_build):
    model, root, first = linear_build
    other = hls.convert_tagger(
        model, precision="ap_fixed<10,4>", reuse_factor=4, strategy="Resource", project_root=root
    )
    assert other.project_dir != first.project_dir and not other.reused
    X = np.random.default_rng(1).normal(scale=2.0, size=(300, 4)).astype(np.float32)
    np.testing.assert_array_equal(hls.emulate(other.hls_model, X), hls.emulate(first.hls_model, X))


@pytest.mark.slow  # g++: hls4ml compiles the linear_build project
def test_convert_tagger_rebuilds_a_moved_project(linear_build, tmp_path):
    """A compiled library reads weights from its build path: a copied project must not be reused."""
    model, root, first = linear_build
    moved_root = tmp_path / "moved"
    shutil.copytree(root, moved_root, ignore=shutil.ignore_patterns("*.lock"))
    moved = hls.convert_tagger(model, precision="ap_fixed<10,4>", project_root=moved_root)
    assert not moved.reused
    X = np.linspace(-2, 2, 40, dtype=np.float32).reshape(10, 4)
    np.testing.assert_array_equal(hls.emulate(moved.hls_model, X), hls.emulate(first.hls_model, X))
