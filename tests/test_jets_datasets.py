"""The five-class high-level dataset used by the FPGA topic, and the top-vs-QCD files."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets import HIGH_LEVEL_FEATURES, high_level_dataset, load_jets, top_vs_qcd_files


@pytest.mark.slow  # Pythia8 generates the jets
def test_high_level_dataset_balanced_and_cached(seed):
    kwargs = dict(classes=("g", "w", "t"), seed=seed, progress=False, pt_range=(300.0, 400.0), n_workers=1)
    data = high_level_dataset(6, **kwargs)
    assert data.X.shape == (18, 16) and data.X.dtype == np.float32 and np.isfinite(data.X).all()
    assert np.bincount(data.y).tolist() == [6, 6, 6] and data.class_names == ("g", "w", "t")
    assert data.feature_names == HIGH_LEVEL_FEATURES
    mass = data.X[:, HIGH_LEVEL_FEATURES.index("mass")]
    assert np.median(mass[data.y == 2]) > np.median(mass[data.y == 0])  # tops heavier than gluon jets
    again = high_level_dataset(6, **kwargs)
    np.testing.assert_array_equal(again.X, data.X)


@pytest.mark.parametrize("classes", [("g", "higgs"), ("g",), ("g", "g")])
def test_high_level_dataset_rejects_bad_classes(classes):
    with pytest.raises(ParameterError, match="classes must be at least two distinct names from: g, q, w, z, t"):
        high_level_dataset(5, classes=classes)


def test_high_level_dataset_rejects_unknown_options():
    with pytest.raises(ParameterError, match="unknown generation option.*pt_min.*choose from: pt_range"):
        high_level_dataset(5, pt_min=300.0)
    with pytest.raises(ParameterError, match="n_per_class must be a positive integer"):
        high_level_dataset(0)


@pytest.mark.slow  # Pythia8 generates the jets
def test_top_vs_qcd_files_labels(seed):
    data = load_jets(top_vs_qcd_files(5, seed=seed, progress=False, n_workers=1))
    assert data.label_names == ("label_QCD", "label_Tbqq")
    assert data.labels.tolist() == [0] * 5 + [1] * 5
