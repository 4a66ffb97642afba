"""FPGA latency study: the 16-64-32-32-5 jet tagger, hls4ml emulation, and real RTL with open-source tools.

The RTL flow (da4ml Verilog, Icarus simulation, Yosys synthesis, nextpnr place and
route) lives in ``rtl``, ``rtlsim``, ``synth``, ``flow`` and ``tools``; quantisation-aware
training in ``qat``. hls4ml, torch and da4ml load on first use of the functions that need them.
"""
from hepml_nb.fpga.estimate import PUBLISHED, FpgaEstimate, fitted_design_table, fpga_estimate, validate_resource_model
from hepml_nb.fpga.fixed import integer_bits_needed, numerical_profile, quantize_fixed
from hepml_nb.fpga.hls import (
    HLSBuild, convert_tagger, emulate, find_hls_tool, fixed_precision, hls_config, hls_tool_available,
    parse_precision, require_hls_tool, resolve_synthesis, synthesize,
)
from hepml_nb.fpga.model import (
    TaggerData, TrainResult, build_tagger, classification_metrics, dense_layer_sizes, load_jet_data,
    predict_proba, prepare_data, train_tagger,
)
from hepml_nb.fpga.compare import Agreement, compare_outputs, convert_network, emulate_network, hls_config_for
from hepml_nb.fpga.flow import SHIPPED_LABEL, RTLFlowResult, run_rtl_flow, shipped_reports
from hepml_nb.fpga.study import design_point, quantization_scan
from hepml_nb.fpga.qat import QATResult, pareto_front, quantized_metrics, train_qat
from hepml_nb.fpga.rtl import (
    QuantizedMLP, RTLDesign, da4ml_predict, parse_fixed_type, quantize_tagger, reference_logits, trace_network,
    write_verilog,
)
from hepml_nb.fpga.rtlsim import RTLMismatchError, RTLSimulation, check_bit_exact, simulate_rtl, verify_rtl
from hepml_nb.fpga.synth import PlaceRouteReport, SynthesisReport, place_and_route, synthesize_rtl
from hepml_nb.fpga.tools import find_tool, require_tool, tool_available, tool_report
from hepml_nb.fpga.scans import (
    check_study_parameters, cpu_latency, hardware_figures, precision_scan, reuse_scan, study_table,
)

__all__ = [
    "PUBLISHED", "FpgaEstimate", "fitted_design_table", "fpga_estimate", "validate_resource_model",
    "Agreement", "compare_outputs", "convert_network", "emulate_network", "hls_config_for",
    "SHIPPED_LABEL", "RTLFlowResult", "run_rtl_flow", "shipped_reports", "design_point", "quantization_scan",
    "QATResult", "pareto_front", "quantized_metrics", "train_qat",
    "QuantizedMLP", "RTLDesign", "da4ml_predict", "parse_fixed_type", "quantize_tagger", "reference_logits",
    "trace_network", "write_verilog",
    "RTLMismatchError", "RTLSimulation", "check_bit_exact", "simulate_rtl", "verify_rtl",
    "PlaceRouteReport", "SynthesisReport", "place_and_route", "synthesize_rtl",
    "find_tool", "require_tool", "tool_available", "tool_report",
    "integer_bits_needed", "numerical_profile", "quantize_fixed",
    "HLSBuild", "convert_tagger", "emulate", "find_hls_tool", "fixed_precision", "hls_config",
    "hls_tool_available", "parse_precision", "require_hls_tool", "resolve_synthesis", "synthesize",
    "TaggerData", "TrainResult", "build_tagger", "classification_metrics", "dense_layer_sizes",
    "load_jet_data", "predict_proba", "prepare_data", "train_tagger",
    "check_study_parameters", "cpu_latency", "hardware_figures", "precision_scan", "reuse_scan", "study_table",
]
