"""The whole validation suite in one call, and generation-speed measurements.

:func:`validate_showers` computes what the Fast Calorimeter Simulation Challenge
reports (arXiv:2410.21611): separation power of every high-level feature and of the
cell-energy spectrum, and the classifier test on low-level and high-level inputs.
:func:`showers_per_second` times a shower generator (GFlash or the GAN).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.calo.classifier import ClassifierResult, classifier_test, high_level_inputs, low_level_inputs
from hepml_nb.calo.features import cell_energy_spectrum, shower_features
from hepml_nb.calo.gflash import ShowerSet
from hepml_nb.calo.validation import feature_separation, separation_power
from hepml_nb.core.errors import ParameterError

__all__ = ["ValidationReport", "validate_showers", "showers_per_second", "classifier_table", "LEVELS", "PUBLISHED_AUC"]

#: Classifier AUC (low-level, high-level) on CaloChallenge dataset 1 photons, arXiv:2410.21611.
PUBLISHED_AUC = {
    "Geant4 vs Geant4 (CaloChallenge ds1)": (0.499, 0.499),
    "CaloDiffusion (CaloChallenge ds1)": (0.635, 0.536),
    "CaloFlow (CaloChallenge ds1)": (0.733, 0.636),
    "GAN entries (CaloChallenge ds1)": (0.93, 0.96),
}

LEVELS = ("low", "high")


class ValidationReport(NamedTuple):
    """Separation power per feature (``cell_log10e`` = cell-energy spectrum) and the classifier
    results per input level (``{"low": ClassifierResult, "high": ...}``)."""

    separation: dict[str, float]
    classifier: dict[str, ClassifierResult]

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat dict for ``record_metrics``.

        Keys: ``{prefix}auc_low``, ``{prefix}jsd_high``, ..., ``{prefix}sep_<feature>``.
        """
        out = {}
        for level, res in self.classifier.items():
            out[f"{prefix}auc_{level}"] = round(res.auc, 4)
            out[f"{prefix}jsd_{level}"] = round(res.jsd, 4)
        out.update({f"{prefix}sep_{k}": round(v, 5) for k, v in self.separation.items()})
        return out


def validate_showers(
    reference: ShowerSet,
    generated: ShowerSet,
    *,
    levels: tuple[str, ...] = LEVELS,
    epochs: int = 20,
    bins: int = 30,
    seed: int = 0,
    progress: bool = True,
) -> ValidationReport:
    """Separation powers and classifier tests of ``generated`` against ``reference`` showers.

    Parameters
    ----------
    reference, generated : ShowerSet
        Same geometry; the energy spectra should match (the classifier sees E_inc).
    levels
        Classifier inputs to test: any of ``low`` (cells) and ``high`` (features).
    epochs, bins, seed
        Classifier epochs, histogram bins, seed of the classifier test.
    """
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise ParameterError(f"unknown classifier input level(s) {unknown}; choose from: {', '.join(LEVELS)}")
    if reference.geometry != generated.geometry:
        raise ParameterError(f"cannot compare showers of geometry {reference.geometry!r} with {generated.geometry!r}")
    ref_f, gen_f = shower_features(reference), shower_features(generated)
    sep = feature_separation(ref_f, gen_f, bins=bins)
    sep["cell_log10e"] = separation_power(cell_energy_spectrum(reference), cell_energy_spectrum(generated), bins=bins)
    inputs = {"low": low_level_inputs, "high": high_level_inputs}
    results = {
        lv: classifier_test(inputs[lv](reference), inputs[lv](generated), epochs=epochs, seed=seed, progress=progress)
        for lv in levels
    }
    return ValidationReport(sep, results)


def showers_per_second(make: Callable[[int], object], n: int, *, repeats: int = 3) -> float:
    """Best-of-``repeats`` rate [showers/s] of ``make(n)``, a function generating ``n`` showers."""
    if n < 1 or repeats < 1:
        raise ParameterError(f"need n >= 1 and repeats >= 1, got n={n}, repeats={repeats}")
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        make(n)
        best = min(best, time.perf_counter() - start)
    return float(n / max(best, 1e-12))


def classifier_table(reports: dict[str, ValidationReport], *, published: bool = True) -> pd.DataFrame:
    """AUC and JSD per comparison and input level, with the published CaloChallenge AUCs for scale.

    (The GAN entries' high-level AUC is quoted as 0.95-0.97; the table shows 0.96.)
    """
    rows = []
    for label, rep in reports.items():
        row = {"comparison": label}
        for level in LEVELS:
            res = rep.classifier.get(level)
            row[f"AUC {level}"] = round(res.auc, 3) if res else None
            row[f"JSD {level}"] = round(res.jsd, 3) if res else None
        rows.append(row)
    if published:
        rows += [{"comparison": k, "AUC low": lo, "AUC high": hi} for k, (lo, hi) in PUBLISHED_AUC.items()]
    return pd.DataFrame(rows, columns=["comparison", "AUC low", "JSD low", "AUC high", "JSD high"])
