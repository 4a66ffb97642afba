"""Tagger comparison records (hepml_nb.jets.evaluation)."""

import numpy as np

from hepml_nb.core.metrics import tagging_summary
from hepml_nb.jets.evaluation import TaggerSummary, tagger_summary


def test_tagger_summary_metrics_keep_the_flat_keys(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 400)
    score = np.clip(0.3 * y + rng.uniform(0, 0.7, 400), 0, 1)
    summary = tagger_summary(y, score)
    assert isinstance(summary, TaggerSummary) and summary._asdict() == tagging_summary(y, score)
    flat = summary.metrics(suffix="_particlenet")
    assert flat == {f"{k}_particlenet": v for k, v in tagging_summary(y, score).items()}
    assert set(summary.metrics(prefix="pn_")) == {"pn_auc", "pn_accuracy", "pn_rej30", "pn_rej50"}
