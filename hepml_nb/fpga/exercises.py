"""Exercise checkers of the FPGA notebook; each prints and records its verdict, and never raises."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from hepml_nb.core.exercises import checker, expect_close, expect_shape, expect_true
from hepml_nb.fpga.fixed import integer_bits_needed, quantize_fixed

__all__ = ["check_quantize", "check_integer_bits", "check_multiplications", "check_latency_ns"]


@checker
def check_quantize(answer, x, width: int, integer: int) -> None:
    """``answer`` must be ``x`` in ap_fixed<width,integer> with truncation and wrap-around."""
    expect_shape(answer, np.shape(x), what="quantised array")
    expected = quantize_fixed(x, width, integer)
    rounded = quantize_fixed(x, width, integer, rounding="RND", overflow="SAT")
    if np.allclose(answer, rounded) and not np.allclose(rounded, expected):
        expect_true(
            False,
            "you rounded to nearest and/or saturated; ap_fixed defaults to AP_TRN and AP_WRAP",
            "use np.floor(x * 2**F) / 2**F with F = W - I fractional bits, then wrap into the range",
        )
    expect_close(
        answer,
        expected,
        what="ap_fixed values",
        atol=1e-12,
        hint="the step is 2**-(W - I); floor x / step, then wrap the integer code into "
        "[-2**(W-1), 2**(W-1)) with a modulo 2**W",
    )


@checker
def check_integer_bits(answer, max_abs: float) -> None:
    """``answer`` must be the integer bits (sign included) that hold ``max_abs``."""
    expected = integer_bits_needed(max_abs)
    expect_true(
        isinstance(answer, (int, np.integer)),
        f"expected an integer number of bits, got {answer!r}",
        "bits are whole numbers: use math.floor / math.ceil",
    )
    expect_true(
        answer != expected - 1,
        f"{answer} bits leave no room for the sign bit",
        "ap_fixed is signed: I bits hold values up to 2**(I-1), not 2**I",
    )
    expect_close(answer, expected, what="integer bits", hint="find the smallest I with 2**(I-1) > max |x|")


@checker
def check_multiplications(answer, layer_sizes: Sequence[int] = (16, 64, 32, 32, 5), reuse_factor: int = 1) -> None:
    """``answer`` must be the multipliers needed at once: sum of n_in * n_out over layers, divided by R."""
    pairs = list(pairwise(layer_sizes))
    expected = sum(math.ceil(a * b / reuse_factor) for a, b in pairs)
    expect_true(
        answer != sum(layer_sizes),
        "you added the layer widths; count one product per weight",
        "a dense layer with n_in inputs and n_out outputs has n_in * n_out weights",
    )
    expect_close(
        answer,
        expected,
        what="multipliers",
        hint="sum n_in * n_out over the dense layers, then divide each by the reuse factor (round up)",
    )


@checker
def check_latency_ns(answer, cycles: int, clock_mhz: float) -> None:
    """``answer`` must be the latency in ns of ``cycles`` clock cycles at ``clock_mhz``."""
    expected = cycles * 1e3 / clock_mhz
    expect_true(
        not np.isclose(answer, cycles * clock_mhz),
        "you multiplied cycles by the frequency",
        "one cycle lasts 1 / f: at 200 MHz that is 5 ns",
    )
    expect_close(
        answer,
        expected,
        what="latency [ns]",
        rtol=1e-6,
        hint="latency = cycles x clock period, and the period in ns is 1000 / (f in MHz)",
    )
