"""Smoke-and-content tests of the FPGA plot helpers."""

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from hepml_nb.fpga import plots
from hepml_nb.fpga.estimate import fpga_estimate

SCAN = pd.DataFrame(
    {
        "width": [8, 12, 16],
        "precision": [f"ap_fixed<{w},6>" for w in (8, 12, 16)],
        "accuracy": [0.2, 0.7, 0.72],
        **{f"auc_{c}": [0.5, 0.85, 0.9] for c in "gqwzt"},
    }
)


def test_plot_precision_scan_draws_on_given_axes():
    fig, ax = plt.subplots()
    assert plots.plot_precision_scan(SCAN, float_accuracy=0.72, ax=ax) is ax
    assert list(ax.lines[0].get_xdata()) == [8, 12, 16]
    plt.close(fig)


def test_plot_auc_scan_one_line_per_class_plus_float():
    ax = plots.plot_auc_scan(SCAN, "gqwzt", float_metrics={f"auc_{c}": 0.9 for c in "gqwzt"})
    assert len(ax.lines) == 10
    plt.close(ax.figure)


def test_plot_reuse_scan_title_names_source():
    rows = [
        {"reuse_factor": r, **fpga_estimate([(16, 64), (64, 5)], reuse_factor=r)._asdict(), "source": "estimate"}
        for r in (1, 2, 4)
    ]
    ax = plots.plot_reuse_scan(pd.DataFrame(rows))
    assert "ESTIMATE" in ax.get_title()
    plt.close(ax.figure)


def test_plot_profile_and_design_figure():
    prof = pd.DataFrame(
        {
            "layer": ["input", "fc1"],
            "kind": ["input", "weight"],
            "max_abs": [13.0, 0.5],
            "p99_abs": [3.0, 0.4],
            "integer_bits": [5, 1],
        }
    )
    ax = plots.plot_profile(prof)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["input input", "fc1 weight"]
    plt.close(ax.figure)
    fig = plots.design_figure(12, 4, scan=SCAN, layers=[(16, 64), (64, 32), (32, 32), (32, 5)])
    assert isinstance(fig, Figure) and "ESTIMATE" in fig.axes[1].get_title()
    assert "ap_fixed<12,6>" in fig.axes[0].get_title()


def test_plot_pareto_marks_methods_and_front():
    table = pd.DataFrame(
        {
            "method": ["PTQ", "PTQ", "QAT", "QAT"],
            "weight_bits": [3, 6, 3, 6],
            "est_lut": [900, 3000, 800, 2500],
            "accuracy": [0.6, 0.74, 0.72, 0.75],
        }
    )
    fig, ax = plt.subplots()
    assert plots.plot_pareto(table, float_accuracy=0.76, ax=ax) is ax
    front = next(line for line in ax.lines if line.get_label() == "Pareto front")
    assert list(front.get_xdata()) == [800, 2500]
    assert "da4ml estimate" in ax.get_xlabel()
    plt.close(fig)
