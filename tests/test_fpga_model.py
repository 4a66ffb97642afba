"""Tests of hepml_nb.fpga.model: data preparation, the MLP, training and metrics."""

import numpy as np
import pytest

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.fpga import model as fm


def _blobs(seed, n=600, n_features=16, n_classes=5):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    centres = rng.normal(scale=3.0, size=(n_classes, n_features))
    return (centres[y] + rng.normal(size=(n, n_features)) * 2 + 10).astype(np.float32), y


def test_prepare_data_standardises_with_training_statistics(seed):
    X, y = _blobs(seed)
    data = fm.prepare_data(X, y, class_names="abcde", test_fraction=0.25, seed=seed)
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1, atol=1e-4)
    assert len(data.X_test) == 150 and data.class_names == tuple("abcde")
    restored = np.sort((data.X_test * data.scale + data.mean)[:, 0])
    assert np.all(np.isin(np.round(restored, 3), np.round(X[:, 0], 3)))  # test jets come from X, same transform
    assert np.bincount(data.y_test).min() > 0  # stratified


def test_prepare_data_does_not_modify_input(seed):
    X, y = _blobs(seed)
    before = X.copy()
    fm.prepare_data(X, y)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(
    "X, y, kwargs, err, match",
    [
        (np.zeros((10, 3)), np.zeros(9), {}, DataError, r"got \(10, 3\) and \(9,\)"),
        (np.full((10, 3), np.nan), np.arange(10) % 2, {}, DataError, "30 non-finite values"),
        (np.zeros((10, 3)), np.zeros(10), {}, DataError, "single class"),
        (np.zeros((10, 3)), np.arange(10) % 2, {"test_fraction": 1.5}, ParameterError, "test_fraction must be in"),
    ],
)
def test_prepare_data_rejects_bad_input(X, y, kwargs, err, match):
    with pytest.raises(err, match=match):
        fm.prepare_data(X, y, **kwargs)


def test_build_tagger_architecture_and_names():
    model = fm.build_tagger(seed=1)
    names = [n for n, _ in model.named_children()]
    assert names == ["fc1", "relu1", "fc2", "relu2", "fc3", "relu3", "fc4", "softmax"]
    assert fm.dense_layer_sizes(model) == [(16, 64), (64, 32), (32, 32), (32, 5)]
    assert sum(a * b for a, b in fm.dense_layer_sizes(model)) == 4256


def test_build_tagger_rejects_bad_sizes():
    with pytest.raises(ParameterError, match="layer sizes must be positive"):
        fm.build_tagger(16, 1)


def test_train_tagger_learns_and_is_deterministic(seed):
    X, y = _blobs(seed)
    data = fm.prepare_data(X, y, seed=seed)
    a = fm.train_tagger(data.X_train, data.y_train, epochs=20, batch_size=64, seed=seed, progress=False)
    b = fm.train_tagger(data.X_train, data.y_train, epochs=20, batch_size=64, seed=seed, progress=False)
    assert a.loss[-1] < 0.5 * a.loss[0]
    np.testing.assert_allclose(a.loss, b.loss)
    proba = fm.predict_proba(a.model, data.X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    metrics = fm.classification_metrics(data.y_test, proba, data.class_names)
    assert metrics["accuracy"] > 0.8 and metrics["mean_auc"] > 0.9


def test_train_tagger_rejects_zero_epochs(seed):
    with pytest.raises(ParameterError, match="epochs and batch_size must be >= 1"):
        fm.train_tagger(np.zeros((4, 2), np.float32), np.array([0, 1, 0, 1]), epochs=0)


def test_classification_metrics_perfect_and_shape_error():
    y = np.array([0, 1, 2, 2])
    proba = np.eye(3)[y]
    m = fm.classification_metrics(y, proba, ("a", "b", "c"))
    assert m["accuracy"] == 1.0 and m["auc_a"] == 1.0 and m["mean_auc"] == 1.0
    with pytest.raises(DataError, match=r"scores must be \(N, 3\)"):
        fm.classification_metrics(y, proba[:, :2], ("a", "b", "c"))


def test_load_jet_data_rejects_tiny_sample():
    with pytest.raises(ParameterError, match="n_per_class must be at least 10"):
        fm.load_jet_data(3)


@pytest.mark.slow  # Pythia8 generates the jets
def test_load_jet_data_tiny_from_jets_module():
    data = fm.load_jet_data(12, seed=3, progress=False)
    assert data.X_train.shape[1] == 16 and len(data.class_names) == 5
    assert len(data.X_train) + len(data.X_test) == 60
