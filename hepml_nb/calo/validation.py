"""Histogram-based validation of generated showers against reference showers.

Separation power of two unit-normalised histograms (CaloChallenge, arXiv:2410.21611,
eq. 4.1; 0 for identical, 1 for disjoint distributions):

    S = 1/2 * sum_i (h1_i - h2_i)^2 / (h1_i + h2_i)

and the chi2/ndf of a feature's histograms per incident-energy point, as ATLAS
FastCaloGAN quotes it (arXiv:2109.02551). The classifier test is in
:mod:`hepml_nb.calo.classifier`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.errors import DataError, ParameterError

__all__ = [
    "common_bins",
    "separation_power_hist",
    "separation_power",
    "feature_separation",
    "chi2_ndf",
    "chi2_per_energy",
    "Chi2Point",
    "verdict",
    "verdict_table",
    "verdict_summary",
    "VERDICT_THRESHOLDS",
]

#: Separation-power limits for the verdict: below the first "good", below the second "fair", else "poor".
VERDICT_THRESHOLDS = (0.02, 0.1)


def common_bins(
    reference: np.ndarray, *, n_bins: int = 30, quantiles: tuple[float, float] = (0.001, 0.999)
) -> np.ndarray:
    """Bin edges spanning the central ``quantiles`` of the reference sample (n_bins + 1,)."""
    ref = np.asarray(reference, dtype=float)
    ref = ref[np.isfinite(ref)]
    if ref.size == 0:
        raise DataError("reference sample is empty (or all NaN); cannot choose histogram bins")
    lo, hi = np.quantile(ref, quantiles)
    if hi <= lo:  # a constant feature: one bin around it
        lo, hi = lo - 0.5 * max(abs(lo), 1e-6), hi + 0.5 * max(abs(hi), 1e-6)
    return np.linspace(lo, hi, n_bins + 1)


def _histogram(values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Counts with under- and overflow folded into the first and last bins."""
    values = np.asarray(values, dtype=float)
    values = np.clip(values[np.isfinite(values)], bins[0], bins[-1])
    return np.histogram(values, bins=bins)[0].astype(float)


def separation_power_hist(h1: np.ndarray, h2: np.ndarray) -> float:
    """Separation power of two histograms (counts or densities on the same bins); each is unit-normalised first."""
    h1, h2 = np.asarray(h1, dtype=float), np.asarray(h2, dtype=float)
    if h1.shape != h2.shape:
        raise DataError(f"histograms have different binnings: {h1.shape} vs {h2.shape}")
    if h1.sum() <= 0 or h2.sum() <= 0 or (h1 < 0).any() or (h2 < 0).any():
        raise DataError("histograms must be non-negative with a positive sum; got an empty or negative one")
    p, q = h1 / h1.sum(), h2 / h2.sum()
    both = (p + q) > 0
    return float(0.5 * np.sum((p[both] - q[both]) ** 2 / (p[both] + q[both])))


def separation_power(reference: np.ndarray, generated: np.ndarray, *, bins: int | np.ndarray = 30) -> float:
    """Separation power of two samples, histogrammed on common bins (edges from the reference)."""
    edges = common_bins(reference, n_bins=bins) if np.isscalar(bins) else np.asarray(bins, dtype=float)
    return separation_power_hist(_histogram(reference, edges), _histogram(generated, edges))


def feature_separation(
    reference: Mapping[str, np.ndarray], generated: Mapping[str, np.ndarray], *, bins: int = 30
) -> dict[str, float]:
    """Separation power of every feature present in both dicts, ``{name: S}``."""
    missing = set(reference) ^ set(generated)
    if missing:
        raise DataError(
            f"feature sets differ: {sorted(missing)} present on one side only; "
            "compute both with shower_features on the same geometry"
        )
    return {name: separation_power(reference[name], generated[name], bins=bins) for name in reference}


def chi2_ndf(reference: np.ndarray, generated: np.ndarray, *, bins: int | np.ndarray = 30) -> tuple[float, int]:
    """chi2 and ndf of two unit-normalised histograms with Poisson errors on both (ndf = filled bins - 1)."""
    edges = common_bins(reference, n_bins=bins) if np.isscalar(bins) else np.asarray(bins, dtype=float)
    n1, n2 = _histogram(reference, edges), _histogram(generated, edges)
    if n1.sum() == 0 or n2.sum() == 0:
        raise DataError("one of the samples is empty in the histogram range; cannot compute chi2")
    s1, s2 = n1.sum(), n2.sum()
    var = n1 / s1**2 + n2 / s2**2
    filled = var > 0
    chi2 = float(np.sum((n1[filled] / s1 - n2[filled] / s2) ** 2 / var[filled]))
    return chi2, int(filled.sum() - 1)


class Chi2Point(NamedTuple):
    """chi2/ndf of one incident-energy slice [e_low, e_high) GeV with its showers per sample."""

    e_low: float
    e_high: float
    chi2: float
    ndf: int
    n_reference: int
    n_generated: int

    @property
    def chi2_ndf(self) -> float:
        """chi2 / ndf (NaN when ndf is 0)."""
        return self.chi2 / self.ndf if self.ndf > 0 else float("nan")


def chi2_per_energy(
    ref_values: np.ndarray,
    ref_energy: np.ndarray,
    gen_values: np.ndarray,
    gen_energy: np.ndarray,
    *,
    energy_edges: Sequence[float],
    bins: int = 20,
) -> list[Chi2Point]:
    """chi2/ndf of a feature in slices of incident energy (GeV edges), FastCaloGAN style."""
    edges = np.asarray(energy_edges, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ParameterError(
            f"energy_edges must be an increasing list of at least two energies [GeV], got {list(edges)}"
        )
    points = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        r = (ref_energy >= lo) & (ref_energy < hi)
        g = (gen_energy >= lo) & (gen_energy < hi)
        if r.sum() < 10 or g.sum() < 10:
            raise DataError(
                f"energy slice [{lo:g}, {hi:g}) GeV has {r.sum()} reference and {g.sum()} generated "
                "showers; use wider slices or more showers (at least 10 each)"
            )
        chi2, ndf = chi2_ndf(ref_values[r], gen_values[g], bins=bins)
        points.append(Chi2Point(float(lo), float(hi), chi2, ndf, int(r.sum()), int(g.sum())))
    return points


def verdict(separation: float, floor: float = 0.0, *, thresholds: tuple[float, float] = VERDICT_THRESHOLDS) -> str:
    """``good`` / ``fair`` / ``poor`` for a separation power, after subtracting the reference-vs-reference floor."""
    excess = separation - floor
    return "good" if excess < thresholds[0] else "fair" if excess < thresholds[1] else "poor"


def verdict_table(
    separation: Mapping[str, float],
    floor: Mapping[str, float] | None = None,
    *,
    thresholds: tuple[float, float] = VERDICT_THRESHOLDS,
) -> pd.DataFrame:
    """Table of features with separation power (GAN and reference floor) and the verdict, worst first."""
    floor = floor or {}
    rows = [
        {
            "feature": name,
            "separation_power": s,
            "floor": floor.get(name, 0.0),
            "verdict": verdict(s, floor.get(name, 0.0), thresholds=thresholds),
        }
        for name, s in separation.items()
    ]
    table = pd.DataFrame(rows, columns=["feature", "separation_power", "floor", "verdict"])
    return table.sort_values("separation_power", ascending=False, ignore_index=True)


def verdict_summary(table: pd.DataFrame) -> str:
    """One sentence per verdict, listing the features with that verdict (from :func:`verdict_table`)."""
    lines = []
    for word, text in (
        ("good", "reproduced (S - floor < {0})"),
        ("fair", "roughly reproduced ({0} <= S - floor < {1})"),
        ("poor", "NOT reproduced (S - floor >= {1})"),
    ):
        names = table.loc[table["verdict"] == word, "feature"].tolist()
        lines.append(f"{text.format(*VERDICT_THRESHOLDS)}: {', '.join(names) if names else 'none'}")
    return "\n".join(lines)
