import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hepml_nb.core.metrics import auc, bootstrap_auc, rejection_at, roc, tagging_summary


@pytest.fixture
def scores(seed):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], 2000)
    return y, np.concatenate([rng.normal(0, 1, 2000), rng.normal(1.5, 1, 2000)])


def test_auc_matches_sklearn_and_gaussian_expectation(scores):
    y, s = scores
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s))
    # two unit Gaussians 1.5 apart: AUC = Phi(1.5 / sqrt 2) = 0.8556
    assert auc(y, s) == pytest.approx(0.8556, abs=0.015)


def test_rejection_at_hand_computed():
    y = np.array([0, 0, 0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.95])
    # at eps_S = 0.5 (score > 0.9 keeps one of two signal jets), one of four background jets passes
    assert rejection_at(y, s, 0.5) == pytest.approx(4.0)


def test_rejection_at_rejects_bad_efficiency(scores):
    with pytest.raises(ValueError, match="signal efficiency must be in"):
        rejection_at(*scores, 1.5)


def test_roc_requires_two_classes():
    with pytest.raises(ValueError, match="both classes"):
        roc(np.ones(4), np.arange(4))


def test_tagging_summary_keys_and_ordering(scores):
    out = tagging_summary(*scores)
    assert set(out) == {"auc", "accuracy", "rej30", "rej50"}
    assert out["rej30"] > out["rej50"] > 1


def test_bootstrap_auc_spread_shrinks_with_more_events(scores, seed):
    y, s = scores
    _, wide = bootstrap_auc(np.r_[y[:100], y[-100:]], np.r_[s[:100], s[-100:]], n_boot=100, seed=seed)
    _, narrow = bootstrap_auc(y, s, n_boot=100, seed=seed)
    assert 0 < narrow < wide
