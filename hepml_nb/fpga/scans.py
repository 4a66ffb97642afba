"""Precision and reuse-factor scans, the latency study table, and CPU inference latency.

The precision scan compiles one hls4ml project per bit width (cached) and evaluates the
bit-accurate emulation against the float model. The reuse factor changes the hardware
schedule, not the arithmetic, so the reuse-factor scan takes its accuracy from one
emulation and its latency/resources from synthesis (when a vendor tool is present) or
from :func:`hepml_nb.fpga.fpga_estimate` (labelled as an estimate).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.fpga.estimate import fpga_estimate
from hepml_nb.fpga.hls import (
    convert_tagger,
    emulate,
    fixed_precision,
    parse_precision,
    resolve_synthesis,
    synthesis_backend,
    synthesize,
)
from hepml_nb.fpga.models import classification_metrics, dense_layer_sizes, predict_proba
from hepml_nb.fpga.names import CPU_BACKENDS, CpuBackend, Strategy, SynthesisMode
from hepml_nb.fpga.rules import check_reuse_factors, check_widths

__all__ = [
    "HardwareFigures",
    "check_study_parameters",
    "precision_scan",
    "hardware_figures",
    "reuse_scan",
    "study_table",
    "cpu_latency",
]


class HardwareFigures(NamedTuple):
    """Latency and resources of one design and where they come from (``estimate`` or the HLS tool's report)."""

    latency_ns: float
    latency_cycles: int
    dsp: int
    lut: int
    ff: int
    bram: int
    source: str

    @classmethod
    def from_row(cls, row) -> HardwareFigures:
        """From a row (mapping or pandas Series) of :func:`reuse_scan`, :func:`study_table` or
        :func:`hardware_figures`."""
        return cls(
            float(row["latency_ns"]),
            int(row["latency_cycles"]),
            int(row["dsp"]),
            int(row["lut"]),
            int(row["ff"]),
            int(row["bram"]),
            str(row["source"]),
        )

    def metrics(self, prefix: str = "") -> dict[str, float | int | str]:
        """Flat dict for ``record_metrics``: ``{prefix}latency_ns``, ..., ``{prefix}bram``,
        ``{prefix}hardware_source``."""
        out = {f"{prefix}{k}": v for k, v in self._asdict().items() if k != "source"}
        out[f"{prefix}hardware_source"] = self.source
        return out


def check_study_parameters(
    *,
    reference_precision: str,
    widths: Sequence[int],
    integer_bits: int,
    profiled_widths: Sequence[int] = (),
    weight_integer_bits: int = 1,
    reuse_factors: Sequence[int] = (1,),
    strategy: Strategy = "Latency",
    clock_mhz: float = 200.0,
    run_synthesis: SynthesisMode = "auto",
) -> bool:
    """Validate the notebook's study parameters before any jet is generated; return whether to synthesise.

    Raises
    ------
    ParameterError
        Naming the first bad value and how to fix it.
    """
    parse_precision(reference_precision)
    check_widths(widths, integer_bits)
    if profiled_widths:
        check_widths(profiled_widths, max(integer_bits, weight_integer_bits), what="profiled_widths")
    check_reuse_factors(reuse_factors)
    fpga_estimate([(16, 64)], precision=(max(widths), integer_bits), strategy=strategy, clock_mhz=clock_mhz)
    return resolve_synthesis(run_synthesis)


def precision_scan(
    model,
    X: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    *,
    widths: Sequence[int] = (6, 8, 10, 12, 16),
    integer_bits: int = 6,
    weight_integer_bits: int | None = None,
    reuse_factor: int = 1,
    strategy: Strategy = "Latency",
    progress: bool = True,
    project_root=None,
) -> pd.DataFrame:
    """Accuracy and per-class AUC of the emulated model for each ``ap_fixed<W, integer_bits>``.

    With ``weight_integer_bits`` the weights and biases get ``ap_fixed<W, weight_integer_bits>``
    instead (same width, more fractional bits where the profile allows). ``project_root`` is
    where compiled projects are kept (default: the hepml-nb cache).

    Returns
    -------
    pandas.DataFrame
        One row per width: ``width``, ``precision``, ``accuracy``, ``auc_<class>``, ``mean_auc``,
        ``agreement`` (fraction of jets given the same class as the float model),
        ``seconds`` (convert + compile, ~0 when reused) and ``reused``.
    """
    from tqdm.auto import tqdm

    check_widths(widths, max(integer_bits, weight_integer_bits or 1))
    float_class = np.argmax(predict_proba(model, X), axis=1)
    rows = []
    for width in tqdm(sorted(int(w) for w in widths), desc="precision scan", disable=not progress):
        precision = fixed_precision(width, integer_bits)
        weights = fixed_precision(width, weight_integer_bits) if weight_integer_bits else precision
        build = convert_tagger(
            model,
            precision=precision,
            reuse_factor=reuse_factor,
            strategy=strategy,
            weight_precision=weights,
            project_root=project_root,
        )
        scores = emulate(build.hls_model, X)
        rows.append(
            {
                "width": width,
                "precision": precision,
                "weight_precision": weights,
                **classification_metrics(y, scores, class_names),
                "agreement": float(np.mean(np.argmax(scores, axis=1) == float_class)),
                "seconds": build.seconds,
                "reused": build.reused,
            }
        )
    return pd.DataFrame(rows)


def hardware_figures(
    model,
    *,
    precision: tuple[int, int] = (16, 6),
    reuse_factor: int = 1,
    strategy: Strategy = "Latency",
    clock_mhz: float = 200.0,
    synthesis: bool = False,
) -> dict:
    """Latency (cycles, ns) and DSP/LUT/FF/BRAM for one configuration, with their ``source``.

    With ``synthesis=True`` the design is synthesised by the vendor tool (ParameterError when
    none is on PATH); otherwise the figures are the analytic estimate.
    """
    if synthesis:
        build = convert_tagger(
            model,
            precision=fixed_precision(*precision),
            reuse_factor=reuse_factor,
            strategy=strategy,
            backend=synthesis_backend(),
            clock_period=1e3 / clock_mhz,
        )
        figures = synthesize(build)
        figures.pop("report", None)
        return figures
    est = fpga_estimate(
        dense_layer_sizes(model), precision=precision, reuse_factor=reuse_factor, strategy=strategy, clock_mhz=clock_mhz
    )
    return {**est._asdict(), "source": "estimate", "estimator": est.source}


def reuse_scan(
    model,
    *,
    reuse_factors: Sequence[int] = (1, 2, 4, 8, 16),
    precision: tuple[int, int] = (16, 6),
    strategy: Strategy = "Latency",
    clock_mhz: float = 200.0,
    synthesis: bool = False,
) -> pd.DataFrame:
    """Latency and resources against the reuse factor (one row per factor, ``source`` per row)."""
    reuse_factors = check_reuse_factors(reuse_factors)
    rows = [
        {
            "reuse_factor": int(r),
            **hardware_figures(
                model,
                precision=precision,
                reuse_factor=int(r),
                strategy=strategy,
                clock_mhz=clock_mhz,
                synthesis=synthesis,
            ),
        }
        for r in sorted(reuse_factors)
    ]
    return pd.DataFrame(rows)


def study_table(
    precision_df: pd.DataFrame,
    model,
    *,
    reuse_factors: Sequence[int] = (1,),
    integer_bits: int = 6,
    strategy: Strategy = "Latency",
    clock_mhz: float = 200.0,
    synthesis: bool = False,
) -> pd.DataFrame:
    """The latency study: configuration, emulated accuracy, latency and resources, and their source.

    One row per (precision in ``precision_df``, reuse factor). Accuracy comes from the
    emulation (independent of the reuse factor); latency and resources from
    :func:`hardware_figures`.
    """
    rows = []
    for _, scan in precision_df.iterrows():
        for r in reuse_factors:
            hw = hardware_figures(
                model,
                precision=(int(scan["width"]), integer_bits),
                reuse_factor=int(r),
                strategy=strategy,
                clock_mhz=clock_mhz,
                synthesis=synthesis,
            )
            rows.append(
                {
                    "configuration": f"{scan['precision']}, R={r}, {strategy}",
                    "accuracy": scan["accuracy"],
                    "latency_ns": hw["latency_ns"],
                    "dsp": hw["dsp"],
                    "lut": hw["lut"],
                    "ff": hw["ff"],
                    "bram": hw["bram"],
                    "source": hw["source"],
                }
            )
    return pd.DataFrame(rows)


def cpu_latency(
    model,
    *,
    n_features: int = 16,
    n_repeat: int = 300,
    threads: int = 1,
    backends: Sequence[CpuBackend] = CPU_BACKENDS,
    seed: int = 0,
) -> dict[str, float]:
    """Median batch-1 inference latency in microseconds on this CPU, per backend.

    ``torch`` runs the model under ``torch.inference_mode``; ``onnxruntime`` runs its ONNX
    export (TorchScript exporter) with ``threads`` intra-op threads.
    """
    unknown = sorted(set(backends) - set(CPU_BACKENDS))
    if unknown or n_repeat < 10:
        raise ParameterError(
            f"backends must be among {', '.join(CPU_BACKENDS)} (got unknown {unknown}) "
            f"and n_repeat >= 10 (got {n_repeat})"
        )
    with needs_extra("fpga"):
        import torch

    x = np.random.default_rng(seed).normal(size=(1, n_features)).astype(np.float32)
    runners = {"torch": _torch_runner, "onnxruntime": _onnx_runner}
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return {name: _median_us(runners[name](model, x, threads), n_repeat) for name in backends}
    finally:
        torch.set_num_threads(previous)


def _median_us(call, n_repeat: int) -> float:
    for _ in range(10):  # warm-up
        call()
    times = []
    for _ in range(n_repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def _torch_runner(model, x: np.ndarray, threads: int):  # noqa: ARG001 - cpu_latency sets torch's threads
    with needs_extra("fpga"):
        import torch

    tensor = torch.from_numpy(x)

    def call():
        with torch.inference_mode():
            model(tensor)

    return call


def _onnx_runner(model, x: np.ndarray, threads: int):
    import io

    with needs_extra("fpga"):
        import onnxruntime as ort
        import torch

    buffer = io.BytesIO()
    torch.onnx.export(model, (torch.from_numpy(x),), buffer, input_names=["x"], output_names=["p"], dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    return lambda: session.run(None, {"x": x})
