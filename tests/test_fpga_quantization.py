"""Tests of hepml_nb.fpga.quantization: PTQ and QAT design points and their scan."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError

pytest.importorskip("da4ml", reason="the design points' Verilog needs da4ml (pip install da4ml==0.6.0)")

from hepml_nb.fpga import quantization
from hepml_nb.fpga.data import TaggerData
from hepml_nb.fpga.models import build_tagger


@pytest.fixture
def tiny_data(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, size=500)
    X = (rng.normal(size=(500, 16)) + 2.0 * np.eye(5, 16)[y]).astype(np.float32)
    return TaggerData(X[:400], X[400:], y[:400], y[400:], (), tuple("gqwzt"), np.zeros(16), np.ones(16))


def test_quantization_scan_rows(tiny_data, one_torch_thread):
    model = build_tagger(16, 5, hidden=(8,), seed=0)
    table = quantization.quantization_scan(
        model, tiny_data, weight_bits=[3, 4], qat_epochs=1, prune=0.5, progress=False
    )
    assert list(table["method"]) == ["PTQ", "PTQ", "QAT", "QAT"]
    assert (table["est_lut"] > 0).all() and table["design_key"].nunique() == 4
    assert table.loc[table["method"] == "QAT", "n_nonzero"].max() <= 0.5 * (16 * 8 + 8 * 5) + 1


def test_design_point_rejects_bad_method_and_pruned_ptq(tiny_data):
    model = build_tagger(16, 5, hidden=(8,))
    with pytest.raises(ParameterError, match="choose one of: PTQ, QAT"):
        quantization.design_point(model, tiny_data, method="HGQ", weight_bits=4, activation_type="ap_ufixed<4,2>")
    with pytest.raises(ParameterError, match="use method='QAT'"):
        quantization.design_point(
            model, tiny_data, method="PTQ", weight_bits=4, activation_type="ap_ufixed<4,2>", prune=0.5
        )
