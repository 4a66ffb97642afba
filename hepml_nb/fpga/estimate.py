"""Analytic FPGA latency and resource estimate for a fully connected network in hls4ml.

Without a vendor HLS tool there is no synthesis report, so this module gives an
**estimate**: a small structural model of what hls4ml's ``io_parallel`` dense layers
become in hardware, with two constants fitted to published synthesis figures.

Model (per dense layer with ``n_in`` inputs, ``n_out`` outputs, precision W bits,
reuse factor R, clock period T):

- multiplications ``M = n_in * n_out`` (or the number of weights that stay non-zero and
  are not powers of two after quantisation, when weights are given: HLS removes
  multiplications by 0 and turns those by +-2^k into shifts);
- DSPs ``ceil(f_dsp * M / R) * d(W)`` where ``d(W)`` is 0 below 10 bits (small products
  go to LUTs), 1 up to 18 bits (one DSP48E2 27x18 multiplier), 2 up to 27 bits, and
  ``f_dsp`` is the fraction of constant-coefficient products HLS maps to DSPs;
- cycles ``1 + ceil((t_mult + ceil(log2 n_in) * t_add(W)) / T) + (R - 1)``: a register,
  the multiplier and the adder tree, and R-1 more cycles when multipliers are reused
  (Resource strategy: 2 more for the weight-memory read); ReLU folds into the output
  register; the softmax costs 3 cycles (exp lookup, sum and inverse lookup, product);
- LUTs for the adder tree (W per adder) and for products not in DSPs (W^2/4 each), FFs for
  the product and output registers, BRAM18 for Resource-strategy weights when R >= 64.

``f_dsp`` and ``t_add`` are fitted to the 16-64-32-32-5 jet tagger at ap_fixed<16,6>,
reuse factor 1, 200 MHz: 10-14 cycles (50-70 ns) and 1,500-1,850 DSPs (Duarte et al.,
arXiv:1804.06913; Coelho et al., arXiv:2006.10159, baseline "BF" on a VU9P). That is the
only published design it is compared with, so its agreement there is **in-sample, by
construction, not a validation**: no second vendor synthesis is available to test it on
(:func:`fitted_design_table` shows the fit, labelled as such). LUT, FF and BRAM are not
fitted at all (order of magnitude only).

For the designs this project synthesises itself (da4ml shift-and-add RTL through Yosys),
:func:`validate_resource_model` tests resource estimates **out of sample**: da4ml's own
LUT/FF estimate (fitted to nothing here) and a one-constant rescaling of it fitted on the
other designs (leave-one-out), each against the synthesised count. The dependence on reuse factor
(DSPs ~ 1/R, latency growing with R) and the move of small products from DSPs to LUTs
follow the trends reported in arXiv:1804.06913 (Sec. 5); their size is a model
assumption, not a fit. Every number from here is labelled ``source = "estimate"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.errors import ParameterError
from hepml_nb.fpga.fixed import quantize_fixed
from hepml_nb.fpga.names import STRATEGIES, Strategy
from hepml_nb.fpga.rules import check_fixed_point, check_reuse_factor

__all__ = [
    "ESTIMATOR",
    "PUBLISHED",
    "FpgaEstimate",
    "PublishedDesign",
    "layer_cycles",
    "dsp_per_product",
    "effective_products",
    "fpga_estimate",
    "fitted_design_table",
    "validate_resource_model",
]

ESTIMATOR = "hepml-nb analytic model v1"
F_DSP = 0.394  # fitted: 1,675 DSPs (centre of 1,500-1,850) / 4,256 products at 16 bits, R = 1
T_MULT_NS = 2.5  # DSP48E2 multiply with its input/output registers at 200 MHz (model assumption)
T_ADD_BASE_NS, T_ADD_PER_BIT_NS = 0.2, 0.015  # adder-tree level: fitted so that the tagger takes 12 cycles
SOFTMAX_CYCLES = 3
LUT_PRODUCT_MIN_BITS = 10  # below this width HLS builds the products from LUTs
BRAM_MIN_REUSE = 64  # shallower weight arrays go to LUTRAM / registers


class PublishedDesign(NamedTuple):
    """A synthesised design from the literature, with the published ranges (low, high)."""

    label: str
    layers: tuple[tuple[int, int], ...]
    precision: tuple[int, int]
    reuse_factor: int
    strategy: Strategy
    clock_mhz: float
    latency_cycles: tuple[float, float]
    latency_ns: tuple[float, float]
    dsp: tuple[float, float]
    reference: str


PUBLISHED = (
    PublishedDesign(
        "jet tagger 16-64-32-32-5, ap_fixed<16,6>, R=1, Latency, 200 MHz",
        ((16, 64), (64, 32), (32, 32), (32, 5)),
        (16, 6),
        1,
        "Latency",
        200.0,
        (10, 14),
        (50, 70),
        (1500, 1850),
        "Duarte et al., JINST 13 (2018) P07027, arXiv:1804.06913; "
        "Coelho et al., Nat. Mach. Intell. 3 (2021) 675, arXiv:2006.10159",
    ),
)


class FpgaEstimate(NamedTuple):
    """Estimated latency (cycles, ns), initiation interval (cycles) and resources; ``source`` says where from."""

    latency_cycles: int
    latency_ns: float
    interval_cycles: int
    dsp: int
    lut: int
    ff: int
    bram: int
    source: str


def dsp_per_product(width: int) -> int:
    """DSP48E2 slices for one W x W product: 0 below 10 bits (LUTs), 1 up to 18, 2 up to 27, then more."""
    if width < LUT_PRODUCT_MIN_BITS:
        return 0
    if width <= 18:
        return 1
    return math.ceil(width / 27) * math.ceil(width / 18)


def layer_cycles(
    n_in: int, *, width: int, reuse_factor: int = 1, strategy: Strategy = "Latency", clock_mhz: float = 200.0
) -> int:
    """Clock cycles of one dense layer (output register, multiplier, adder tree, reuse)."""
    period = 1e3 / clock_mhz
    t_add = T_ADD_BASE_NS + T_ADD_PER_BIT_NS * width
    combinational = T_MULT_NS + math.ceil(math.log2(max(n_in, 2))) * t_add
    extra = (reuse_factor - 1) + (2 if strategy == "Resource" else 0)
    return 1 + math.ceil(combinational / period) + extra


def effective_products(weights: np.ndarray, *, width: int, integer: int) -> int:
    """Products left after quantising ``weights`` to ap_fixed<W,I>: non-zero and not +-2^k."""
    q = np.abs(quantize_fixed(np.asarray(weights, dtype=float), width, integer))
    nonzero = q[q > 0]
    power_of_two = np.isclose(np.log2(nonzero), np.round(np.log2(nonzero)))
    return int(np.sum(~power_of_two))


def _check(layers, width: int, integer: int, reuse_factor: int, strategy: Strategy, clock_mhz: float) -> None:
    if not layers or any(len(pair) != 2 or min(pair) < 1 for pair in layers):
        raise ParameterError(f"layers must be a non-empty list of (n_in, n_out) pairs, got {layers!r}")
    check_fixed_point(width, integer)
    check_reuse_factor(reuse_factor)
    if strategy not in STRATEGIES:
        raise ParameterError(f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")
    if not 10.0 <= clock_mhz <= 1000.0:
        raise ParameterError(f"clock_mhz must be within 10-1000 MHz, got {clock_mhz}")


def fpga_estimate(
    layers: Sequence[tuple[int, int]],
    *,
    precision: tuple[int, int] = (16, 6),
    reuse_factor: int = 1,
    strategy: Strategy = "Latency",
    clock_mhz: float = 200.0,
    softmax: bool = True,
    weights: Sequence[np.ndarray] | None = None,
) -> FpgaEstimate:
    """Latency and resources of an hls4ml ``io_parallel`` MLP, estimated (see the module docstring).

    Parameters
    ----------
    layers
        ``(n_in, n_out)`` of each dense layer, e.g. ``[(16, 64), (64, 32), (32, 32), (32, 5)]``.
    precision
        ``(W, I)`` of ap_fixed<W,I> used throughout.
    reuse_factor, strategy, clock_mhz
        hls4ml reuse factor, ``Latency``/``Resource``, and the clock in MHz.
    weights
        Optional weight matrices, one per layer: products are then counted after quantisation.

    Returns
    -------
    FpgaEstimate
        With ``source`` naming the estimator and what its constants were fitted to.
    """
    width, integer = precision
    _check(layers, width, integer, reuse_factor, strategy, clock_mhz)
    if weights is not None and len(weights) != len(layers):
        raise ParameterError(f"got {len(weights)} weight matrices for {len(layers)} layers")
    cycles, dsp, lut, ff, bram = (SOFTMAX_CYCLES if softmax else 0), 0, 0, 0, 0
    for i, (n_in, n_out) in enumerate(layers):
        n_prod = n_in * n_out if weights is None else effective_products(weights[i], width=width, integer=integer)
        c = layer_cycles(n_in, width=width, reuse_factor=reuse_factor, strategy=strategy, clock_mhz=clock_mhz)
        in_dsp = math.ceil(F_DSP * n_prod / reuse_factor) if dsp_per_product(width) else 0
        in_lut = math.ceil(n_prod / reuse_factor) - in_dsp
        cycles += c
        dsp += in_dsp * dsp_per_product(width)
        lut += math.ceil(n_prod / reuse_factor) * width + in_lut * width * width // 4 + n_out * width
        depth = layer_cycles(n_in, width=width, clock_mhz=clock_mhz)  # pipeline stages without reuse
        ff += math.ceil(n_prod / reuse_factor) * width + depth * (n_in + n_out) * width
        if strategy == "Resource" and reuse_factor >= BRAM_MIN_REUSE:
            bram += math.ceil(n_in * n_out / reuse_factor * width / 36) * math.ceil(reuse_factor / 512)
    label = (
        f"estimate ({ESTIMATOR} of hls4ml io_parallel; 2 constants fitted to {PUBLISHED[0].label}, "
        "not validated on any other design; LUT/FF/BRAM not fitted)"
    )
    return FpgaEstimate(cycles, cycles * 1e3 / clock_mhz, reuse_factor, dsp, lut, ff, bram, label)


def fitted_design_table() -> pd.DataFrame:
    """The hls4ml estimate beside the published design its constants were fitted to (in-sample).

    Columns: published range, estimate, ``within_range``, ``in_sample`` (always True: the
    agreement is the fit itself, not a test of the model) and the reference.
    """
    rows = []
    for design in PUBLISHED:
        est = fpga_estimate(
            design.layers,
            precision=design.precision,
            reuse_factor=design.reuse_factor,
            strategy=design.strategy,
            clock_mhz=design.clock_mhz,
        )
        for quantity, (low, high), value in (
            ("latency_cycles", design.latency_cycles, est.latency_cycles),
            ("latency_ns", design.latency_ns, est.latency_ns),
            ("dsp", design.dsp, est.dsp),
        ):
            rows.append(
                {
                    "design": design.label,
                    "quantity": quantity,
                    "published_low": low,
                    "published_high": high,
                    "estimate": value,
                    "within_range": low <= value <= high,
                    "in_sample": True,
                    "reference": design.reference,
                }
            )
    return pd.DataFrame(rows)


def validate_resource_model(
    designs: pd.DataFrame, *, synthesised: str = "synth_lut", estimate: str = "est_lut"
) -> pd.DataFrame:
    """Out-of-sample test of resource estimates against synthesis, one row per design.

    Parameters
    ----------
    designs
        One row per synthesised design with columns ``design``, ``estimate`` (e.g. da4ml's
        LUT estimate) and ``synthesised`` (e.g. Yosys's LUT count); at least 3 rows.

    Returns
    -------
    pandas.DataFrame
        ``design``, the two inputs, ``raw_rel_error`` (the estimate as it is: nothing fitted
        here), ``scale_fitted_on_others`` (least-squares factor synthesised/estimate over the
        other designs), ``loo_prediction`` and ``loo_rel_error`` (leave-one-out: the design
        was not used for its own prediction).
    """
    missing = sorted({"design", synthesised, estimate} - set(designs.columns))
    if missing:
        raise ParameterError(f"designs table lacks columns {missing}; columns are: {', '.join(designs.columns)}")
    if len(designs) < 3:
        raise ParameterError(
            f"need at least 3 synthesised designs to fit on some and test on another, got "
            f"{len(designs)}; synthesise more design points"
        )
    est = designs[estimate].to_numpy(dtype=float)
    syn = designs[synthesised].to_numpy(dtype=float)
    rows = []
    for k in range(len(designs)):
        others = np.arange(len(designs)) != k
        scale = float(np.dot(est[others], syn[others]) / np.dot(est[others], est[others]))
        rows.append(
            {
                "design": designs["design"].iloc[k],
                estimate: est[k],
                synthesised: syn[k],
                "raw_rel_error": (est[k] - syn[k]) / syn[k],
                "scale_fitted_on_others": scale,
                "loo_prediction": scale * est[k],
                "loo_rel_error": (scale * est[k] - syn[k]) / syn[k],
            }
        )
    return pd.DataFrame(rows)
