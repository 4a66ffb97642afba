"""The fpga topic: its notebook, profiles and parameter rules (names from :mod:`hepml_nb.fpga.names`).

Import-light (no numpy, torch or hls4ml): the course catalog reads it for ``hepml-nb list``.
"""

from __future__ import annotations

from typing import Any

from hepml_nb.core.rules import Cost, Rule, between, matching, one_of, size
from hepml_nb.core.topics import Headline, topic
from hepml_nb.fpga.names import STRATEGIES, SYNTHESIS_MODES

__all__ = ["TOPIC", "HLS4ML_TYPE"]

#: hls4ml's precision strings (FPGABackend.convert_precision_string): ap_fixed<W,I> and ap_ufixed<W,I>, optionally
#: with a rounding mode, a saturation mode and saturation bits; ap_int<W>, ap_uint<W>. Digits are ASCII, the
#: only blank is a space (a newline or tab is refused).
_ROUNDING = "AP_TRN|AP_TRN_ZERO|AP_RND|AP_RND_ZERO|AP_RND_INF|AP_RND_MIN_INF|AP_RND_CONV"
_SATURATION = "AP_WRAP|AP_SAT|AP_SAT_ZERO|AP_SAT_SYM"
_SEP = " *, *"
HLS4ML_TYPE = (
    rf"(?:ap_u?fixed< *[0-9]+{_SEP}-?[0-9]+(?:{_SEP}(?:{_ROUNDING})(?:{_SEP}(?:{_SATURATION})(?:{_SEP}[0-9]+)?)?)? *>"
    r"|ap_u?int< *[0-9]+ *>)"
)
_HLS4ML_FORM = (
    "an hls4ml type such as ap_fixed<16,6> (ap_fixed<W,I> or ap_ufixed<W,I>, optionally with a rounding mode "
    "AP_TRN..., a saturation mode AP_WRAP, AP_SAT... and saturation bits)"
)

#: fpga: the jets come from the particlenet generator (about 25 ms of CPU per jet)
_FPGA_JET = Cost("jet", seconds=0.025, basis="Pythia8 generation and clustering, as the particlenet topic")
#: activations and gradients of the 16-64-32-32-5 MLP, float32
_MLP_JET = Cost("jet", bytes=3 * (16 + 64 + 32 + 32 + 5) * 4, basis="activations and gradients of 16-64-32-32-5")
#: hls4ml's C++ emulation: 6,364 jets/s per compiled design (benchmarks/bench_fpga_hls4ml.py), 13 designs by default
_EMULATED_JET = Cost("jet", seconds=13 / 6364, basis="13 compiled designs at 6,364 jets/s each")
#: batch-1 inferences of the CPU backends, measured: torch 36 us, ONNX Runtime 7 us
_CPU_REPEAT = Cost("repeat", seconds=4.4e-5, basis="one batch-1 inference each of torch and ONNX Runtime")
#: one epoch of the 16-64-32-32-5 MLP on 7,000 jets, one thread: 1.2 s measured
_MLP_EPOCH = Cost("epoch", seconds=1.2, basis="7,000 jets through the 16-64-32-32-5 MLP on one thread")
#: Icarus Verilog simulation of the default design: 142 jets/s measured (benchmarks/bench_fpga_rtl.py)
_RTL_JET = Cost("jet", seconds=1 / 142, basis="Icarus Verilog, 142 jets/s (benchmarks/bench_fpga_rtl.py)")


def _check_precision(value: Any) -> Any:
    """``reference_precision``: hls4ml parses it (imports the fpga topic's code only when called)."""
    from hepml_nb.fpga.hls import parse_precision

    return parse_precision(value)


def _check_fixed_type(value: Any) -> Any:
    """``rtl_activation`` / ``rtl_input``: a fixed-point type the RTL flow can build."""
    from hepml_nb.fpga.rtl import parse_fixed_type

    return parse_fixed_type(value)


TOPIC = topic(
    "fpga",
    "04_fpga_latency_hls4ml.ipynb",
    "FPGA latency study with hls4ml",
    "16-64-32-32-5 jet tagger, hls4ml precision and reuse-factor scans, latency and resources",
    rules={
        "n_per_class": size(10, 1_000_000, _FPGA_JET),
        "epochs": size(0, 10_000, _MLP_EPOCH),
        "batch_size": size(1, 1 << 20, _MLP_JET),
        "learning_rate": between(1e-8, 10.0),
        "reference_precision": matching(HLS4ML_TYPE, _HLS4ML_FORM, validator=_check_precision),
        "integer_bits": between(1, 64),
        "widths": between(2, 64, items=True, min_items=1),
        "weight_integer_bits": between(1, 64),
        "profiled_widths": between(2, 64, items=True, min_items=1),
        "reuse_factors": Rule(minimum=1, items=True, min_items=1),
        "strategy": one_of(*STRATEGIES),
        "clock_mhz": Rule(minimum=1e-3),
        "n_emulate": size(1, 1_000_000, _EMULATED_JET),
        "run_synthesis": one_of(*SYNTHESIS_MODES),
        "cpu_repeats": size(1, 1_000_000, _CPU_REPEAT),
        "rtl_weight_bits": between(1, 16, items=True, min_items=1),
        "qat_epochs": size(0, 10_000, _MLP_EPOCH),
        "qat_prune": between(0.0, 0.99),
        "default_weight_bits": between(1, 16),
        "n_rtl_sim": size(1, 1_000_000, _RTL_JET),
        "rtl_activation": matching(HLS4ML_TYPE, _HLS4ML_FORM, validator=_check_fixed_type),
        "rtl_input": matching(HLS4ML_TYPE, _HLS4ML_FORM, validator=_check_fixed_type),
    },
    ci={
        "n_per_class": 200,
        "epochs": 15,
        "widths": [8, 12, 16],
        "profiled_widths": [8],
        "reuse_factors": [1, 4],
        "n_emulate": 300,
        "cpu_repeats": 50,
        "rtl_weight_bits": [3, 4],
        "qat_epochs": 3,
        "n_rtl_sim": 300,
        "rtl_synthesis": False,
        "compare_softmax": False,
    },
    full={
        "n_per_class": 20000,
        "epochs": 100,
        "widths": list(range(6, 19)),
        "profiled_widths": list(range(6, 13)),
        "reuse_factors": [1, 2, 4, 8, 16, 32, 64],
        "n_emulate": 30000,
        "cpu_repeats": 2000,
        "rtl_weight_bits": [2, 3, 4, 5, 6, 7, 8],
        "qat_epochs": 60,
        "n_rtl_sim": 20000,
        "synthesize_scan": True,
        "place_route": True,
    },
    headline=(
        Headline("accuracy, float", "float_accuracy"),
        Headline("accuracy, fixed point (reference precision)", "reference_accuracy"),
        Headline("latency [ns] (hls4ml model)", "latency_ns"),
        Headline("latency [ns] (simulated RTL)", "rtl_sim_latency_ns"),
        Headline("DSPs", "dsp"),
        Headline("LUTs", "lut"),
    ),
)
