"""hls4ml conversion of a PyTorch tagger, compiled C++ emulation, and the vendor-tool guard.

``convert_tagger`` turns the model into an hls4ml project with one fixed-point type
``ap_fixed<W,I>`` (W bits in total, I of them integer bits including the sign) for
weights, biases and layer outputs (accumulators are lossless, as hls4ml infers them),
compiles it with g++ and returns a model whose ``predict`` is bit-accurate to the firmware (Duarte et al.,
arXiv:1804.06913; Fahim et al., arXiv:2103.05579). Compiled projects are kept in the
cache under a hash of the weights and the hls4ml configuration and reused. A compiled
library is native code: it is loaded only from a folder no other user can change
(:func:`hepml_nb.core.cache.native_dir`), so a cache shared with others gets its projects
built in the user's own folder instead.

Synthesis (latency and resource reports) needs a vendor HLS tool; :func:`find_hls_tool`
is the guard, and :func:`synthesize` refuses to run without one.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import json
import re
import shutil
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

from hepml_nb.core.cache import key_lock, native_dir
from hepml_nb.core.errors import DataError, OutputError, ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.core.trust import is_private
from hepml_nb.fpga.names import (
    BACKENDS,
    IO_TYPES,
    OVERFLOW_MODES,
    STRATEGIES,
    SYNTHESIS_MODES,
    Backend,
    IoType,
    Overflow,
    Strategy,
    SynthesisMode,
)
from hepml_nb.fpga.rules import check_fixed_point, check_reuse_factor

__all__ = [
    "HLS_TOOLS",
    "BACKENDS",
    "STRATEGIES",
    "IO_TYPES",
    "DEFAULT_PART",
    "HLSBuild",
    "SYNTHESIS_MODES",
    "find_hls_tool",
    "hls_tool_available",
    "require_hls_tool",
    "resolve_synthesis",
    "synthesis_backend",
    "parse_precision",
    "fixed_precision",
    "hls_config",
    "project_key",
    "convert_tagger",
    "compile_or_reuse",
    "emulate",
    "synthesize",
]

HLS_TOOLS: dict[str, Backend] = {
    "vitis-run": "Vitis",
    "vivado_hls": "Vivado",
}  # the commands hls4ml 1.3 runs, and their backend
DEFAULT_PART = "xcvu9p-flgb2104-2-e"  # Virtex UltraScale+ VU9P, the part of arXiv:2006.10159
SOFTMAX_TABLE_SIZE = 4096
SOFTMAX_TABLE_TYPE = "ap_fixed<18,8,AP_RND,AP_SAT>"
_PRECISION = re.compile(r"^\s*ap_fixed\s*<\s*(\d+)\s*,\s*(-?\d+)\s*(,[A-Z_,\s\d]*)?>\s*$")


class HLSBuild(NamedTuple):
    """A compiled hls4ml model, its project folder, whether it came from the cache, and the seconds spent."""

    hls_model: Any
    project_dir: Path
    reused: bool
    seconds: float


def find_hls_tool() -> str | None:
    """Path of a vendor HLS tool hls4ml can drive (``vitis-run`` of Vitis 2024+, ``vivado_hls``), else None."""
    for name in HLS_TOOLS:
        path = shutil.which(name)
        if path:
            return path
    return None


def synthesis_backend() -> Backend:
    """hls4ml backend for the tool on PATH: ``Vitis`` for ``vitis-run``, ``Vivado`` for ``vivado_hls``."""
    return HLS_TOOLS[Path(require_hls_tool()).name]


def hls_tool_available() -> bool:
    """True when a vendor HLS tool is on PATH, so synthesis reports can be produced."""
    return find_hls_tool() is not None


def require_hls_tool() -> str:
    """Return the vendor HLS tool, or raise a ParameterError that says what to do without one."""
    tool = find_hls_tool()
    if tool is None:
        raise ParameterError(
            f"no vendor HLS tool on PATH (looked for: {', '.join(HLS_TOOLS)}); synthesis needs AMD "
            "Vitis (2024.1 or later, for vitis-run) or Vivado HLS. Install one and put it on PATH, or use "
            "the analytic estimates (hepml_nb.fpga.fpga_estimate), which need no tool; synthesised numbers "
            "without a vendor tool come from the open-source RTL flow (hepml_nb.fpga.run_rtl_flow)"
        )
    return tool


def resolve_synthesis(mode: SynthesisMode = "auto") -> bool:
    """Whether to run vendor synthesis: ``auto`` (when a tool is on PATH), ``always`` or ``never``.

    ``always`` without a tool raises the ParameterError of :func:`require_hls_tool`.
    """
    mode = _choice(mode, SYNTHESIS_MODES, "synthesis mode")
    if mode == "always":
        require_hls_tool()
        return True
    return mode == "auto" and hls_tool_available()


def parse_precision(precision: str) -> tuple[int, int]:
    """``(W, I)`` of an ``ap_fixed<W,I>`` string (rules of :func:`~hepml_nb.fpga.rules.check_fixed_point`).

    Raises
    ------
    ParameterError
        For anything else, naming the value received.
    """
    match = _PRECISION.match(str(precision))
    if not match:
        raise ParameterError(
            f"precision {precision!r} is not of the form 'ap_fixed<W,I>' "
            "(e.g. 'ap_fixed<16,6>': 16 bits, 6 of them integer bits incl. the sign)"
        )
    return check_fixed_point(int(match.group(1)), int(match.group(2)), what="precision")


def fixed_precision(width: int, integer: int) -> str:
    """The hls4ml string ``ap_fixed<width,integer>`` (validated)."""
    width, integer = check_fixed_point(width, integer)
    return f"ap_fixed<{width},{integer}>"


_Name = TypeVar("_Name", bound=str)


def _choice(value: str, choices: tuple[_Name, ...], what: str) -> _Name:
    for choice in choices:
        if str(value).lower() == choice.lower():
            return choice
    raise ParameterError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")


def hls_config(
    model,
    *,
    precision: str = "ap_fixed<16,6>",
    reuse_factor: int = 1,
    strategy: Strategy = "Latency",
    backend: Backend = "Vitis",
    layer_precision: Mapping[str, str] | None = None,
    overflow: Overflow = "SAT",
    weight_precision: str | None = None,
) -> dict:
    """Per-layer hls4ml configuration: one precision ``ap_fixed<W,I>`` for weights, biases and layer outputs.

    Accumulators are lossless (hls4ml's ``auto``), so a sum is exact before it is rounded
    to the layer's output type. Layer outputs saturate by default (``overflow="SAT"``:
    a rare large logit is clipped instead of wrapping around to the other sign). The
    softmax uses 4096-entry lookup tables of ``ap_fixed<18,8>`` (the 1024-entry default
    flips about 1 % of near-tied jets).

    Parameters
    ----------
    model
        PyTorch ``Sequential`` tagger (see :func:`hepml_nb.fpga.build_tagger`).
    precision
        ``ap_fixed<W,I>`` used everywhere except the softmax lookup tables (hls4ml defaults).
    reuse_factor
        How many times each multiplier is reused (1 = fully parallel); sets the initiation interval.
    strategy
        ``Latency`` (weights in registers, all multiplications unrolled) or ``Resource``.
    layer_precision
        Optional ``{layer_name: ap_fixed<W,I>}`` overrides, e.g. ``{"fc1": "ap_fixed<18,8>"}``.
    overflow
        ``SAT`` (saturate, default) or ``WRAP`` (two's-complement wrap-around) for layer outputs.
    weight_precision
        Optional ``ap_fixed<W,I>`` for the weights and biases of every dense layer (e.g. with
        I = 1 for weights below 1 in magnitude, as a numerical profile suggests).
    """
    with needs_extra("fpga"):
        import hls4ml

    parse_precision(precision)
    if weight_precision is not None:
        parse_precision(weight_precision)
    strategy, backend = _choice(strategy, STRATEGIES, "strategy"), _choice(backend, BACKENDS, "backend")
    overflow_mode = {"SAT": "AP_SAT", "WRAP": "AP_WRAP"}[_choice(overflow, OVERFLOW_MODES, "overflow mode")]
    softmax_layers = {name for name, m in model.named_children() if type(m).__name__ == "Softmax"}
    reuse_factor = check_reuse_factor(reuse_factor)
    n_in = next(m.in_features for m in model.modules() if hasattr(m, "in_features"))
    with contextlib.redirect_stdout(io.StringIO()):
        config = hls4ml.utils.config_from_pytorch_model(
            model,
            (n_in,),
            granularity="name",
            backend=backend,
            default_precision=precision,
            default_reuse_factor=int(reuse_factor),
        )
    config["Model"]["Strategy"] = strategy
    _set_layer_precision(
        config,
        precision,
        dict(layer_precision or {}),
        strategy=strategy,
        overflow_mode=overflow_mode,
        softmax_layers=softmax_layers,
        weight_precision=weight_precision,
    )
    return config


def _set_layer_precision(
    config: dict,
    precision: str,
    overrides: dict,
    *,
    strategy: Strategy,
    overflow_mode: str,
    softmax_layers: set,
    weight_precision: str | None,
) -> None:
    """Write precision, strategy and softmax tables into each layer of ``config`` (a fresh dict we own)."""
    unknown = sorted(set(overrides) - set(config["LayerName"]))
    if unknown:
        raise ParameterError(
            f"layer_precision names unknown layers {unknown}; choose among: {', '.join(config['LayerName'])}"
        )
    for name, layer in config["LayerName"].items():
        width, integer = parse_precision(overrides.get(name, precision))
        layer["Strategy"] = strategy
        spec = layer.setdefault("Precision", {})
        if name in softmax_layers:
            layer["TableSize"] = SOFTMAX_TABLE_SIZE
            spec.update(dict.fromkeys(("exp_table", "inv_table", "inv_inp", "accum"), SOFTMAX_TABLE_TYPE))
        spec["result"] = f"ap_fixed<{width},{integer},AP_TRN,{overflow_mode}>"
        if "weight" in spec:  # dense layers: lossless ("auto") accumulators, as hls4ml infers them
            weights = weight_precision or f"ap_fixed<{width},{integer}>"
            spec.update(weight=weights, bias=weights, accum="auto")


def project_key(model, config: Mapping, *, backend: Backend, io_type: IoType, part: str, clock_period: float) -> str:
    """Hash of the weights, the hls4ml configuration and the hls4ml version: equal keys give equal firmware."""
    with needs_extra("fpga"):
        import hls4ml

    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensor.detach().cpu().numpy()).tobytes())
    recipe = {
        "config": config,
        "backend": backend,
        "io_type": io_type,
        "part": part,
        "clock_period": clock_period,
        "hls4ml": hls4ml.__version__,
        "model": [repr(m) for m in model.children()],
    }
    digest.update(json.dumps(recipe, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def _project_root(project_root: Path | str | None) -> Path:
    """Where projects are built and loaded: ``project_root`` or the cache's ``hls4ml``, when private."""
    return native_dir("hls4ml", project_root)


def _load_compiled(hls_model, project_dir: Path) -> bool:
    """Link an already compiled library into ``hls_model``; False when there is none or it is not private.

    The library reads its weights from the absolute path it was built in, so a project
    copied or moved elsewhere (a cache copied into an image) is rebuilt, not reused. A
    library another user could have written (:func:`hepml_nb.core.trust.is_private`, checked
    up to the project root) is never loaded.
    """
    libs = sorted((project_dir / "firmware").glob("*.so"))
    marker = project_dir / ".compiled"
    if not marker.exists() or len(libs) != 1 or marker.read_text().strip() != str(project_dir.resolve()):
        return False
    if not is_private(libs[0], project_dir.parent):
        return False
    # hls4ml has no public "load compiled library" call; compile() would rebuild for ~10 s.
    hls_model._top_function_lib = ctypes.cdll.LoadLibrary(str(libs[0]))
    return True


def compile_or_reuse(hls_model, project_dir: Path) -> bool:
    """Load the compiled library of ``project_dir`` (private, see :func:`_load_compiled`) or compile it.

    Builds hold a lock per project, so two runs never write one folder at once; returns
    True when an existing library was reused (a read-only warmed folder works too).
    """
    if _load_compiled(hls_model, project_dir):
        return True
    with _build_lock(project_dir.parent, project_dir.name):
        if _load_compiled(hls_model, project_dir):  # built meanwhile by another run?
            return True
        shutil.rmtree(project_dir, ignore_errors=True)
        hls_model.compile()
        (project_dir / ".compiled").write_text(str(project_dir.resolve()))
    return False


def convert_tagger(
    model,
    *,
    precision: str = "ap_fixed<16,6>",
    reuse_factor: int = 1,
    strategy: Strategy = "Latency",
    backend: Backend = "Vitis",
    io_type: IoType = "io_parallel",
    layer_precision: Mapping[str, str] | None = None,
    overflow: Overflow = "SAT",
    weight_precision: str | None = None,
    part: str = DEFAULT_PART,
    clock_period: float = 5.0,
    project_root: Path | str | None = None,
) -> HLSBuild:
    """Convert ``model`` with hls4ml, compile it with g++ (or reuse a compiled project) and return it.

    The project folder is ``<project_root>/<key>`` (default root: the hepml-nb cache,
    ``$HEPML_NB_CACHE/hls4ml``), where the key hashes weights and configuration. Where
    another user could change that root, projects go to the user's own private folder
    (:func:`hepml_nb.core.cache.native_dir`; a notice says so).
    ``clock_period`` is in ns (5 ns = 200 MHz); it matters only for synthesis.
    """
    with needs_extra("fpga"):
        import hls4ml

    io_type = _choice(io_type, IO_TYPES, "io_type")
    config = hls_config(
        model,
        precision=precision,
        reuse_factor=reuse_factor,
        strategy=strategy,
        backend=backend,
        layer_precision=layer_precision,
        overflow=overflow,
        weight_precision=weight_precision,
    )
    backend = _choice(backend, BACKENDS, "backend")
    key = project_key(model, config, backend=backend, io_type=io_type, part=part, clock_period=clock_period)
    root = _project_root(project_root)
    project_dir = root / key
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*table size is too large.*")
        hls_model = hls4ml.converters.convert_from_pytorch_model(
            model,
            hls_config=config,
            output_dir=str(project_dir),
            backend=backend,
            io_type=io_type,
            part=part,
            clock_period=clock_period,
        )
        reused = compile_or_reuse(hls_model, project_dir)
    return HLSBuild(hls_model, project_dir, reused, time.perf_counter() - start)


@contextlib.contextmanager
def _build_lock(root: Path, key: str):
    """Exclusive lock for building project ``key`` (:func:`hepml_nb.core.cache.key_lock`, no link followed)."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(key_lock(root, key))
        except OutputError as exc:
            raise DataError(
                f"cannot write hls4ml projects under {root} ({exc}); set HEPML_NB_CACHE "
                "to a writable folder or pass project_root="
            ) from None
        yield


def emulate(hls_model, X: np.ndarray) -> np.ndarray:
    """Bit-accurate fixed-point outputs (N, n_out) of a compiled hls4ml model for inputs ``X`` (N, F)."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    n_in = int(np.prod(hls_model.get_input_variables()[0].shape))
    if X.ndim != 2 or X.shape[1] != n_in:
        raise DataError(f"emulation inputs must be (N, {n_in}), got {X.shape}")
    out = np.asarray(hls_model.predict(X), dtype=np.float64)
    return out.reshape(len(X), -1)


def synthesize(build: HLSBuild, *, export: bool = False) -> dict[str, Any]:
    """Run C synthesis with the vendor tool and return hls4ml's parsed report.

    Only possible where :func:`find_hls_tool` finds a tool: without one this raises a
    ParameterError before any work. (Not exercised on machines without Vitis/Vivado.)

    Returns
    -------
    dict
        ``{"latency_cycles", "latency_ns", "dsp", "lut", "ff", "bram", "source": "synthesis", "report"}``.
    """
    require_hls_tool()
    with needs_extra("fpga"):
        import hls4ml

    report = build.hls_model.build(csim=False, synth=True, export=export)
    parsed = hls4ml.report.parse_vivado_report(str(build.project_dir)) or {}
    return _summarise_report(report or parsed)


def _summarise_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """Pick latency and resources out of an hls4ml C-synthesis report dict."""
    csynth = report.get("CSynthesisReport", report)
    try:
        cycles = int(csynth["WorstLatency"])
        period = float(csynth.get("EstimatedClockPeriod", csynth.get("TargetClockPeriod", 5.0)))
        res = {k: int(csynth[k]) for k in ("DSP", "LUT", "FF", "BRAM_18K")}
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"the synthesis report lacks {exc}; keys found: {sorted(csynth)}") from None
    return {
        "latency_cycles": cycles,
        "latency_ns": cycles * period,
        "dsp": res["DSP"],
        "lut": res["LUT"],
        "ff": res["FF"],
        "bram": res["BRAM_18K"],
        "source": "synthesis",
        "report": dict(csynth),
    }
