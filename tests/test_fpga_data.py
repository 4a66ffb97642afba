"""Tests of hepml_nb.fpga.data: the split and standardisation of the tagger's features."""

import numpy as np
import pytest

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.fpga import data as fd


def test_prepare_data_standardises_with_training_statistics(feature_blobs, seed):
    X, y = feature_blobs
    data = fd.prepare_data(X, y, class_names="abcde", test_fraction=0.25, seed=seed)
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1, atol=1e-4)
    assert len(data.X_test) == 150 and data.class_names == tuple("abcde")
    restored = np.sort((data.X_test * data.scale + data.mean)[:, 0])
    assert np.all(np.isin(np.round(restored, 3), np.round(X[:, 0], 3)))  # test jets come from X, same transform
    assert np.bincount(data.y_test).min() > 0  # stratified


def test_prepare_data_does_not_modify_input(feature_blobs, seed):
    X, y = feature_blobs
    before = X.copy()
    fd.prepare_data(X, y)
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
        fd.prepare_data(X, y, **kwargs)


def test_load_jet_data_rejects_tiny_sample():
    with pytest.raises(ParameterError, match="n_per_class must be at least 10"):
        fd.load_jet_data(3)


@pytest.mark.slow  # Pythia8 generates the jets
def test_load_jet_data_tiny_from_jets_module():
    data = fd.load_jet_data(12, seed=3, progress=False)
    assert data.X_train.shape[1] == 16 and len(data.class_names) == 5
    assert len(data.X_train) + len(data.X_test) == 60
