"""The whole validation suite in one call, and generation-speed measurements.

:func:`validate_showers` computes what the Fast Calorimeter Simulation Challenge
reports (arXiv:2410.21611): separation power of every high-level feature and of the
cell-energy spectrum, and the classifier test on low-level and high-level inputs.
:func:`showers_per_second` times a shower generator (GFlash or the GAN); :func:`speed_table`
gives the time per shower at several batch sizes, the shape of the challenge's timing table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.calo.classifier import ClassifierResult, shower_classifier_test
from hepml_nb.calo.features import cell_energy_spectrum, shower_features
from hepml_nb.calo.gflash import ShowerSet
from hepml_nb.calo.names import LEVELS
from hepml_nb.calo.validation import PhysicsDistance, feature_separation, physics_distances, separation_power
from hepml_nb.core.errors import ParameterError

__all__ = [
    "ValidationReport",
    "validate_showers",
    "showers_per_second",
    "speed_table",
    "classifier_table",
    "LEVELS",
    "PUBLISHED_AUC",
]

#: Classifier AUC (low-level, high-level) on CaloChallenge dataset 1 photons, arXiv:2410.21611.
PUBLISHED_AUC = {
    "Geant4 vs Geant4 (CaloChallenge ds1)": (0.499, 0.499),
    "CaloDiffusion (CaloChallenge ds1)": (0.635, 0.536),
    "CaloFlow (CaloChallenge ds1)": (0.733, 0.636),
    "GAN entries (CaloChallenge ds1)": (0.93, 0.96),
}


class ValidationReport(NamedTuple):
    """Separation power per feature (``cell_log10e`` = cell-energy spectrum), the classifier
    results per input level (``{"low": ClassifierResult, "high": ...}``) and the physics
    distances on the high-level features (``{"fpd": PhysicsDistance, "kpd": ...}``)."""

    separation: dict[str, float]
    classifier: dict[str, ClassifierResult]
    distances: dict[str, PhysicsDistance] = {}

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat dict for ``record_metrics``.

        Keys: ``{prefix}auc_low``, ``{prefix}auc_err_low``, ``{prefix}jsd_high`` (clipped at 0),
        ``{prefix}jsd_raw_high`` (unclipped), ``{prefix}preset_low``, ..., ``{prefix}fpd``,
        ``{prefix}fpd_err``, ``{prefix}kpd``, ``{prefix}kpd_err``, ``{prefix}sep_<feature>``.
        """
        out = {}
        for level, res in self.classifier.items():
            out[f"{prefix}auc_{level}"] = round(res.auc, 4)
            out[f"{prefix}auc_err_{level}"] = round(res.auc_err, 4)
            out[f"{prefix}jsd_{level}"] = round(res.jsd, 4)
            out[f"{prefix}jsd_raw_{level}"] = round(res.jsd_raw, 4)
            out[f"{prefix}jsd_err_{level}"] = round(res.jsd_err, 4)
            out[f"{prefix}preset_{level}"] = res.preset
        for name, dist in self.distances.items():
            out[f"{prefix}{name}"] = float(f"{dist.value:.4g}")
            out[f"{prefix}{name}_err"] = float(f"{dist.error:.3g}")
        out.update({f"{prefix}sep_{k}": round(v, 5) for k, v in self.separation.items()})
        return out


def validate_showers(
    reference: ShowerSet,
    generated: ShowerSet,
    *,
    levels: tuple[str, ...] = LEVELS,
    preset: str = "tutorial",
    epochs: int | None = None,
    threshold_mev: float | None = None,
    distances: bool = True,
    bins: int = 30,
    seed: int = 0,
    progress: bool = True,
    device: str = "cpu",
    threads: int | None = 1,
) -> ValidationReport:
    """Separation powers and classifier tests of ``generated`` against ``reference`` showers.

    Parameters
    ----------
    reference, generated : ShowerSet
        Same geometry; the energy spectra should match (the classifier sees E_inc).
    levels
        Classifier inputs to test: any of ``low`` (cells) and ``high`` (features).
    preset
        ``tutorial`` (fast, 2 x 256 with dropout, standardised inputs with ``E_tot/E_inc``) or
        ``challenge`` (the CaloChallenge's ``evaluate.py`` ``cls-low``/``cls-high``: its inputs
        and voxel threshold, 3 x 2048 in float64, 50 epochs, 60k/20k/20k split of 100k-shower
        dataset-2/3 samples (else 60/20/20), isotonic calibration); see
        :data:`~hepml_nb.calo.classifier.PRESETS` and :mod:`hepml_nb.calo.classifier_inputs`.
    epochs, threshold_mev
        ``None``: the preset's (an override is recorded as ``<preset>+custom``).
    distances
        Also compute FPD and KPD on the high-level features.
    bins, seed
        Histogram bins, seed of the classifier test and of the distances.
    device, threads
        Where the classifier trains; torch CPU threads while it does (1 suits the tutorial
        network on shared cores; ``None`` keeps torch's setting, faster for the challenge's).
    """
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise ParameterError(f"unknown classifier input level(s) {unknown}; choose from: {', '.join(LEVELS)}")
    if reference.geometry != generated.geometry:
        raise ParameterError(f"cannot compare showers of geometry {reference.geometry!r} with {generated.geometry!r}")
    ref_f, gen_f = shower_features(reference), shower_features(generated)
    sep = feature_separation(ref_f, gen_f, bins=bins)
    sep["cell_log10e"] = separation_power(cell_energy_spectrum(reference), cell_energy_spectrum(generated), bins=bins)
    results = {
        lv: shower_classifier_test(
            reference,
            generated,
            level=lv,
            preset=preset,
            epochs=epochs,
            threshold_mev=threshold_mev,
            seed=seed,
            progress=progress,
            device=device,
            threads=threads,
        )
        for lv in levels
    }
    dist = physics_distances(ref_f, gen_f, seed=seed) if distances else {}
    return ValidationReport(sep, results, dist)


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


def speed_table(
    makers: Mapping[str, Callable[[int], object]],
    *,
    batch_sizes=(1, 10, 100, 1000, 10000),
    reference: str | None = None,
    min_showers: int = 100,
) -> pd.DataFrame:
    """Time per shower [ms] of each generator at each batch size, with the speed-up over ``reference``.

    The shape of the CaloChallenge timing table (arXiv:2410.21611, presented at CHEP 2023): a
    row per generator (and device), a column per batch size. ``makers[name](n)`` makes ``n``
    showers in one call; the time of a batch is the best of as many calls as it takes to make
    at least ``min_showers`` showers (at least one), divided by the batch size.

    Returns
    -------
    pandas.DataFrame
        Columns ``ms_b<batch>`` and, with ``reference`` (a key of ``makers``), ``speedup_b<batch>``
        = reference time / generator time at the same batch size.
    """
    batch_sizes = tuple(int(b) for b in batch_sizes)
    if not batch_sizes or min(batch_sizes) < 1:
        raise ParameterError(f"batch sizes must be positive integers, got {batch_sizes}")
    if reference is not None and reference not in makers:
        raise ParameterError(f"reference {reference!r} is not one of the generators: {', '.join(makers)}")
    rows = {}
    for name, make in makers.items():
        rows[name] = {
            f"ms_b{b}": 1e3 / showers_per_second(make, b, repeats=max(1, -(-min_showers // b))) for b in batch_sizes
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    if reference is not None:
        for b in batch_sizes:
            table[f"speedup_b{b}"] = table.loc[reference, f"ms_b{b}"] / table[f"ms_b{b}"]
    return table


def classifier_table(reports: dict[str, ValidationReport], *, published: bool = True) -> pd.DataFrame:
    """AUC and JSD (with their bootstrap errors) per comparison and input level.

    The published CaloChallenge AUCs (dataset 1 photons) are appended only when some row
    used the ``challenge`` preset: only those rows are like-for-like with them. JSD is
    clipped at 0 (its estimator 1 - BCE/ln 2 fluctuates below 0 for indistinguishable
    samples); the unclipped estimate is ``jsd_raw`` in each result.
    (The GAN entries' high-level AUC is quoted as 0.95-0.97; the table shows 0.96.)
    """
    rows = []
    for label, rep in reports.items():
        presets = {res.preset for res in rep.classifier.values()}
        row = {"comparison": label, "preset": ", ".join(sorted(presets))}
        for level in LEVELS:
            res = rep.classifier.get(level)
            row[f"AUC {level}"] = f"{res.auc:.3f} ± {res.auc_err:.3f}" if res else None
            row[f"JSD {level}"] = f"{res.jsd:.3f} ± {res.jsd_err:.3f}" if res else None
        rows.append(row)
    like_for_like = any(res.preset == "challenge" for rep in reports.values() for res in rep.classifier.values())
    if published and like_for_like:
        rows += [
            {"comparison": k, "preset": "challenge (published)", "AUC low": f"{lo:.3f}", "AUC high": f"{hi:.3f}"}
            for k, (lo, hi) in PUBLISHED_AUC.items()
        ]
    return pd.DataFrame(rows, columns=["comparison", "preset", "AUC low", "JSD low", "AUC high", "JSD high"])
