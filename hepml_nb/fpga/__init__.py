"""FPGA latency study: the 16-64-32-32-5 jet tagger, hls4ml emulation, and real RTL with open-source tools.

The topic's layout: ``names`` (its vocabularies), ``spec`` (notebook, profiles, rules),
``data`` (the jet features), ``models`` (the MLP), ``training``, ``study`` (the notebook's
records, each with ``.metrics()``), ``plots`` and ``exercises``. hls4ml conversion and
emulation live in ``hls`` and ``compare``, fixed point in ``fixed``, the analytic estimate in
``estimate``, the scans in ``scans``; the RTL flow (da4ml Verilog, Icarus simulation, Yosys
synthesis, nextpnr place and route) in ``rtl``, ``rtlsim``, ``synth``, ``flow`` and ``tools``;
quantisation-aware training in ``qat`` and the PTQ/QAT design points in ``quantization``.
Every name loads on first use (:func:`hepml_nb.core.lazy.lazy_module`), so
``import hepml_nb.fpga`` imports no heavy dependency. Missing dependencies:
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
        "data": ("TaggerData", "load_jet_data", "prepare_data"),
        "models": ("build_tagger", "classification_metrics", "dense_layer_sizes", "predict_proba"),
        "training": ("train_tagger",),
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
        "quantization": ("design_point", "quantization_scan"),
        "study": (
            "EmulationCheck",
            "MethodComparison",
            "PrecisionStudy",
            "RTLOutcome",
            "compare_methods",
            "emulation_check",
            "min_width_within",
            "rtl_outcome",
            "study_metrics",
        ),
        "qat": ("QATResult", "fake_fixed", "pareto_front", "quantized_metrics", "train_qat"),
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
