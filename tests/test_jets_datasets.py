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


def _tiny_file(path, label, partons):
    """A JetClass-schema file of len(partons) one-particle jets with the given label and matched partons."""
    import awkward as ak

    from hepml_nb.jets.io import write_jetclass

    n = len(partons)
    part = {k: ak.Array([[v]] * n) for k, v in dict(px=50.0, py=0.0, pz=0.0, energy=50.0, deta=0.0, dphi=0.0).items()}
    jets = {f"jet_{k}": np.full(n, v) for k, v in dict(pt=50.0, eta=0.0, phi=0.0, energy=50.0).items()}
    return write_jetclass(path, {"part": part, **jets, "aux_parton": np.asarray(partons)}, label=label)


def test_task_labels_two_class_and_multiclass(tmp_path):
    from hepml_nb.core.errors import DataError
    from hepml_nb.jets import TASKS, task_labels

    files = [
        _tiny_file(tmp_path / "qcd.root", "label_QCD", [21, 1, 2, 21, 5]),  # a b-quark jet is in no class
        _tiny_file(tmp_path / "w.root", "label_Wqq", [24, 24]),
        _tiny_file(tmp_path / "z.root", "label_Zqq", [23]),
        _tiny_file(tmp_path / "t.root", "label_Tbqq", [6, 6, 6]),
    ]
    data = load_jets(files, max_particles=4)
    w = task_labels(data, "w")
    assert w.label_names == ("qcd", "w") and w.labels.tolist() == [0] * 5 + [1, 1]
    five = task_labels(data, "multiclass")
    assert five.label_names == TASKS["multiclass"] == ("g", "q", "w", "z", "top")
    assert five.labels.tolist() == [0, 1, 1, 0, 2, 2, 3, 4, 4, 4]
    with pytest.raises(ParameterError, match="unknown task 'higgs'; choose one of: top, w, z, multiclass"):
        task_labels(data, "higgs")
    no_z = load_jets(files[:2] + files[3:], max_particles=4)
    with pytest.raises(DataError, match="no z jets"):
        task_labels(no_z, "multiclass")
    with pytest.raises(DataError, match="label_Zqq"):
        task_labels(no_z, "z")
