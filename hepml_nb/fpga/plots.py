"""Plots of the FPGA study: accuracy and AUC against bit width, reuse-factor trade-off, profiles, explorer.

Every helper takes ``ax=None``, draws only there and returns the axes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from hepml_nb.core.plotting import axes_or_new
from hepml_nb.fpga.estimate import fpga_estimate
from hepml_nb.fpga.names import Strategy

__all__ = [
    "plot_precision_scan",
    "plot_auc_scan",
    "plot_reuse_scan",
    "plot_profile",
    "design_figure",
    "plot_pareto",
    "plot_waveform",
]


def plot_precision_scan(scans: pd.DataFrame | Mapping[str, pd.DataFrame], *, float_accuracy: float, ax=None):
    """Emulated accuracy against total bit width for one scan or ``{label: scan}``, with the float model +-1 %."""
    ax = axes_or_new(ax, figsize=(6, 4.5))
    if isinstance(scans, pd.DataFrame):
        scans = {"hls4ml emulation (ap_fixed)": scans}
    for label, scan in scans.items():
        ax.plot(scan["width"], scan["accuracy"], "o-", label=label)
    ax.axhline(float_accuracy, color="k", ls="--", label=f"float model ({float_accuracy:.3f})")
    ax.axhspan(float_accuracy - 0.01, float_accuracy + 0.01, color="grey", alpha=0.2, label="float $\\pm$ 1 %")
    ax.set_xlabel("total bit width W of ap_fixed<W,I>")
    ax.set_ylabel("accuracy (5 classes)")
    ax.legend(loc="lower right")
    return ax


def plot_auc_scan(scan: pd.DataFrame, class_names: Sequence[str], *, float_metrics: dict | None = None, ax=None):
    """One-vs-rest AUC per class against bit width; dotted lines are the float model."""
    ax = axes_or_new(ax, figsize=(6, 4.5))
    for name in class_names:
        (line,) = ax.plot(scan["width"], scan[f"auc_{name}"], "o-", label=name)
        if float_metrics is not None:
            ax.axhline(float_metrics[f"auc_{name}"], color=line.get_color(), ls=":")
    ax.set_xlabel("total bit width W of ap_fixed<W,I>")
    ax.set_ylabel("ROC AUC (one class vs the rest)")
    ax.legend(title="class", ncol=2, loc="lower right")
    return ax


def plot_reuse_scan(scan: pd.DataFrame, *, ax=None):
    """DSPs and latency against reuse factor (twin axes), labelled with the figures' source."""
    ax = axes_or_new(ax, figsize=(6, 4.5))
    source = ", ".join(sorted(set(scan["source"])))
    ax.plot(scan["reuse_factor"], scan["dsp"], "o-", color="C0", label="DSP")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("reuse factor R")
    ax.set_ylabel("DSP slices", color="C0")
    twin = ax.twinx()
    twin.plot(scan["reuse_factor"], scan["latency_ns"], "s--", color="C1", label="latency")
    twin.set_ylabel("latency [ns]", color="C1")
    ax.set_title("analytic ESTIMATE (not a synthesis result)" if source == "estimate" else f"source: {source}")
    return ax


def plot_profile(profile: pd.DataFrame, *, ax=None):
    """Largest |value| per layer (weights, biases, outputs) on a log2 axis, with the integer bits it needs."""
    ax = axes_or_new(ax, figsize=(6, 4.5))
    labels = [f"{r.layer} {r.kind}" for r in profile.itertuples()]
    y = np.arange(len(profile))
    ax.barh(y, profile["max_abs"], color="C0", alpha=0.6, label="max |x|")
    ax.plot(profile["p99_abs"], y, "k|", markersize=12, label="99 % of |x|")
    for yi, (value, bits) in enumerate(zip(profile["max_abs"], profile["integer_bits"], strict=True)):
        ax.text(max(value, 1e-3) * 1.1, yi, f"I={bits}", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xscale("log", base=2)
    ax.invert_yaxis()
    ax.set_xlabel("magnitude |x| (integer bits I need 2$^{I-1}$ > max |x|)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    return ax


def design_figure(
    width: int,
    reuse_factor: int,
    *,
    scan: pd.DataFrame,
    layers: Sequence[tuple[int, int]],
    integer_bits: int = 6,
    strategy: Strategy = "Latency",
    clock_mhz: float = 200.0,
    float_accuracy: float | None = None,
):
    """The widget view: accuracy at the nearest scanned width, and the estimated latency and resources.

    Returns a new figure (two panels); the right panel is always labelled as an estimate.
    """
    row = scan.iloc[int(np.argmin(np.abs(scan["width"].to_numpy() - width)))]
    est = fpga_estimate(
        layers,
        precision=(int(width), min(integer_bits, int(width))),
        reuse_factor=int(reuse_factor),
        strategy=strategy,
        clock_mhz=clock_mhz,
    )
    fig = Figure(figsize=(10, 3.8))  # not registered with pyplot: shown once, by whoever displays it
    left, right = fig.subplots(1, 2)
    plot_precision_scan(scan, float_accuracy=float_accuracy or float(scan["accuracy"].max()), ax=left)
    left.plot([row["width"]], [row["accuracy"]], "r*", markersize=16)
    left.set_title(f"{row['precision']}: accuracy {row['accuracy']:.3f}")
    names, values = (
        ["DSP", "LUT / 100", "FF / 100", "BRAM18", "latency [ns]"],
        [est.dsp, est.lut / 100, est.ff / 100, est.bram, est.latency_ns],
    )
    right.barh(names, values, color=["C0", "C1", "C2", "C3", "C4"])
    for yi, value in enumerate(values):
        right.text(value, yi, f" {value:,.0f}", va="center")
    right.set_title(f"ESTIMATE: W={width}, R={reuse_factor}, {strategy}, {clock_mhz:.0f} MHz")
    right.set_xscale("symlog")
    fig.tight_layout()
    return fig


def plot_pareto(table: pd.DataFrame, *, cost: str = "est_lut", float_accuracy: float | None = None, ax=None):
    """Accuracy against a resource column, one marker style per ``method``, with the Pareto front.

    ``cost`` names the column: ``est_lut`` (da4ml estimate) or ``synth_lut`` (Yosys);
    the axis label says which.
    """
    from hepml_nb.fpga.qat import pareto_front

    ax = axes_or_new(ax, figsize=(6, 4.5))
    for (method, rows), marker in zip(table.groupby("method", sort=True), "osD^v", strict=False):
        ax.plot(rows[cost], rows["accuracy"], marker, ls="none", label=method)
        for _, row in rows.iterrows():
            ax.annotate(
                f"{int(row['weight_bits'])} b",
                (row[cost], row["accuracy"]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
            )
    front = pareto_front(table, cost=cost)
    ax.step(front[cost], front["accuracy"], where="post", color="k", lw=1, label="Pareto front")
    if float_accuracy is not None:
        ax.axhline(float_accuracy, color="grey", ls="--", label=f"float model ({float_accuracy:.3f})")
    what = {"est_lut": "LUTs (da4ml estimate)", "synth_lut": "LUTs (Yosys synthesis, UltraScale+)"}
    ax.set_xscale("log")
    ax.set_xlabel(what.get(cost, cost))
    ax.set_ylabel("accuracy (5 classes)")
    ax.legend(loc="lower right")
    return ax


def plot_waveform(wave, *, ax=None):
    """Timing diagram of one jet through the pipeline (a :class:`~hepml_nb.fpga.rtlsim.Waveform`).

    One row per register, in pipeline order, and the clock on top; each box is the
    register's content between two rising edges (hex, last digits), grey while it holds
    ``x``. The boxes holding the jet are coloured: the jet moves one stage per edge.
    """
    ax = axes_or_new(ax, figsize=(8, 0.5 * (len(wave.signals) + 2)))
    names = list(wave.signals)
    n = wave.n_cycles
    period = wave.clock_period_ns
    top = len(names)
    ax.step(np.arange(2 * n + 1) * period / 2, top + 0.15 + 0.6 * np.resize([1, 0], 2 * n + 1), where="post", color="k")
    for row, name in enumerate(names):
        y = top - 1 - row
        holds_jet = 0 if name == "model_inp" else (wave.latency_cycles if name == "model_out" else int(name[5:-4]))
        for k, value in enumerate(wave.signals[name]):
            colour = "0.85" if value is None else ("C1" if k == holds_jet else "C0")
            ax.add_patch(
                Rectangle((k * period, y + 0.1), period, 0.7, facecolor=colour, alpha=0.5, edgecolor="k", lw=0.6)
            )
            label = "x" if value is None else f"{value:x}"[-4:]
            ax.text((k + 0.5) * period, y + 0.45, label, ha="center", va="center", fontsize=7, family="monospace")
    ax.set_yticks([top - 1 - r + 0.45 for r in range(top)] + [top + 0.45])
    ax.set_yticklabels([f"{name} [{wave.widths[name]}]" for name in names] + ["clk"])
    ax.set_xlim(0, n * period)
    ax.set_ylim(-0.1, top + 1)
    ax.set_xlabel("time after the first rising edge [ns]")
    scores = ", ".join(f"{s:g}" for s in wave.scores)
    ax.set_title(f"one jet: output after {wave.latency_cycles} edges = {wave.latency_cycles * period:g} ns ({scores})")
    return ax
