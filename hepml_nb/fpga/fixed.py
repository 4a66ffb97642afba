"""Fixed-point arithmetic in numpy and numerical profiling of a network's weights and activations.

``ap_fixed<W,I>`` (Vivado/Vitis HLS arbitrary-precision types) holds W bits, I of them
for the integer part including the sign: values are multiples of ``2**-(W-I)`` in
``[-2**(I-1), 2**(I-1) - 2**-(W-I)]``. The default quantisation mode truncates towards
minus infinity (``AP_TRN``) and the default overflow mode wraps around (``AP_WRAP``).
Profiling the largest magnitude each layer sees tells how many integer bits it needs
(hls4ml's ``hls4ml.model.profiling.numerical`` draws the same information).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.fpga.names import OVERFLOW_MODES, ROUNDING_MODES, Overflow, Rounding
from hepml_nb.fpga.rules import check_fixed_point

__all__ = ["ROUNDING_MODES", "OVERFLOW_MODES", "quantize_fixed", "integer_bits_needed", "numerical_profile"]


def quantize_fixed(
    x: np.ndarray, width: int, integer: int, *, rounding: Rounding = "TRN", overflow: Overflow = "WRAP"
) -> np.ndarray:
    """Round ``x`` to ``ap_fixed<width,integer>`` as the HLS types do; returns floats (same shape).

    Parameters
    ----------
    rounding
        ``TRN`` (floor, the ap_fixed default) or ``RND`` (round half up).
    overflow
        ``WRAP`` (two's-complement wrap-around, the default) or ``SAT`` (clip to the range).
    """
    width, integer = check_fixed_point(width, integer)
    if rounding not in ROUNDING_MODES or overflow not in OVERFLOW_MODES:
        raise ParameterError(
            f"rounding {rounding!r} / overflow {overflow!r}: choose rounding from "
            f"{', '.join(ROUNDING_MODES)} and overflow from {', '.join(OVERFLOW_MODES)}"
        )
    scale = 2.0 ** (width - integer)
    steps = np.floor(np.asarray(x, dtype=np.float64) * scale + (0.5 if rounding == "RND" else 0.0))
    low, n_codes = -(2 ** (width - 1)), 2**width
    if overflow == "SAT":
        steps = np.clip(steps, low, n_codes // 2 - 1)
    else:
        steps = np.mod(steps - low, n_codes) + low
    return steps / scale


def integer_bits_needed(max_abs: float) -> int:
    """Smallest I (sign bit included) with ``2**(I-1) > max_abs``, so ``max_abs`` fits ``ap_fixed<W,I>``."""
    if not np.isfinite(max_abs) or max_abs < 0:
        raise ParameterError(f"max_abs must be a finite number >= 0, got {max_abs}")
    if max_abs == 0:
        return 1
    return max(1, math.floor(math.log2(max_abs)) + 2)


def numerical_profile(model, X: np.ndarray) -> pd.DataFrame:
    """Largest magnitudes of weights, biases and layer outputs of a PyTorch ``Sequential`` on inputs ``X``.

    Returns
    -------
    pandas.DataFrame
        One row per (layer, kind) with ``max_abs``, ``p99_abs`` (99th percentile of non-zero
        magnitudes, the bulk) and ``integer_bits`` = :func:`integer_bits_needed` of ``max_abs``.
    """
    with needs_extra("fpga"):
        import torch

    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise DataError(f"profiling inputs must be (N, F), got shape {X.shape}")
    rows = [_row("input", "input", X)]
    out = torch.from_numpy(X)
    with torch.no_grad():
        for name, layer in model.named_children():
            for kind in ("weight", "bias"):
                if getattr(layer, kind, None) is not None:
                    rows.append(_row(name, kind, getattr(layer, kind).numpy()))
            out = layer(out)
            rows.append(_row(name, "output", out.numpy()))
    return pd.DataFrame(rows)


def _row(layer: str, kind: str, values: np.ndarray) -> dict:
    mag = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    nonzero = mag[mag > 0]
    max_abs = float(mag.max()) if mag.size else 0.0
    p99 = float(np.percentile(nonzero, 99)) if nonzero.size else 0.0
    return {
        "layer": layer,
        "kind": kind,
        "max_abs": max_abs,
        "p99_abs": p99,
        "integer_bits": integer_bits_needed(max_abs),
    }
