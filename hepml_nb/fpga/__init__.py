"""FPGA latency study with hls4ml: the 16-64-32-32-5 jet tagger, fixed-point emulation, scans and estimates.

hls4ml and torch load on first use of the functions that need them.
"""
from hepml_nb.fpga.estimate import PUBLISHED, FpgaEstimate, calibration_table, fpga_estimate
from hepml_nb.fpga.fixed import integer_bits_needed, numerical_profile, quantize_fixed
from hepml_nb.fpga.hls import (
    HLSBuild, convert_tagger, emulate, find_hls_tool, fixed_precision, hls_config, hls_tool_available,
    parse_precision, require_hls_tool, resolve_synthesis, synthesize,
)
from hepml_nb.fpga.model import (
    TaggerData, TrainResult, build_tagger, classification_metrics, dense_layer_sizes, load_jet_data,
    predict_proba, prepare_data, train_tagger,
)
from hepml_nb.fpga.scans import (
    check_study_parameters, cpu_latency, hardware_figures, precision_scan, reuse_scan, study_table,
)

__all__ = [
    "PUBLISHED", "FpgaEstimate", "calibration_table", "fpga_estimate",
    "integer_bits_needed", "numerical_profile", "quantize_fixed",
    "HLSBuild", "convert_tagger", "emulate", "find_hls_tool", "fixed_precision", "hls_config",
    "hls_tool_available", "parse_precision", "require_hls_tool", "resolve_synthesis", "synthesize",
    "TaggerData", "TrainResult", "build_tagger", "classification_metrics", "dense_layer_sizes",
    "load_jet_data", "predict_proba", "prepare_data", "train_tagger",
    "check_study_parameters", "cpu_latency", "hardware_figures", "precision_scan", "reuse_scan", "study_table",
]
