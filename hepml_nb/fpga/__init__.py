"""FPGA latency study: the 16-64-32-32-5 jet tagger, hls4ml emulation, and real RTL with open-source tools.

The RTL flow (da4ml Verilog, Icarus simulation, Yosys synthesis, nextpnr place and
route) lives in ``rtl``, ``rtlsim``, ``synth``, ``flow`` and ``tools``; quantisation-aware
training in ``qat``. Every name loads on first use (:func:`hepml_nb.core.lazy.lazy_module`),
so ``import hepml_nb.fpga`` imports no heavy dependency. Missing dependencies:
``pip install 'hepml-nb[fpga]'``.
"""

from hepml_nb.core.lazy import lazy_module

__getattr__, __dir__, __all__ = lazy_module(
    __name__,
    topic="fpga",
    submodules=("plots", "exercises"),
    attributes={
        "estimate": ("PUBLISHED", "FpgaEstimate", "fitted_design_table", "fpga_estimate", "validate_resource_model"),
        "fixed": ("integer_bits_needed", "numerical_profile", "quantize_fixed"),
        "hls": (
            "HLSBuild",
            "convert_tagger",
            "emulate",
            "find_hls_tool",
            "fixed_precision",
            "hls_config",
            "hls_tool_available",
            "parse_precision",
            "require_hls_tool",
            "resolve_synthesis",
            "synthesize",
        ),
        "model": (
            "TaggerData",
            "TrainResult",
            "build_tagger",
            "classification_metrics",
            "dense_layer_sizes",
            "load_jet_data",
            "predict_proba",
            "prepare_data",
            "train_tagger",
        ),
        "rules": ("check_fixed_point", "check_widths", "check_reuse_factor", "check_reuse_factors"),
        "scans": (
            "HardwareFigures",
            "check_study_parameters",
            "cpu_latency",
            "hardware_figures",
            "precision_scan",
            "reuse_scan",
            "study_table",
        ),
        "compare": ("Agreement", "compare_outputs", "convert_network", "emulate_network", "hls_config_for"),
        "flow": ("SHIPPED_LABEL", "RTLFlowResult", "run_rtl_flow", "shipped_reports"),
        "study": ("design_point", "quantization_scan"),
        "qat": ("QATResult", "pareto_front", "quantized_metrics", "train_qat"),
        "rtl": (
            "QuantizedMLP",
            "RTLDesign",
            "da4ml_predict",
            "parse_fixed_type",
            "quantize_tagger",
            "reference_logits",
            "trace_network",
            "write_verilog",
        ),
        "rtlsim": (
            "RTLMismatchError",
            "RTLSimulation",
            "Waveform",
            "check_bit_exact",
            "read_vcd",
            "rtl_waveform",
            "simulate_rtl",
            "verify_rtl",
        ),
        "synth": ("PlaceRouteReport", "SynthesisReport", "place_and_route", "synthesize_rtl"),
        "tools": ("find_tool", "require_tool", "tool_available", "tool_report"),
    },
)
