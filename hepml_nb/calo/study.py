"""The layer notebook 03 drives: the validation suite, the speed table and the records of the run.

- :func:`validate_showers` computes what the Fast Calorimeter Simulation Challenge reports
  (arXiv:2410.21611): separation power of every high-level feature and of the cell-energy
  spectrum, the classifier test on low-level and high-level inputs, and FPD/KPD
  (:class:`ValidationReport`);
- :func:`validation_study` runs it for every sample against the reference, with the tutorial
  preset and the challenge preset (:class:`ValidationStudy`: its classifier table, its metrics,
  and which of two generators is closer to the reference by the project's comparison rule);
- :func:`showers_per_second` times a shower generator (GFlash or a network); :func:`speed_table`
  gives the time per shower at several batch sizes, the shape of the challenge's timing table;
- :func:`study_metrics`: every number the notebook writes to ``metrics.json``.

The top layer of the topic: nothing in :mod:`hepml_nb.calo` imports it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.calo.classifier import ClassifierResult, shower_classifier_test
from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.features import cell_energy_spectrum, shower_features
from hepml_nb.calo.names import LEVELS, Level
from hepml_nb.calo.validation import (
    Chi2Point,
    PhysicsDistance,
    feature_separation,
    physics_distances,
    separation_power,
)
from hepml_nb.core.errors import ParameterError
from hepml_nb.core.metrics import compare_values

__all__ = [
    "FLOOR",
    "LEVELS",
    "PUBLISHED_AUC",
    "ValidationReport",
    "ValidationStudy",
    "classifier_table",
    "metric_prefix",
    "showers_per_second",
    "speed_table",
    "study_metrics",
    "validate_showers",
    "validation_study",
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
    distances: Mapping[str, PhysicsDistance] = MappingProxyType({})

    def metrics(self, prefix: str = "") -> dict[str, Any]:
        """Flat dict for ``record_metrics``.

        Keys: ``{prefix}auc_low``, ``{prefix}auc_err_low``, ``{prefix}jsd_high`` (clipped at 0),
        ``{prefix}jsd_raw_high`` (unclipped), ``{prefix}preset_low``, ..., ``{prefix}fpd``,
        ``{prefix}fpd_err``, ``{prefix}kpd``, ``{prefix}kpd_err``, ``{prefix}sep_<feature>``.
        """
        out: dict[str, Any] = {}
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


#: the name of the second reference sample in a :func:`validation_study`: the floor of every metric
FLOOR = "floor"


def metric_prefix(name: str, *, headline: str = "GAN") -> str:
    """Prefix of sample ``name``'s keys in ``metrics.json``: none for the ``headline`` generator,
    else its name in lower case with ``_`` for anything that is not a letter or digit (``flow_``)."""
    return "" if name == headline else re.sub(r"\W+", "_", name.lower()).strip("_") + "_"


class ValidationStudy(NamedTuple):
    """Every sample against the reference (:func:`validation_study`), with both classifier presets.

    ``reports`` are the tutorial-preset suites (separation powers, classifier on both levels,
    FPD/KPD) per sample name; ``challenge`` the challenge-preset classifier tests on the first
    ``n_challenge`` showers of each sample (empty when no level was asked for); ``labels`` the row
    label of each sample (``"GAN vs GFlash"``, ``"GFlash vs GFlash (floor)"``); ``headline`` the
    sample whose metrics carry no prefix.
    """

    reports: dict[str, ValidationReport]
    challenge: dict[str, ValidationReport]
    n_challenge: int
    labels: dict[str, str]
    reference_name: str
    headline: str = "GAN"

    def table(self, *, published: bool = True) -> pd.DataFrame:
        """The :func:`classifier_table` of the tutorial rows, then the challenge rows (``..., N vs N``)."""
        size = f"{self.n_challenge:,} vs {self.n_challenge:,}"
        return classifier_table(
            {
                **{self.labels[name]: rep for name, rep in self.reports.items()},
                **{f"{self.labels[name]}, {size}": rep for name, rep in self.challenge.items()},
            },
            published=published,
        )

    def closer(
        self, first: str, second: str, *, level: Level = "high", preset: str = "tutorial", n_sigma: float = 2.0
    ) -> str:
        """Which of two samples the ``level`` classifier of ``preset`` tells apart from the reference less well.

        The lower AUC is closer when the difference exceeds ``n_sigma`` times the two bootstrap
        errors added in quadrature: :func:`hepml_nb.core.metrics.compare_values`, the project's one rule.
        ``preset``: ``"tutorial"`` (:attr:`reports`) or ``"challenge"`` (:attr:`challenge`, on
        :attr:`n_challenge` showers per sample).
        """
        results = {"tutorial": self.reports, "challenge": self.challenge}.get(preset)
        if results is None:
            raise ParameterError(f"preset must be 'tutorial' or 'challenge', got {preset!r}")
        missing = [n for n in (first, second) if level not in results.get(n, ValidationReport({}, {})).classifier]
        if missing:
            raise ParameterError(
                f"no {level}-level {preset}-preset classifier test of {', '.join(map(repr, missing))} in this study; "
                f"run validation_study with that sample{' and challenge_levels' if preset == 'challenge' else ''} "
                f"including {level!r}"
            )
        a, b = results[first].classifier[level], results[second].classifier[level]
        rule = compare_values(a.auc, a.auc_err, b.auc, b.auc_err, n_sigma=n_sigma)
        winner = {
            "higher than": second,
            "lower than": first,
            "compatible with": f"neither (within {n_sigma:g} sigma)",
            "not comparable with": "cannot be said (no bootstrap uncertainty)",
        }[rule]
        diff, err = a.auc - b.auc, float(np.hypot(a.auc_err, b.auc_err))
        return (
            f"closer to {self.reference_name} in the {level}-level classifier test ({preset} preset): {winner} "
            f"(AUC difference {diff:+.3f} +/- {err:.3f})"
        )

    def metrics(self) -> dict[str, Any]:
        """Each report's :meth:`ValidationReport.metrics` under its :func:`metric_prefix` (``challenge_``
        in front for the challenge preset), and ``n_challenge``."""
        out: dict[str, Any] = {}
        for name, rep in self.reports.items():
            out.update(rep.metrics(prefix=metric_prefix(name, headline=self.headline)))
        for name, rep in self.challenge.items():
            out.update(rep.metrics(prefix="challenge_" + metric_prefix(name, headline=self.headline)))
        out["n_challenge"] = self.n_challenge
        return out


def validation_study(
    reference: ShowerSet,
    samples: Mapping[str, ShowerSet],
    *,
    reference_name: str,
    epochs: int | None = None,
    challenge_levels: Sequence[Level] = ("high",),
    n_challenge: int = 2000,
    headline: str = "GAN",
    seed: int = 0,
    device: str = "cpu",
) -> ValidationStudy:
    """:func:`validate_showers` of every sample against ``reference``, with both classifier presets.

    Parameters
    ----------
    reference : ShowerSet
        What every sample is compared to.
    samples
        ``{name: showers}``, in the order of the table: the generators and, under :data:`FLOOR`,
        a second reference sample (its comparison is the floor of every metric).
    reference_name
        What the reference is (``"GFlash"``, ``"file"``), for the row labels.
    epochs
        Epochs of each tutorial-preset classifier test (None: the preset's).
    challenge_levels, n_challenge
        Inputs of the challenge-preset test (none: skip it), run on the first ``n_challenge``
        showers of each sample (fewer when a sample is smaller).
    headline
        The sample whose metrics carry no prefix (:func:`metric_prefix`).
    seed, device
        Seed of every classifier test and distance; where the challenge-preset classifier trains.
        The tutorial preset's small network trains on one CPU thread, the challenge's 3 x 2048 float64
        network on torch's threads (every core: it is most of the notebook's CPU time).
    """
    generators = [name for name in samples if name != FLOOR]
    if headline not in generators:
        raise ParameterError(
            f"headline sample {headline!r} is not one of the generators: {', '.join(generators) or 'none'}; "
            "give headline= one of them"
        )
    reports = {
        name: validate_showers(reference, showers, epochs=epochs, seed=seed) for name, showers in samples.items()
    }
    n_ch = min(n_challenge, len(reference), *(len(s) for s in samples.values()))
    first = slice(0, n_ch)
    challenge = {
        name: validate_showers(
            reference.subset(first),
            showers.subset(first),
            levels=tuple(challenge_levels),
            preset="challenge",
            distances=False,
            seed=seed,
            progress=False,
            device=device,
            threads=None,
        )
        for name, showers in samples.items()
        if challenge_levels
    }
    labels = {
        name: f"{reference_name} vs {reference_name} (floor)" if name == FLOOR else f"{name} vs {reference_name}"
        for name in samples
    }
    return ValidationStudy(reports, challenge, n_ch, labels, reference_name, headline)


def _speed_metrics(speed: pd.DataFrame, *, gflash_row: str, gan_row: str) -> dict[str, Any]:
    """GFlash's rate at the largest batch, the GAN's at the smallest, and the whole table [ms per shower]."""
    batches = sorted(int(c[4:]) for c in speed.columns if c.startswith("ms_b"))
    out: dict[str, Any] = {}
    if gflash_row in speed.index:
        out["gflash_showers_per_s"] = round(1e3 / speed.loc[gflash_row, f"ms_b{batches[-1]}"], 1)
    out["gan_showers_per_s_batch1"] = round(1e3 / speed.loc[gan_row, f"ms_b{batches[0]}"], 1)
    out["speed_table"] = {k: {c: round(float(v), 5) for c, v in row.items()} for k, row in speed.iterrows()}
    return out


def study_metrics(
    reference: ShowerSet,
    *,
    source: str,
    generator: str,
    features: Mapping[str, Mapping[str, np.ndarray]],
    validation: ValidationStudy,
    verdicts: Mapping[str, pd.DataFrame],
    chi2: Sequence[Chi2Point],
    speed: pd.DataFrame,
    ds2_rate: float,
    gflash_row: str = "GFlash (cpu)",
    gan_row: str = "GAN (cpu)",
) -> dict[str, Any]:
    """Every number notebook 03 records, from the records of its sections.

    Parameters
    ----------
    reference : ShowerSet
        The reference sample (its size and geometry are recorded).
    source, generator
        Where the reference comes from (``"GFlash"`` or the file) and where the generators come
        from (``"pretrained"``, ``"trained here on N showers"``).
    features
        :func:`~hepml_nb.calo.features.shower_features` of the reference (key ``"reference"``) and
        of the headline generator (key ``validation.headline``): their mean response is recorded.
    validation
        The :func:`validation_study` (its :meth:`ValidationStudy.metrics`).
    verdicts
        :func:`~hepml_nb.calo.validation.verdict_table` per generator: the number of *poor* features
        (``n_features_poor``, ``n_features_poor_flow``, ...) and, of the headline's, ``n_features``.
    chi2
        The headline generator's :func:`~hepml_nb.calo.validation.chi2_per_energy` of the response.
    speed, gflash_row, gan_row
        The :func:`speed_table`, and its rows of GFlash and of the GAN on the CPU: GFlash's showers
        per second at the largest batch, the GAN's at the smallest.
    ds2_rate
        GFlash's showers per second in the dataset-2 geometry.
    """
    headline = validation.headline
    poor = {  # n_features_poor for the headline, n_features_poor_flow for the flow
        "n_features_poor" + ("_" + metric_prefix(name, headline=headline).rstrip("_")) * (name != headline): int(
            (table["verdict"] == "poor").sum()
        )
        for name, table in verdicts.items()
    }
    return {
        "n_eval": len(reference),
        "data": source,
        "generator": generator,
        "response_mean_reference": round(float(features["reference"]["etot_over_einc"].mean()), 4),
        "response_mean_generated": round(float(features[headline]["etot_over_einc"].mean()), 4),
        "geometry": reference.geometry,
        **_speed_metrics(speed, gflash_row=gflash_row, gan_row=gan_row),
        "gflash_ds2_showers_per_s": round(ds2_rate, 1),
        **poor,
        "n_features": len(verdicts[headline]),
        "chi2_ndf_etot": [round(p.chi2_ndf, 3) for p in chi2],
        **validation.metrics(),
    }
