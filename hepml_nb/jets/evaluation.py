"""Comparing taggers: the metrics table (AUC, accuracy, 1/eps_B) next to published numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.metrics import bootstrap_auc, tagging_summary

__all__ = ["REFERENCE_RESULTS", "TaggerSummary", "tagger_summary", "compare_taggers", "reference_table"]

#: top-tagging reference dataset (Kasieczka et al., arXiv:1902.09914; Qu & Gouskos, arXiv:1902.08570):
#: accuracy, AUC, 1/eps_B at eps_S = 50 %, at 30 %
REFERENCE_RESULTS = {
    "ParticleNet (paper)": (0.940, 0.9858, 397, 1615),
    "ParticleNet-Lite (paper)": (0.937, 0.9844, 325, 1262),
    "P-CNN (paper)": (0.930, 0.9803, 201, 759),
    "PFN (paper)": (np.nan, 0.9819, 247, 888),
}


class TaggerSummary(NamedTuple):
    """One tagger on one test set: AUC, accuracy at score 0.5, ``1/eps_B`` at eps_S = 30 % and 50 %."""

    auc: float
    accuracy: float
    rej30: float
    rej50: float

    def metrics(self, prefix: str = "", *, suffix: str = "") -> dict[str, float]:
        """Flat dict for ``record_metrics``: ``{prefix}auc{suffix}``, ``{prefix}accuracy{suffix}``,
        ``{prefix}rej30{suffix}``, ``{prefix}rej50{suffix}``."""
        return {f"{prefix}{name}{suffix}": value for name, value in self._asdict().items()}


def tagger_summary(y_true: np.ndarray, score: np.ndarray) -> TaggerSummary:
    """The :class:`TaggerSummary` of signal scores ``score`` (N,) for labels ``y_true`` (N,) (1 = signal)."""
    return TaggerSummary(**tagging_summary(y_true, score, working_points=(0.3, 0.5)))


def compare_taggers(
    results: Mapping[str, tuple[np.ndarray, np.ndarray]], *, n_boot: int = 100, seed: int = 0
) -> pd.DataFrame:
    """One row per tagger: AUC (with bootstrap uncertainty), accuracy, 1/eps_B at 50 % and 30 %.

    Parameters
    ----------
    results
        ``{name: (y_true, signal_score)}`` on the same or different test sets.
    n_boot
        Bootstrap resamplings for the AUC uncertainty (0 to skip).
    """
    rows = {}
    for name, (y, score) in results.items():
        summary = tagging_summary(y, score)
        err = bootstrap_auc(y, score, n_boot=n_boot, seed=seed)[1] if n_boot else np.nan
        rows[name] = {
            "accuracy": summary["accuracy"],
            "auc": summary["auc"],
            "auc_err": err,
            "rej50": summary["rej50"],
            "rej30": summary["rej30"],
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def reference_table() -> pd.DataFrame:
    """The published top-tagging results as a table with the columns of :func:`compare_taggers`."""
    return pd.DataFrame.from_dict(
        {k: {"accuracy": a, "auc": u, "rej50": r50, "rej30": r30} for k, (a, u, r50, r30) in REFERENCE_RESULTS.items()},
        orient="index",
    )
