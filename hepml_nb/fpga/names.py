"""The fpga topic's vocabulary: the fixed sets of names its parameters take, as ``Literal`` types and
the tuples built from them.

Import-light (only ``typing``): the topic's spec module and its library modules import these names from
here, so each set is written once.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "Strategy",
    "STRATEGIES",
    "SynthesisMode",
    "SYNTHESIS_MODES",
    "Backend",
    "BACKENDS",
    "IoType",
    "IO_TYPES",
    "Rounding",
    "ROUNDING_MODES",
    "Overflow",
    "OVERFLOW_MODES",
    "QuantizationMethod",
    "QUANTIZATION_METHODS",
    "CpuBackend",
    "CPU_BACKENDS",
    "Simulator",
    "SIMULATORS",
    "XilinxFamily",
    "XILINX_FAMILIES",
    "Ecp5Device",
    "ECP5_DEVICES",
]

Strategy = Literal["Latency", "Resource"]
#: hls4ml's implementation strategies of a layer
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)
SynthesisMode = Literal["auto", "always", "never"]
#: when the notebook runs a vendor HLS synthesis (auto: when a tool is found)
SYNTHESIS_MODES: tuple[SynthesisMode, ...] = get_args(SynthesisMode)
Backend = Literal["Vitis", "Vivado"]
#: hls4ml backends this package drives (the vendor HLS tool each writes a project for)
BACKENDS: tuple[Backend, ...] = get_args(Backend)
IoType = Literal["io_parallel", "io_stream"]
#: hls4ml's interfaces between layers (all values at once, or streamed)
IO_TYPES: tuple[IoType, ...] = get_args(IoType)
Rounding = Literal["TRN", "RND"]
#: quantisation modes of ap_fixed (truncation towards minus infinity, round half up)
ROUNDING_MODES: tuple[Rounding, ...] = get_args(Rounding)
Overflow = Literal["WRAP", "SAT"]
#: overflow modes of ap_fixed (two's-complement wrap-around, saturation)
OVERFLOW_MODES: tuple[Overflow, ...] = get_args(Overflow)
QuantizationMethod = Literal["PTQ", "QAT"]
#: post-training quantisation, quantisation-aware training
QUANTIZATION_METHODS: tuple[QuantizationMethod, ...] = get_args(QuantizationMethod)
CpuBackend = Literal["torch", "onnxruntime"]
#: the CPU inference runtimes timed beside the FPGA figures
CPU_BACKENDS: tuple[CpuBackend, ...] = get_args(CpuBackend)
Simulator = Literal["icarus", "verilator"]
#: RTL simulators of the open-source flow
SIMULATORS: tuple[Simulator, ...] = get_args(Simulator)
XilinxFamily = Literal["xcup", "xcu", "xc7"]
#: Yosys ``synth_xilinx -family`` targets: UltraScale+, UltraScale, 7-series
XILINX_FAMILIES: tuple[XilinxFamily, ...] = get_args(XilinxFamily)
Ecp5Device = Literal["12k", "25k", "45k", "85k"]
#: Lattice ECP5 sizes of nextpnr-ecp5
ECP5_DEVICES: tuple[Ecp5Device, ...] = get_args(Ecp5Device)
