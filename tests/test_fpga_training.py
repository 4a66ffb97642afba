"""Tests of hepml_nb.fpga.training: the float tagger's training loop."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.history import TrainResult
from hepml_nb.fpga import training as ft
from hepml_nb.fpga.data import prepare_data
from hepml_nb.fpga.models import classification_metrics, predict_proba


def test_train_tagger_learns_and_is_deterministic(feature_blobs, seed):
    X, y = feature_blobs
    data = prepare_data(X, y, seed=seed)
    a = ft.train_tagger(data.X_train, data.y_train, epochs=20, batch_size=64, seed=seed, progress=False)
    b = ft.train_tagger(data.X_train, data.y_train, epochs=20, batch_size=64, seed=seed, progress=False)
    assert a.history["loss"][-1] < 0.5 * a.history["loss"][0] and a.history.steps() == list(range(1, 21))
    np.testing.assert_allclose(a.history["loss"], b.history["loss"])
    assert isinstance(a, TrainResult) and a.seconds > 0 and a.per_second == pytest.approx(20 * 420 / a.seconds)
    proba = predict_proba(a.model, data.X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    metrics = classification_metrics(data.y_test, proba, data.class_names)
    assert metrics["accuracy"] > 0.8 and metrics["mean_auc"] > 0.9


def test_train_tagger_rejects_zero_epochs(seed):
    with pytest.raises(ParameterError, match="epochs and batch_size must be >= 1"):
        ft.train_tagger(np.zeros((4, 2), np.float32), np.array([0, 1, 0, 1]), epochs=0)
