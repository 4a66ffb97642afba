"""Tests of hepml_nb.fpga.models: the MLP, its probabilities and their metrics."""

import numpy as np
import pytest

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.fpga import models as fm


def test_build_tagger_architecture_and_names():
    model = fm.build_tagger(seed=1)
    names = [n for n, _ in model.named_children()]
    assert names == ["fc1", "relu1", "fc2", "relu2", "fc3", "relu3", "fc4", "softmax"]
    assert fm.dense_layer_sizes(model) == [(16, 64), (64, 32), (32, 32), (32, 5)]
    assert sum(a * b for a, b in fm.dense_layer_sizes(model)) == 4256


def test_build_tagger_rejects_bad_sizes():
    with pytest.raises(ParameterError, match="layer sizes must be positive"):
        fm.build_tagger(16, 1)


def test_classification_metrics_perfect_and_shape_error():
    y = np.array([0, 1, 2, 2])
    proba = np.eye(3)[y]
    m = fm.classification_metrics(y, proba, ("a", "b", "c"))
    assert m["accuracy"] == 1.0 and m["auc_a"] == 1.0 and m["mean_auc"] == 1.0
    with pytest.raises(DataError, match=r"scores must be \(N, 3\)"):
        fm.classification_metrics(y, proba[:, :2], ("a", "b", "c"))
