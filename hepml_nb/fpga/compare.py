"""The same quantised network through hls4ml's C++ emulation and through the da4ml RTL, jet by jet.

When must they agree bit for bit? When hls4ml is configured with the arithmetic of the
RTL (:func:`hls_config_for`): the inputs' type, each layer's weights on their grid, an
exact (wide enough) type for every dense layer's output, ReLU rounding to the same
``ap_ufixed`` with truncation and saturation, and no softmax (the RTL gives logits).
When can they not? With hls4ml's usual configuration — one ``ap_fixed<W,I>`` for the
dense outputs (the sum is rounded and may wrap *before* the ReLU) or a softmax, which is
a lookup table of a few thousand entries in hls4ml and absent from the RTL: then only the
predicted class can be compared, and it differs for a few near-tied jets.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hepml_nb.core.cache import native_dir
from hepml_nb.core.errors import DataError
from hepml_nb.fpga.hls import HLSBuild, compile_or_reuse, emulate, project_key
from hepml_nb.fpga.names import Backend
from hepml_nb.fpga.rtl import QuantizedMLP, parse_fixed_type

__all__ = [
    "EXACT_TYPE",
    "Agreement",
    "network_to_torch",
    "hls_config_for",
    "convert_network",
    "emulate_network",
    "compare_outputs",
]

EXACT_TYPE = "ap_fixed<40,16>"  # dense-layer sums of the tagger's small types fit this exactly


class Agreement(NamedTuple):
    """Jet-by-jet comparison: fraction of identical output vectors and of identical predicted classes."""

    n_jets: int
    bit_exact_fraction: float
    same_class_fraction: float
    max_abs_difference: float
    first_difference: tuple[int, int] | None

    def metrics(self, prefix: str = "hls_vs_rtl_") -> dict[str, float]:
        """Flat numbers for ``metrics.json``."""
        return {
            f"{prefix}n_jets": self.n_jets,
            f"{prefix}bit_exact_fraction": self.bit_exact_fraction,
            f"{prefix}same_class_fraction": self.same_class_fraction,
            f"{prefix}max_abs_difference": self.max_abs_difference,
        }


def network_to_torch(net: QuantizedMLP, *, softmax: bool = False):
    """A PyTorch ``Sequential`` (``fc1, relu1, ..., fc<k>`` [, ``softmax``]) holding ``net``'s quantised weights."""
    import torch

    layers = []
    for n, (w, b) in enumerate(zip(net.weights, net.biases, strict=True), 1):
        linear = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.astype(np.float32)))
            linear.bias.copy_(torch.from_numpy(b.astype(np.float32)))
        layers.append((f"fc{n}", linear))
        if n < len(net.weights):
            layers.append((f"relu{n}", torch.nn.ReLU()))
    if softmax:
        layers.append(("softmax", torch.nn.Softmax(dim=1)))
    return torch.nn.Sequential(OrderedDict(layers)).eval()


def _type(text: str, mode: str = "") -> str:
    signed, width, integer = parse_fixed_type(text)
    return f"ap_{'' if signed else 'u'}fixed<{width},{integer}{mode}>"


def hls_config_for(net: QuantizedMLP, model, *, backend: Backend = "Vitis") -> dict:
    """hls4ml configuration that reproduces ``net``'s arithmetic exactly (see the module docstring)."""
    import hls4ml

    with contextlib.redirect_stdout(io.StringIO()):
        config = hls4ml.utils.config_from_pytorch_model(
            model, (net.weights[0].shape[0],), granularity="name", backend=backend, default_precision=EXACT_TYPE
        )
    names = config["LayerName"]
    names[next(iter(names))]["Precision"]["result"] = _type(net.input_type)
    for n, (bits, frac) in enumerate(zip(net.weight_bits, net.weight_frac, strict=True), 1):
        spec = names[f"fc{n}"]["Precision"]
        spec.update(weight=f"ap_fixed<{bits},{bits - frac}>", bias=EXACT_TYPE, accum=EXACT_TYPE, result=EXACT_TYPE)
        if n < len(net.weights):
            names[f"relu{n}"]["Precision"]["result"] = _type(net.activation_types[n - 1], ",AP_TRN,AP_SAT")
        else:
            spec["result"] = _type(net.output_type, ",AP_TRN,AP_SAT")
    if "softmax" in names:
        names["softmax"].update(TableSize=4096)
    return config


def convert_network(
    net: QuantizedMLP, *, softmax: bool = False, config: dict | None = None, project_root: Path | str | None = None
) -> HLSBuild:
    """Convert ``net`` with hls4ml (exact configuration unless ``config`` is given), compile it or reuse it."""
    import hls4ml

    model = network_to_torch(net, softmax=softmax)
    config = config if config is not None else hls_config_for(net, model)
    root = native_dir("hls4ml", project_root)
    key = project_key(model, config, backend="Vitis", io_type="io_parallel", part="rtl-compare", clock_period=5.0)
    project_dir = root / key
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*table size is too large.*")
        hls_model = hls4ml.converters.convert_from_pytorch_model(
            model, hls_config=config, output_dir=str(project_dir), backend="Vitis", io_type="io_parallel"
        )
        reused = compile_or_reuse(hls_model, project_dir)
    return HLSBuild(hls_model, project_dir, reused, time.perf_counter() - start)


def compare_outputs(a: np.ndarray, b: np.ndarray) -> Agreement:
    """Compare two (N, n_out) output arrays jet by jet (e.g. hls4ml emulation and RTL simulation)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise DataError(f"outputs to compare must both be (N, n_out), got {a.shape} and {b.shape}")
    same = np.all(a == b, axis=1)
    diff = np.argwhere(a != b)
    return Agreement(
        len(a),
        float(same.mean()),
        float(np.mean(a.argmax(1) == b.argmax(1))),
        float(np.max(np.abs(a - b))) if a.size else 0.0,
        tuple(map(int, diff[0])) if len(diff) else None,
    )


def emulate_network(build: HLSBuild, net: QuantizedMLP, X: np.ndarray) -> np.ndarray:
    """hls4ml emulation of ``net`` on ``X`` (quantised to the input type first, as the RTL gets it)."""
    return emulate(build.hls_model, net.quantize_inputs(X).astype(np.float32))
