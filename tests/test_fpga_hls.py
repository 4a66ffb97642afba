"""Tests of hepml_nb.fpga.hls: the vendor-tool guard, precision parsing, configuration, compile cache, emulation."""

import os
import shutil
import stat
import subprocess
import tempfile
import types
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.fpga import hls
from hepml_nb.fpga.fixed import quantize_fixed
from hepml_nb.fpga.models import build_tagger


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


def _linear_model(bias: float = 0.1):
    """One dense layer 4 -> 3 with representable weights."""
    import torch

    model = torch.nn.Sequential(OrderedDict(fc1=torch.nn.Linear(4, 3))).eval()
    with torch.no_grad():
        model.fc1.weight.copy_(
            torch.tensor([[0.5, -0.25, 0.125, 1.0], [0.75, 0.0, -1.5, 0.0625], [-0.3, 0.3, 0.7, -0.9]])
        )
        model.fc1.bias.copy_(torch.tensor([bias, -0.2, 0.0]))
    return model


@pytest.fixture(scope="module")
def linear_build(tmp_path_factory):
    """The linear model compiled once for the module (~10 s)."""
    model = _linear_model()
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
    with pytest.raises(DataError, match="cannot write hls4ml projects under"), hls._build_lock(not_a_folder, "abc"):
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


# issue #22: native code from a shared cache, planted lock files -------------------------------------------

NOBODY = 65534
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="files owned by another user can only be made as root"
)
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="the planted library is compiled with gcc")
_PLANTED_C = (
    "#include <stdio.h>\n"
    "__attribute__((constructor)) static void planted(void) {\n"
    '    FILE *f = fopen(MARKER, "w");\n'
    '    if (f) { fputs("loaded", f); fclose(f); }\n'
    "}\n"
)


def _plant_project(project_dir: Path, marker: Path) -> None:
    """What another user of a group-writable cache can leave: a 'compiled' project whose library writes ``marker``."""
    firmware = project_dir / "firmware"
    firmware.mkdir(parents=True)
    source = project_dir / "planted.c"
    source.write_text(_PLANTED_C)
    lib = firmware / "myproject-planted.so"
    subprocess.run(["gcc", "-shared", "-fPIC", f'-DMARKER="{marker}"', "-o", str(lib), str(source)], check=True)
    source.unlink()
    (project_dir / ".compiled").write_text(str(project_dir.resolve()))
    for path in (project_dir, firmware, lib, project_dir / ".compiled"):
        os.lchown(path, NOBODY, NOBODY)
        path.chmod(0o775)


@pytest.fixture
def shared_cache(tmp_path, monkeypatch):
    """A cache warmed with umask 002 (group-writable), as HEPML_NB_CACHE; the user's own cache in tmp_path."""
    folder = Path(tempfile.mkdtemp(prefix="hepml-nb-shared-"))
    (folder / "hls4ml").mkdir()
    for path in (folder, folder / "hls4ml"):
        path.chmod(0o775)
    monkeypatch.setenv("HEPML_NB_CACHE", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    yield folder
    shutil.rmtree(folder)


def _key(model) -> str:
    config = hls.hls_config(model, precision="ap_fixed<10,4>")
    return hls.project_key(
        model, config, backend="Vitis", io_type="io_parallel", part=hls.DEFAULT_PART, clock_period=5.0
    )


@needs_root
@needs_gcc
def test_load_compiled_never_loads_a_library_another_user_wrote(shared_cache, tmp_path):
    marker = tmp_path / "planted-library-ran"
    project = shared_cache / "hls4ml" / "0123456789abcdef"
    _plant_project(project, marker)
    assert not hls._load_compiled(types.SimpleNamespace(), project)
    assert not marker.exists()


@needs_gcc
def test_load_compiled_reuses_a_library_in_a_private_chain(tmp_path):
    """The same kind of library, built by you in your own cache, is reused (this is what the cache is for)."""
    marker = tmp_path / "own-library-ran"
    project = tmp_path / "hls4ml" / "0123456789abcdef"
    _plant_project(project, marker)
    for path in (project, project / "firmware", *project.rglob("*")):
        os.lchown(path, os.getuid(), os.getgid())
        path.chmod(0o755)
    model = types.SimpleNamespace()
    assert hls._load_compiled(model, project) and marker.read_text() == "loaded"
    assert model._top_function_lib is not None


@pytest.mark.slow  # g++: hls4ml compiles the linear model
@needs_root
@needs_gcc
def test_convert_tagger_rebuilds_privately_instead_of_loading_a_planted_library(shared_cache, tmp_path, capsys):
    model = _linear_model(bias=0.125)
    marker = tmp_path / "planted-library-ran"
    _plant_project(shared_cache / "hls4ml" / _key(model), marker)
    build = hls.convert_tagger(model, precision="ap_fixed<10,4>")
    assert not marker.exists() and not build.reused
    assert build.project_dir.is_relative_to(tmp_path / "home-cache")
    assert "is writable by its group" in capsys.readouterr().err
    X = np.linspace(-2, 2, 40, dtype=np.float32).reshape(10, 4)
    w, b = (
        quantize_fixed(model.fc1.weight.detach().numpy(), 10, 4),
        quantize_fixed(model.fc1.bias.detach().numpy(), 10, 4),
    )
    expected = quantize_fixed(quantize_fixed(X, 10, 4, overflow="SAT") @ w.T + b, 10, 4, overflow="SAT")
    np.testing.assert_array_equal(hls.emulate(build.hls_model, X), expected)
    assert hls.convert_tagger(model, precision="ap_fixed<10,4>").reused  # the private build is reused


@pytest.mark.slow  # g++: hls4ml compiles the linear model
@needs_root
def test_convert_tagger_never_writes_through_a_planted_lock_symlink(shared_cache, tmp_path):
    model = _linear_model(bias=-0.125)
    victim = tmp_path / "victim-secret.txt"
    victim.write_text("secret")
    victim.chmod(0o600)
    key = _key(model)
    for name in (f"{key}.lock", f".{key}.lock"):
        link = shared_cache / "hls4ml" / name
        link.symlink_to(victim)
        os.lchown(link, NOBODY, NOBODY)
    build = hls.convert_tagger(model, precision="ap_fixed<10,4>")
    assert victim.read_text() == "secret" and stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert not build.project_dir.is_relative_to(shared_cache)


def test_build_lock_refuses_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim-secret.txt"
    victim.write_text("secret")
    victim.chmod(0o600)
    for name in ("abc.lock", ".abc.lock"):
        (tmp_path / name).symlink_to(victim)
    with (
        pytest.raises(DataError, match=r"cannot write hls4ml projects under .*symbolic link"),
        hls._build_lock(tmp_path, "abc"),
    ):
        pass
    assert victim.read_text() == "secret"


@needs_root
@needs_gcc
def test_load_compiled_as_another_user_trusts_only_what_root_or_they_own(tmp_path):
    """A library root built (a cache warmed in an image) is loaded by every user; one a third user owns is not."""
    import sys

    shared = Path(tempfile.mkdtemp(prefix="hepml-nb-image-"))
    try:
        shared.chmod(0o755)
        outbox = shared / "outbox"
        outbox.mkdir()
        outbox.chmod(0o777)
        by_root, by_other = shared / "hls4ml" / "0000000000000001", shared / "hls4ml" / "0000000000000002"
        _plant_project(by_root, outbox / "root-library-ran")
        _plant_project(by_other, outbox / "other-library-ran")
        for path in [shared / "hls4ml", by_root, *by_root.rglob("*")]:
            os.lchown(path, 0, 0)
            path.chmod(0o755)
        for path in [by_other, *by_other.rglob("*")]:
            os.lchown(path, 1, 1)  # daemon: a user other than the one loading
            path.chmod(0o755)
        code = (
            "import os, sys, types\nfrom pathlib import Path\nfrom hepml_nb.fpga import hls\n"
            "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
            "print([hls._load_compiled(types.SimpleNamespace(), Path(p)) for p in sys.argv[1:]])\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(by_root), str(by_other)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[True, False]"
        assert (outbox / "root-library-ran").exists() and not (outbox / "other-library-ran").exists()
    finally:
        shutil.rmtree(shared)
