"""Tests of hepml_nb.fpga.scans: precision and reuse scans, the study table, CPU latency."""

import numpy as np
import pandas as pd
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.fpga import scans
from hepml_nb.fpga.data import prepare_data
from hepml_nb.fpga.training import train_tagger


@pytest.fixture(scope="module")
def small_tagger():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 5, 500)
    X = (rng.normal(scale=2.0, size=(5, 16))[y] + rng.normal(size=(500, 16))).astype(np.float32)
    data = prepare_data(X, y, class_names=("g", "q", "w", "z", "t"), seed=7)
    return data, train_tagger(data.X_train, data.y_train, epochs=15, batch_size=64, seed=7, progress=False).model


@pytest.mark.slow  # g++: hls4ml compiles one project per width
def test_precision_scan_16_bits_matches_float_and_low_bits_fall_off(small_tagger):
    data, model = small_tagger
    scan = scans.precision_scan(
        model, data.X_test, data.y_test, data.class_names, widths=(16, 8), integer_bits=6, progress=False
    )
    assert list(scan["width"]) == [8, 16]  # sorted
    assert list(scan["precision"]) == ["ap_fixed<8,6>", "ap_fixed<16,6>"]
    float_acc = np.mean(
        np.argmax(model(__import__("torch").from_numpy(data.X_test)).detach().numpy(), 1) == data.y_test
    )
    wide, narrow = scan.iloc[1], scan.iloc[0]
    assert abs(wide["accuracy"] - float_acc) <= 0.01 and wide["agreement"] > 0.98
    assert narrow["accuracy"] < wide["accuracy"] - 0.1  # two fractional bits: most weights round to zero
    assert {"auc_g", "auc_t", "mean_auc", "seconds", "reused"} <= set(scan.columns)


def test_precision_scan_rejects_width_below_integer_bits(small_tagger):
    data, model = small_tagger
    match = r"widths must be a non-empty list of integers in \[6, 64\].*integer_bits=6.*bad: \[4\]"
    with pytest.raises(ParameterError, match=match):
        scans.precision_scan(model, data.X_test, data.y_test, data.class_names, widths=(4, 16), progress=False)


def test_reuse_scan_estimates_labelled_and_monotonic(small_tagger):
    _, model = small_tagger
    scan = scans.reuse_scan(model, reuse_factors=(4, 1, 2))
    assert list(scan["reuse_factor"]) == [1, 2, 4]
    assert set(scan["source"]) == {"estimate"} and scan["estimator"].str.contains("estimate").all()
    assert scan["dsp"].is_monotonic_decreasing and scan["latency_ns"].is_monotonic_increasing


def test_reuse_scan_rejects_zero():
    with pytest.raises(ParameterError, match=r"reuse_factors must be a non-empty list of integers >= 1 .*bad: \[0\]"):
        scans.reuse_scan(None, reuse_factors=(0, 1))


def test_hardware_figures_synthesis_needs_tool(small_tagger, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ParameterError, match="no vendor HLS tool on PATH"):
        scans.hardware_figures(small_tagger[1], synthesis=True)


def test_study_table_rows_and_sources(small_tagger):
    _, model = small_tagger
    prec = pd.DataFrame({"width": [8, 16], "precision": ["ap_fixed<8,6>", "ap_fixed<16,6>"], "accuracy": [0.2, 0.7]})
    table = scans.study_table(prec, model, reuse_factors=(1, 4))
    assert len(table) == 4
    assert list(table.columns) == ["configuration", "accuracy", "latency_ns", "dsp", "lut", "ff", "bram", "source"]
    assert (table["source"] == "estimate").all()
    assert table.loc[table["configuration"] == "ap_fixed<16,6>, R=1, Latency", "latency_ns"].item() == 60.0


def test_cpu_latency_positive_per_backend(small_tagger):
    got = scans.cpu_latency(small_tagger[1], n_repeat=20)
    assert set(got) == {"torch", "onnxruntime"} and all(v > 0 for v in got.values())  # how fast: benchmarks/


def test_cpu_latency_rejects_unknown_backend(small_tagger):
    with pytest.raises(ParameterError, match=r"unknown \['tensorflow'\]"):
        scans.cpu_latency(small_tagger[1], backends=("torch", "tensorflow"))


@pytest.mark.slow  # g++: hls4ml compiles one project per width
def test_precision_scan_profile_guided_weights_beat_uniform(small_tagger):
    data, model = small_tagger
    args = (model, data.X_test, data.y_test, data.class_names)
    uniform = scans.precision_scan(*args, widths=(8,), integer_bits=6, progress=False)
    guided = scans.precision_scan(*args, widths=(8,), integer_bits=6, weight_integer_bits=1, progress=False)
    assert guided["weight_precision"].item() == "ap_fixed<8,1>"
    assert uniform["weight_precision"].item() == "ap_fixed<8,6>"
    assert guided["accuracy"].item() > uniform["accuracy"].item() + 0.1


GOOD = dict(
    reference_precision="ap_fixed<16,6>",
    widths=[8, 16],
    integer_bits=6,
    profiled_widths=[8],
    weight_integer_bits=1,
    reuse_factors=[1, 4],
    strategy="Latency",
    clock_mhz=200.0,
    run_synthesis="never",
)


def test_check_study_parameters_accepts_defaults():
    assert scans.check_study_parameters(**GOOD) is False


@pytest.mark.parametrize(
    "change, match",
    [
        ({"reference_precision": "float"}, "not of the form 'ap_fixed<W,I>'"),
        ({"widths": [4, 16]}, r"widths must be a non-empty list of integers in \[6, 64\].*bad: \[4\]"),
        ({"widths": []}, "widths must be a non-empty list"),
        ({"profiled_widths": [5.5]}, "profiled_widths must be"),
        ({"reuse_factors": [0]}, "reuse_factors must be a non-empty list of integers >= 1"),
        ({"strategy": "Fastest"}, "choose one of: Latency, Resource"),
        ({"clock_mhz": 0.5}, "within 10-1000 MHz"),
        ({"run_synthesis": "sometimes"}, "choose one of: auto, always, never"),
    ],
)
def test_check_study_parameters_rejects_bad_values(change, match):
    with pytest.raises(ParameterError, match=match):
        scans.check_study_parameters(**{**GOOD, **change})


def test_study_table_with_synthesis_uses_report_figures(small_tagger, monkeypatch):
    """The synthesis branch (needs Vitis/Vivado, absent here) with the tool calls replaced by fakes."""
    from hepml_nb.fpga import hls

    calls = []
    report = {
        "CSynthesisReport": {
            "WorstLatency": "11",
            "EstimatedClockPeriod": "5.0",
            "DSP": "1826",
            "LUT": "90000",
            "FF": "20000",
            "BRAM_18K": "0",
        }
    }
    monkeypatch.setattr(scans, "synthesis_backend", lambda: "Vivado")
    monkeypatch.setattr(scans, "convert_tagger", lambda model, **kw: calls.append(kw) or "build")
    monkeypatch.setattr(scans, "synthesize", lambda build: {**hls._summarise_report(report), "report": {}})
    prec = pd.DataFrame({"width": [16], "precision": ["ap_fixed<16,6>"], "accuracy": [0.7]})
    table = scans.study_table(prec, small_tagger[1], reuse_factors=(2,), synthesis=True)
    assert table["source"].tolist() == ["synthesis"] and table["dsp"].item() == 1826
    assert table["latency_ns"].item() == 55.0
    assert calls == [
        {
            "precision": "ap_fixed<16,6>",
            "reuse_factor": 2,
            "strategy": "Latency",
            "backend": "Vivado",
            "clock_period": 5.0,
        }
    ]


def test_hardware_figures_record_metrics_keys(small_tagger):
    _, model = small_tagger
    row = scans.reuse_scan(model, reuse_factors=(1, 2)).iloc[0]
    figures = scans.HardwareFigures.from_row(row)
    assert figures.metrics() == {
        "latency_ns": float(row["latency_ns"]),
        "latency_cycles": int(row["latency_cycles"]),
        "dsp": int(row["dsp"]),
        "lut": int(row["lut"]),
        "ff": int(row["ff"]),
        "bram": int(row["bram"]),
        "hardware_source": "estimate",
    }
    assert set(figures.metrics(prefix="r1_")) == {f"r1_{k}" for k in figures.metrics()}
