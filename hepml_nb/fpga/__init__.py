"""FPGA latency study with hls4ml: the 16-64-32-32-5 jet tagger, fixed-point emulation, scans and estimates.

Every name loads on first use (:func:`hepml_nb.core.lazy.lazy_module`), so
``import hepml_nb.fpga`` imports no heavy dependency. Missing dependencies:
``pip install 'hepml-nb[fpga]'``.
"""
from hepml_nb.core.lazy import lazy_module

__getattr__, __dir__, __all__ = lazy_module(
    __name__, topic="fpga", submodules=("plots", "exercises"),
    attributes={
        "estimate": ("PUBLISHED", "FpgaEstimate", "calibration_table", "fpga_estimate"),
        "fixed": ("integer_bits_needed", "numerical_profile", "quantize_fixed"),
        "hls": ("HLSBuild", "convert_tagger", "emulate", "find_hls_tool", "fixed_precision", "hls_config",
                "hls_tool_available", "parse_precision", "require_hls_tool", "resolve_synthesis", "synthesize"),
        "model": ("TaggerData", "TrainResult", "build_tagger", "classification_metrics", "dense_layer_sizes",
                "load_jet_data", "predict_proba", "prepare_data", "train_tagger"),
        "rules": ("check_fixed_point", "check_widths", "check_reuse_factor", "check_reuse_factors"),
        "scans": ("HardwareFigures", "check_study_parameters", "cpu_latency", "hardware_figures", "precision_scan",
                  "reuse_scan",
                "study_table"),
    },
)
