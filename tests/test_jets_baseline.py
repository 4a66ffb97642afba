"""High-level-feature baselines and the comparison table."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets.baseline import baseline_scores, train_baseline
from hepml_nb.jets.study import compare_taggers, reference_table


@pytest.mark.parametrize("kind", ["bdt", "mlp"])
def test_train_baseline_separates_classes(kind, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 600)
    X = rng.normal(0, 1, (600, 16)) + y[:, None] * np.linspace(0, 1.5, 16)
    with threadpool_limits(1):  # tiny data: avoid OpenMP spin-waiting on a shared CPU
        model = train_baseline(X[:400], y[:400], kind=kind, seed=seed, max_iter=100)
    scores = baseline_scores(model, X[400:])
    assert scores.shape == (200, 2)
    table = compare_taggers({kind: (y[400:], scores[:, 1])}, n_boot=20)
    assert table.loc[kind, "auc"] > 0.95 and 0 < table.loc[kind, "auc_err"] < 0.05


def test_train_baseline_rejects_bad_input():
    with pytest.raises(ParameterError, match="unknown baseline 'svm'; choose one of: bdt, mlp"):
        train_baseline(np.zeros((4, 2)), np.array([0, 1, 0, 1]), kind="svm")
    with pytest.raises(ParameterError, match=r"X must be \(N, n_features\)"):
        train_baseline(np.zeros(4), np.array([0, 1, 0, 1]))


def test_reference_table_has_paper_numbers():
    table = reference_table()
    assert table.loc["ParticleNet (paper)", "auc"] == pytest.approx(0.9858)
    assert table.loc["ParticleNet-Lite (paper)", "rej30"] == 1262
