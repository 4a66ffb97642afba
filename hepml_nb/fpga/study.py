"""The layer the notebook drives: the records of its sections, each with ``.metrics()``.

- :func:`emulation_check`: the reference hls4ml design, emulated, against the float model;
- :class:`PrecisionStudy`: the uniform and the profile-guided bit-width scans;
- :func:`compare_methods`: post-training quantisation against quantisation-aware training,
  width by width, from :func:`~hepml_nb.fpga.quantization.quantization_scan`;
- :func:`rtl_outcome`: the default design through the RTL flow, or the shipped reports;
- :func:`study_metrics`: every number the notebook writes to ``metrics.json``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.errors import DataError
from hepml_nb.fpga.compare import Agreement
from hepml_nb.fpga.data import TaggerData
from hepml_nb.fpga.flow import RTLFlowResult, shipped_reports
from hepml_nb.fpga.hls import HLSBuild, emulate
from hepml_nb.fpga.models import classification_metrics
from hepml_nb.fpga.qat import quantized_metrics
from hepml_nb.fpga.rtl import QuantizedMLP
from hepml_nb.fpga.scans import HardwareFigures

__all__ = [
    "EmulationCheck",
    "emulation_check",
    "min_width_within",
    "PrecisionStudy",
    "MethodComparison",
    "compare_methods",
    "RTLOutcome",
    "rtl_outcome",
    "study_metrics",
]


class EmulationCheck(NamedTuple):
    """One hls4ml design emulated bit for bit, against the float model on the same jets.

    ``float_metrics`` and ``emulated_metrics`` are :func:`~hepml_nb.fpga.classification_metrics`
    dicts; ``compile_seconds`` is the conversion and g++ time (about 0 when ``reused``).
    """

    precision: str
    n_jets: int
    float_metrics: dict[str, float]
    emulated_metrics: dict[str, float]
    compile_seconds: float
    reused: bool
    jets_per_second: float

    @property
    def accuracy_drop(self) -> float:
        """Float accuracy minus emulated accuracy (positive: the fixed-point design loses)."""
        return self.float_metrics["accuracy"] - self.emulated_metrics["accuracy"]

    def summary(self) -> str:
        """One line: accuracies, where the build came from, emulation speed."""
        return (
            f"{self.precision}: accuracy {self.emulated_metrics['accuracy']:.4f} "
            f"(float {self.float_metrics['accuracy']:.4f}); {'reused' if self.reused else 'compiled'} in "
            f"{self.compile_seconds:.1f} s; emulation {self.jets_per_second:,.0f} jets/s"
        )

    def metrics(self) -> dict[str, Any]:
        """``n_emulated``, ``float_accuracy``, ``float_mean_auc``, ``reference_*``, the build and emulation times."""
        return {
            "n_emulated": self.n_jets,
            "float_accuracy": self.float_metrics["accuracy"],
            "float_mean_auc": self.float_metrics["mean_auc"],
            "reference_precision": self.precision,
            "reference_accuracy": self.emulated_metrics["accuracy"],
            "reference_mean_auc": self.emulated_metrics["mean_auc"],
            "reference_accuracy_drop": self.accuracy_drop,
            "compile_seconds": self.compile_seconds,
            "emulation_jets_per_s": self.jets_per_second,
        }


def emulation_check(
    build: HLSBuild,
    X: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    *,
    precision: str,
    float_metrics: Mapping[str, float],
) -> EmulationCheck:
    """Emulate ``build`` (:func:`~hepml_nb.fpga.convert_tagger`) on jets ``X`` (N, F), timed, and score it.

    ``float_metrics`` are the float model's metrics on the same jets; ``precision`` labels the design.
    """
    start = time.perf_counter()
    scores = emulate(build.hls_model, X)
    rate = len(X) / (time.perf_counter() - start)
    emulated = classification_metrics(y, scores, class_names)
    return EmulationCheck(precision, len(X), dict(float_metrics), emulated, build.seconds, build.reused, rate)


def min_width_within(scan: pd.DataFrame, float_accuracy: float, *, tolerance: float = 0.01) -> int | None:
    """Smallest ``width`` of a :func:`~hepml_nb.fpga.precision_scan` whose accuracy is at least
    ``float_accuracy - tolerance``; None when no width is."""
    good = scan[scan["accuracy"] >= float_accuracy - tolerance]
    return int(good["width"].min()) if len(good) else None


class PrecisionStudy(NamedTuple):
    """The bit-width scans: ``uniform`` (one ``ap_fixed<W,I>`` everywhere) and ``profiled`` (weights
    ``ap_fixed<W,1>``), both :func:`~hepml_nb.fpga.precision_scan` tables, and the float accuracy."""

    uniform: pd.DataFrame
    profiled: pd.DataFrame
    float_accuracy: float

    def comparison(self) -> pd.DataFrame:
        """Accuracy of both scans at the widths they share: ``width, uniform, profile_guided``."""
        uniform, profiled = self.uniform.set_index("width"), self.profiled.set_index("width")
        common = sorted(set(uniform.index) & set(profiled.index))
        return pd.DataFrame(
            {
                "width": common,
                "uniform": [uniform.loc[w, "accuracy"] for w in common],
                "profile_guided": [profiled.loc[w, "accuracy"] for w in common],
            }
        )

    def metrics(self) -> dict[str, Any]:
        """``min_width_within_1pct``, ``scan_widths``, ``scan_accuracy``, ``profiled_widths``, ``profiled_accuracy``."""
        return {
            "min_width_within_1pct": min_width_within(self.uniform, self.float_accuracy),
            "scan_widths": self.uniform["width"].tolist(),
            "scan_accuracy": self.uniform["accuracy"].tolist(),
            "profiled_widths": self.profiled["width"].tolist(),
            "profiled_accuracy": self.profiled["accuracy"].tolist(),
        }


class MethodComparison(NamedTuple):
    """PTQ beside QAT at each weight width: ``table`` has ``weight_bits, ptq_accuracy, qat_accuracy,
    ptq_est_lut, qat_est_lut`` (da4ml's LUT estimate), one row per width."""

    table: pd.DataFrame

    def metrics(self) -> dict[str, list]:
        """``rtl_weight_bits``, ``qat_accuracy``, ``ptq_accuracy`` (lists, one entry per width)."""
        return {
            "rtl_weight_bits": self.table["weight_bits"].tolist(),
            "qat_accuracy": self.table["qat_accuracy"].tolist(),
            "ptq_accuracy": self.table["ptq_accuracy"].tolist(),
        }


def compare_methods(scan: pd.DataFrame) -> MethodComparison:
    """Pair the PTQ and QAT rows of a :func:`~hepml_nb.fpga.quantization.quantization_scan` table width by width.

    Raises
    ------
    DataError
        When the two methods were not scanned at the same weight widths, in the same order.
    """
    ptq, qat = (scan[scan["method"] == m].reset_index(drop=True) for m in ("PTQ", "QAT"))
    if ptq["weight_bits"].tolist() != qat["weight_bits"].tolist():
        raise DataError(
            f"PTQ widths {ptq['weight_bits'].tolist()} and QAT widths {qat['weight_bits'].tolist()} differ; "
            "scan both methods at the same weight_bits (quantization_scan with methods=('PTQ', 'QAT'))"
        )
    table = pd.DataFrame(
        {
            "weight_bits": ptq["weight_bits"],
            "ptq_accuracy": ptq["accuracy"],
            "qat_accuracy": qat["accuracy"],
            "ptq_est_lut": ptq["est_lut"],
            "qat_est_lut": qat["est_lut"],
        }
    )
    return MethodComparison(table)


class RTLOutcome(NamedTuple):
    """The default design after the RTL flow: its key, depth, non-zero weights and accuracy, and the
    simulation (``rtl_sim_*``) and synthesis (``synth_*``) figures of this run or of the shipped reports."""

    design_key: str
    pipeline_stages: int
    n_nonzero: int
    accuracy: float
    simulation: dict[str, Any]
    synthesis: dict[str, Any]
    simulation_source: str
    synthesis_source: str
    bit_exact: bool

    def summary(self) -> str:
        """Two lines: the simulation (latency) and the synthesis (resources), each with its source."""
        sim, syn = self.simulation, self.synthesis
        cycles, ns = sim["rtl_sim_latency_cycles"], sim["rtl_sim_latency_ns"]
        return (
            f"RTL simulation ({self.simulation_source}): {sim['rtl_sim_n_jets']} jets bit-exact against numpy "
            f"and da4ml; latency {cycles} cycles = {ns:g} ns at {1e3 * cycles / ns:g} MHz\n"
            f"synthesis ({self.synthesis_source}): LUT {syn['synth_lut']:,} (+{syn['synth_inv']:,} INV), "
            f"FF {syn['synth_ff']:,}, CARRY4 {syn['synth_carry']:,}, DSP {syn['synth_dsp']} in "
            f"{syn['synth_seconds']:.0f} s"
        )

    def metrics(self) -> dict[str, Any]:
        """``rtl_key``, ``rtl_pipeline_stages``, ``rtl_n_nonzero``, ``rtl_accuracy``, ``rtl_sim_latency_*``,
        ``rtl_sim_bit_exact``, ``rtl_sim_source``, ``synth_lut``, ``synth_ff``, ``synth_source``."""
        return {
            "rtl_key": self.design_key,
            "rtl_pipeline_stages": self.pipeline_stages,
            "rtl_n_nonzero": self.n_nonzero,
            "rtl_accuracy": self.accuracy,
            "rtl_sim_latency_cycles": self.simulation["rtl_sim_latency_cycles"],
            "rtl_sim_latency_ns": self.simulation["rtl_sim_latency_ns"],
            "rtl_sim_bit_exact": self.bit_exact,
            "rtl_sim_source": self.simulation_source,
            "synth_lut": self.synthesis["synth_lut"],
            "synth_ff": self.synthesis["synth_ff"],
            "synth_source": self.synthesis_source,
        }


def rtl_outcome(
    flow: RTLFlowResult, net: QuantizedMLP, data: TaggerData, *, shipped: Mapping[str, Any] | None = None
) -> RTLOutcome:
    """The figures of ``flow`` (:func:`~hepml_nb.fpga.run_rtl_flow` of ``net``), a skipped step replaced by
    the shipped report (``shipped``, default :func:`~hepml_nb.fpga.shipped_reports`) and labelled as such.

    The accuracy is the fixed-point network's on all test jets of ``data``.
    """
    shipped = shipped if shipped is not None else shipped_reports()
    sim, syn = flow.simulation, flow.synthesis
    return RTLOutcome(
        flow.design.key,
        flow.design.n_stages,
        net.n_nonzero(),
        quantized_metrics(net, data.X_test, data.y_test, data.class_names)["accuracy"],
        sim.metrics() if sim else shipped["simulation"],
        syn.metrics() if syn else shipped["synthesis"],
        "this run" if sim else shipped["label"],
        f"this run (Yosys, synth_xilinx -family {syn.family})" if syn else shipped["label"],
        sim is not None,
    )


def study_metrics(
    data: TaggerData,
    *,
    reference: EmulationCheck,
    precision: PrecisionStudy,
    reuse: pd.DataFrame,
    hls_tool: str | None,
    fitted: pd.DataFrame,
    cpu: Mapping[str, float],
    methods: MethodComparison,
    rtl: RTLOutcome,
    hls_vs_rtl: Agreement,
    lut_check: pd.DataFrame,
) -> dict[str, Any]:
    """Every number the notebook records, from the records of its sections.

    Parameters
    ----------
    reuse
        :func:`~hepml_nb.fpga.reuse_scan` table; its first row (the smallest reuse factor) gives
        ``latency_ns, latency_cycles, dsp, lut, ff, bram, hardware_source``.
    hls_tool, fitted
        :func:`~hepml_nb.fpga.find_hls_tool` and :func:`~hepml_nb.fpga.fitted_design_table` (whose
        agreement is in-sample: recorded as ``estimator_fit_within_published_range``).
    cpu
        :func:`~hepml_nb.fpga.cpu_latency`: microseconds per backend, recorded as ``cpu_<backend>_us``.
    hls_vs_rtl, lut_check
        hls4ml's emulation against the RTL (same arithmetic), and the out-of-sample LUT check
        (:func:`~hepml_nb.fpga.validate_resource_model`).
    """
    return {
        "n_train": len(data.X_train),
        "n_test": len(data.X_test),
        **reference.metrics(),
        **precision.metrics(),
        **HardwareFigures.from_row(reuse.iloc[0]).metrics(),
        "hls_tool": hls_tool,
        "estimator_fit_within_published_range": bool(fitted["within_range"].all()),  # in-sample, not an accuracy
        **{f"cpu_{name}_us": us for name, us in cpu.items()},
        **rtl.metrics(),
        **methods.metrics(),
        "hls_vs_rtl_bit_exact": hls_vs_rtl.bit_exact_fraction,
        "lut_estimate_max_abs_error": float(lut_check["raw_rel_error"].abs().max()),
    }
