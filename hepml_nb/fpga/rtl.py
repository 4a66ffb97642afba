"""A quantised MLP as plain numbers, its numpy fixed-point reference, and its Verilog through da4ml.

The network here is the integer arithmetic the hardware does, nothing more:

- inputs are ``ap_fixed<W,I>`` (signed; quantised upstream, truncating and saturating);
- each dense layer multiplies by constant weights on a per-layer grid ``2**-f`` (signed,
  ``weight_bits`` wide) and adds a bias on the accumulator grid, all exactly (lossless
  accumulation: the adder tree grows as wide as it needs);
- hidden layers apply ReLU and round to ``ap_ufixed<W,I>`` (unsigned; truncation,
  saturation), the output layer rounds the logits to ``ap_fixed<W,I>`` (saturation).
  There is no softmax in the hardware: the class is the argmax of the logits.

da4ml (Sun et al., arXiv:2507.04535) traces these operations and turns each constant
matrix product into shift-and-add logic (distributed arithmetic: no multipliers, no
DSPs), then cuts the logic into pipeline stages and writes a fully pipelined Verilog
design that takes a new input every clock. Its ``CombLogic.predict`` is a bit-exact
software model; :func:`reference_logits` is an independent numpy model of the same
arithmetic, so the RTL simulation is checked against two references.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hepml_nb.core.cache import native_dir
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.results import publish_folder
from hepml_nb.core.trust import why_not_private
from hepml_nb.fpga.fixed import integer_bits_needed, quantize_fixed
from hepml_nb.fpga.hls import parse_precision

__all__ = [
    "QuantizedMLP",
    "RTLDesign",
    "parse_fixed_type",
    "quantize_weights",
    "quantize_tagger",
    "reference_logits",
    "relu_quantize",
    "trace_network",
    "write_verilog",
    "da4ml_predict",
    "require_da4ml",
    "network_to_dict",
    "network_from_dict",
]

_UFIXED = re.compile(r"^\s*ap_ufixed\s*<(.*)>\s*$")


def parse_fixed_type(text: str) -> tuple[bool, int, int]:
    """``(signed, W, I)`` of ``ap_fixed<W,I>`` or ``ap_ufixed<W,I>`` (W bits, I integer bits).

    Validated by :func:`hepml_nb.fpga.parse_precision`; for ``ap_ufixed`` I counts no sign bit.
    """
    match = _UFIXED.match(str(text))
    if match:
        width, integer = parse_precision(f"ap_fixed<{match.group(1)}>")
        return False, width, integer
    width, integer = parse_precision(text)
    return True, width, integer


def _kif(text: str) -> tuple[int, int, int]:
    """da4ml's (keep_negative, integer bits without sign, fractional bits) of a type string."""
    signed, width, integer = parse_fixed_type(text)
    return (1, integer - 1, width - integer) if signed else (0, integer, width - integer)


@dataclass(frozen=True)
class QuantizedMLP:
    """A quantised MLP: weights on their grids, biases, and the fixed-point types between layers.

    Attributes
    ----------
    weights, biases
        Per layer ``(n_in, n_out)`` and ``(n_out,)`` float64 arrays whose values lie exactly
        on the layer's grids (``2**-weight_frac[l]`` and ``2**-bias_frac[l]``).
    weight_bits, weight_frac
        Signed weight width and its fractional bits, per layer.
    input_type, activation_types, output_type
        ``ap_fixed<W,I>`` of the inputs, ``ap_ufixed<W,I>`` after each hidden ReLU,
        ``ap_fixed<W,I>`` of the logits.
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    weight_bits: tuple[int, ...]
    weight_frac: tuple[int, ...]
    input_type: str
    activation_types: tuple[str, ...]
    output_type: str

    def __post_init__(self):
        n = len(self.weights)
        if n < 1 or not len(self.biases) == len(self.weight_bits) == len(self.weight_frac) == n:
            raise ParameterError(f"need as many biases, weight_bits and weight_frac as weight matrices ({n})")
        if len(self.activation_types) != n - 1:
            raise ParameterError(
                f"{n} layers need {n - 1} activation types (one per hidden layer), got {len(self.activation_types)}"
            )
        for prev, nxt in zip(self.weights[:-1], self.weights[1:], strict=True):
            if prev.shape[1] != nxt.shape[0]:
                raise ParameterError(f"layer shapes do not chain: {prev.shape} then {nxt.shape}")
        for text in (self.input_type, self.output_type):
            if not parse_fixed_type(text)[0]:
                raise ParameterError(f"input and output types must be signed ap_fixed<W,I>, got {text!r}")
        for text in self.activation_types:
            if parse_fixed_type(text)[0]:
                raise ParameterError(f"hidden activations after ReLU are unsigned: use ap_ufixed<W,I>, got {text!r}")

    @property
    def layer_sizes(self) -> list[tuple[int, int]]:
        """``(n_in, n_out)`` per dense layer."""
        return [w.shape for w in self.weights]

    def n_nonzero(self) -> int:
        """Number of non-zero weights (the shift-and-add logic grows with it)."""
        return int(sum(np.count_nonzero(w) for w in self.weights))

    def key(self) -> str:
        """Hash of the weights, biases and types: equal keys give equal hardware."""
        digest = hashlib.sha256()
        for array in (*self.weights, *self.biases):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
            digest.update(str(array.shape).encode())
        digest.update(
            json.dumps(
                [self.weight_bits, self.weight_frac, self.input_type, self.activation_types, self.output_type]
            ).encode()
        )
        return digest.hexdigest()[:16]

    def quantize_inputs(self, X: np.ndarray) -> np.ndarray:
        """Inputs rounded to ``input_type`` (truncation, saturation), as the detector front end delivers them."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.weights[0].shape[0]:
            raise DataError(f"inputs must be (N, {self.weights[0].shape[0]}), got {X.shape}")
        _, width, integer = parse_fixed_type(self.input_type)
        return quantize_fixed(X, width, integer, rounding="TRN", overflow="SAT")


def network_to_dict(net: QuantizedMLP) -> dict:
    """JSON-ready dict of ``net`` (weights as integer codes on their grids, so nothing is rounded)."""
    return {
        "weight_codes": [
            np.round(w * 2.0**f).astype(int).tolist() for w, f in zip(net.weights, net.weight_frac, strict=True)
        ],
        "bias_codes": [np.round(b * 2.0 ** _bias_frac(net, n)).astype(int).tolist() for n, b in enumerate(net.biases)],
        "weight_bits": list(net.weight_bits),
        "weight_frac": list(net.weight_frac),
        "input_type": net.input_type,
        "activation_types": list(net.activation_types),
        "output_type": net.output_type,
    }


def network_from_dict(data: dict) -> QuantizedMLP:
    """Inverse of :func:`network_to_dict`."""
    try:
        fracs = [int(f) for f in data["weight_frac"]]
        weights = tuple(
            np.asarray(c, dtype=np.float64) / 2.0**f for c, f in zip(data["weight_codes"], fracs, strict=True)
        )
        shell = QuantizedMLP(
            weights,
            tuple(np.zeros(w.shape[1]) for w in weights),
            tuple(data["weight_bits"]),
            tuple(fracs),
            data["input_type"],
            tuple(data["activation_types"]),
            data["output_type"],
        )
    except (KeyError, TypeError) as exc:
        raise DataError(f"not a saved quantised network: missing or bad {exc}") from None
    biases = tuple(
        np.asarray(c, dtype=np.float64) / 2.0 ** _bias_frac(shell, n) for n, c in enumerate(data["bias_codes"])
    )
    return QuantizedMLP(
        weights,
        biases,
        shell.weight_bits,
        shell.weight_frac,
        shell.input_type,
        shell.activation_types,
        shell.output_type,
    )


def _bias_frac(net: QuantizedMLP, n: int) -> int:
    """Fractional bits of layer ``n``'s bias: the accumulator grid (input fraction + weight fraction)."""
    f_in = _kif(net.input_type if n == 0 else net.activation_types[n - 1])[2]
    return f_in + net.weight_frac[n]


def relu_quantize(z: np.ndarray, type_text: str) -> np.ndarray:
    """ReLU, then truncation to ``ap_ufixed<W,I>`` with saturation at ``2**I - 2**-(W-I)``."""
    _, width, integer = parse_fixed_type(type_text)
    scale = 2.0 ** (width - integer)
    codes = np.clip(np.floor(np.maximum(z, 0.0) * scale), 0, 2.0**width - 1)
    return codes / scale


def reference_logits(net: QuantizedMLP, X: np.ndarray) -> np.ndarray:
    """Plain numpy fixed-point model of ``net``: the logits (N, n_out), exact in float64.

    ``X`` is quantised to the input type first; every sum is exact (the values are dyadic
    and far below 53 bits), so this is bit-exact with the hardware by construction.
    """
    x = net.quantize_inputs(X)
    for w, b, act in zip(net.weights[:-1], net.biases[:-1], net.activation_types, strict=True):
        x = relu_quantize(x @ w + b, act)
    _, width, integer = parse_fixed_type(net.output_type)
    return quantize_fixed(x @ net.weights[-1] + net.biases[-1], width, integer, rounding="TRN", overflow="SAT")


def quantize_weights(w: np.ndarray, bits: int) -> tuple[np.ndarray, int]:
    """Round ``w`` to signed ``bits``-bit values on a power-of-two grid chosen from ``max|w|``.

    Returns the rounded weights (round to nearest, saturating) and the number of
    fractional bits ``f`` (the grid is ``2**-f``): ``f = bits - I`` with ``I`` the integer
    bits (sign included) that ``max|w|`` needs, at most ``bits``.
    """
    if int(bits) != bits or not 2 <= bits <= 16:
        raise ParameterError(f"weight bits must be an integer in [2, 16], got {bits!r}")
    w = np.asarray(w, dtype=np.float64)
    integer = min(integer_bits_needed(float(np.max(np.abs(w))) if w.size else 0.0), int(bits))
    return quantize_fixed(w, int(bits), integer, rounding="RND", overflow="SAT"), int(bits) - integer


def _bias_on_grid(b: np.ndarray, frac: int) -> np.ndarray:
    return np.round(np.asarray(b, dtype=np.float64) * 2.0**frac) / 2.0**frac


def quantize_tagger(
    model,
    *,
    input_type: str = "ap_fixed<10,4>",
    weight_bits: int | Sequence[int] = 6,
    activation_type: str | Sequence[str] = "ap_ufixed<8,3>",
    output_type: str = "ap_fixed<12,6>",
) -> QuantizedMLP:
    """Post-training quantisation of a PyTorch tagger (its ``Linear`` layers; the softmax is dropped).

    Parameters
    ----------
    model
        PyTorch model whose ``Linear`` layers, in order, form the MLP (ReLU in between).
    input_type, output_type
        ``ap_fixed<W,I>`` of the inputs and of the logits.
    weight_bits
        Signed weight width, one for all layers or one per layer.
    activation_type
        ``ap_ufixed<W,I>`` after each hidden ReLU, one for all or one per hidden layer.
    """
    import torch

    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    n = len(linears)
    bits = _per_layer(weight_bits, n, "weight_bits")
    acts = tuple(_per_layer(activation_type, n - 1, "activation_type"))
    fracs_in = [_kif(input_type)[2], *(_kif(a)[2] for a in acts)]
    weights, biases, wfrac = [], [], []
    for layer, b_w, f_in in zip(linears, bits, fracs_in, strict=True):
        w, f_w = quantize_weights(layer.weight.detach().cpu().numpy().T, b_w)
        bias = layer.bias.detach().cpu().numpy() if layer.bias is not None else np.zeros(w.shape[1])
        weights.append(w)
        biases.append(_bias_on_grid(bias, f_in + f_w))  # the grid of _bias_frac
        wfrac.append(f_w)
    return QuantizedMLP(
        tuple(weights), tuple(biases), tuple(int(b) for b in bits), tuple(wfrac), input_type, acts, output_type
    )


def _per_layer(value, n: int, name: str) -> list:
    if isinstance(value, (str, int, np.integer)):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ParameterError(f"{name} needs one value or {n} values (one per layer), got {values}")
    return values


def require_da4ml():
    """Import da4ml, or raise a ParameterError saying how to install it and what works without it."""
    try:
        import da4ml
    except ImportError:
        raise ParameterError(
            "the RTL flow needs da4ml (pip install da4ml==0.6.0, part of hepml-nb's dependencies); without it "
            "the notebook shows the shipped reports of the default design (hepml_nb.fpga.shipped_reports())"
        ) from None
    import da4ml

    return da4ml


def trace_network(net: QuantizedMLP):
    """The da4ml ``CombLogic`` of ``net``: its arithmetic traced as shift-and-add logic."""
    require_da4ml()
    from da4ml.trace import FixedVariableArrayInput, comb_trace
    from da4ml.trace.ops import quantize, relu

    inp = FixedVariableArrayInput(net.weights[0].shape[0])
    x = quantize(inp, *_kif(net.input_type))
    for w, b, act in zip(net.weights[:-1], net.biases[:-1], net.activation_types, strict=True):
        x = quantize(relu(x @ w + b), *_kif(act), overflow_mode="SAT")
    out = quantize(x @ net.weights[-1] + net.biases[-1], *_kif(net.output_type), overflow_mode="SAT")
    return comb_trace(inp, out)


def da4ml_predict(comb, X_quantized: np.ndarray) -> np.ndarray:
    """da4ml's bit-exact software model of the traced logic on already quantised inputs (N, F)."""
    return np.asarray(comb.predict(np.asarray(X_quantized, dtype=np.float64)), dtype=np.float64)


class RTLDesign(NamedTuple):
    """A Verilog project written by da4ml.

    Attributes
    ----------
    path
        Project folder (``src/`` holds the Verilog, ``model/`` da4ml's model, ``metadata.json``).
    name
        Top module (``<name>_wrapper`` has uniform-width ports: ``clk``, ``model_inp``, ``model_out``).
    key
        Design hash (network, da4ml version, pipelining): the cache key of every later step.
    n_stages
        Pipeline depth: clock cycles from the input register to the output register.
    clock_period_ns
        Clock the pipelining was cut for.
    est_lut, est_ff
        da4ml's own estimates (logic cost and register bits), labelled as estimates.
    seconds, reused
        Generation time and whether the project came from the cache.
    """

    path: Path
    name: str
    key: str
    n_stages: int
    clock_period_ns: float
    est_lut: float
    est_ff: int
    seconds: float
    reused: bool

    def metrics(self, prefix: str = "rtl_") -> dict[str, float]:
        """Flat numbers for ``metrics.json``."""
        return {
            f"{prefix}pipeline_stages": self.n_stages,
            f"{prefix}clock_period_ns": self.clock_period_ns,
            f"{prefix}da4ml_est_lut": float(self.est_lut),
            f"{prefix}da4ml_est_ff": int(self.est_ff),
            f"{prefix}generation_seconds": self.seconds,
        }

    def verilog_sources(self) -> list[Path]:
        """The Verilog files a simulator or synthesiser reads (da4ml's unused ``lookup_table.v`` left out)."""
        files = sorted((self.path / "src").glob("*.v")) + sorted((self.path / "src" / "static").glob("*.v"))
        return [f for f in files if f.name != "lookup_table.v"]

    def trusted_path(self, what: str) -> Path:
        """The project folder, after checking that no other user can change it (its Verilog is code).

        A simulator runs the design's Verilog (Icarus can write files with ``$fopen``, Verilator
        can run commands with ``$system``), and the tools write their outputs into the folder.

        Raises
        ------
        DataError
            Another user could change the folder (:func:`hepml_nb.core.trust.why_not_private`).
        """
        reason = why_not_private(self.path)
        if reason is not None:
            raise DataError(
                f"the RTL design in {self.path} is not {what}: {reason}, and its Verilog is code the tools run. "
                "Regenerate the design with write_verilog (it builds in a folder only you can change)"
            )
        return Path(os.path.realpath(self.path))

    def comb(self):
        """da4ml's ``CombLogic`` of the design (its software model), loaded from the project."""
        require_da4ml()
        from da4ml.types import CombLogic

        return CombLogic.load(self.path / "model" / "comb.json")


def write_verilog(
    net: QuantizedMLP,
    *,
    name: str = "tagger",
    latency_cutoff: float = 5.0,
    clock_period_ns: float = 5.0,
    root: Path | str | None = None,
) -> RTLDesign:
    """Write the fully pipelined Verilog of ``net`` with da4ml (or reuse the cached project).

    Parameters
    ----------
    latency_cutoff
        da4ml's logic depth per pipeline stage (in its adder-delay units): smaller gives
        more stages and a faster clock.
    clock_period_ns
        Target clock written into the constraint files (and used to quote latency in ns).
    root
        Where projects live (default: ``<hepml-nb cache>/rtl``); the folder is ``<root>/<key>``.
        Where another user could change it, the user's own private folder is used instead
        (:func:`hepml_nb.core.cache.native_dir`; a notice says so): the Verilog is code.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ParameterError(f"module name {name!r} is not a Verilog identifier; use letters, digits and _")
    if not latency_cutoff > 0 or not clock_period_ns > 0:
        raise ParameterError(f"latency_cutoff and clock_period_ns must be > 0, got {latency_cutoff}, {clock_period_ns}")
    da4ml = require_da4ml()
    digest = hashlib.sha256(
        json.dumps([net.key(), name, float(latency_cutoff), float(clock_period_ns), da4ml.__version__]).encode()
    )
    key = digest.hexdigest()[:16]
    base = native_dir("rtl", root)
    path = base / key
    start = time.perf_counter()
    if (path / "metadata.json").exists():
        return _design(path, name, key, time.perf_counter() - start, True)
    from da4ml.codegen import RTLModel

    comb = trace_network(net)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=base))
    try:
        RTLModel(
            comb,
            name,
            tmp,
            flavor="verilog",
            latency_cutoff=latency_cutoff,
            print_latency=False,
            clock_period=clock_period_ns,
        ).write({"hepml_nb_key": key, "network_key": net.key()})
        comb.save(tmp / "model" / "comb.json")
        publish_folder(tmp, path)  # readable by the other users of a shared cache, as mkdir would make it
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (path / "metadata.json").exists():  # not written meanwhile by another run
            raise
    return _design(path, name, key, time.perf_counter() - start, False)


def _design(path: Path, name: str, key: str, seconds: float, reused: bool) -> RTLDesign:
    meta = json.loads((path / "metadata.json").read_text())
    return RTLDesign(
        path,
        name,
        key,
        int(meta["latency"]),
        float(meta["clock_period"]),
        float(meta["cost"]),
        int(meta["reg_bits"]),
        seconds,
        reused,
    )
