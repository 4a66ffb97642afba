"""The layer notebook 01 drives: the taggers' records (:class:`TaggerSummary`, with ``.metrics()``), their
comparison table (AUC, accuracy, 1/eps_B with uncertainties) next to published numbers and its verdict by the
project's one comparison rule, and the published JetClass model as a referee of simulated jets
(:class:`RefereeResult`, with ``.metrics()``).

Every ``1/eps_B`` comes with its Clopper-Pearson interval on the number of background jets
passing the cut (:func:`hepml_nb.core.metrics.rejection_interval`); when none passes, the
value is a lower limit set by the size of the test set and is shown as ``"> N"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.metrics import (
    bootstrap_auc,
    bootstrap_rejection,
    compare_intervals,
    compare_values,
    format_rejection,
    rejection_interval,
    rejection_summary,
    tagging_summary,
)

__all__ = [
    "REFERENCE_RESULTS",
    "TaggerSummary",
    "tagger_summary",
    "balanced_accuracy",
    "compare_taggers",
    "signal_vs_background",
    "verdict",
    "reference_table",
    "RefereeResult",
    "referee",
    "referee_from_probabilities",
    "referee_markdown",
]

#: top-tagging reference dataset (Kasieczka et al., arXiv:1902.09914; Qu & Gouskos, arXiv:1902.08570):
#: accuracy, AUC, 1/eps_B at eps_S = 50 %, at 30 %
REFERENCE_RESULTS = {
    "ParticleNet (paper)": (0.940, 0.9858, 397, 1615),
    "ParticleNet-Lite (paper)": (0.937, 0.9844, 325, 1262),
    "P-CNN (paper)": (0.930, 0.9803, 201, 759),
    "PFN (paper)": (np.nan, 0.9819, 247, 888),
    "ParT (paper)": (0.940, 0.9858, 413, 1602),  # Qu, Li, Qian, arXiv:2202.03772, Table 4
}


class TaggerSummary(NamedTuple):
    """One tagger on one test set: AUC, class-balanced accuracy at score 0.5, ``1/eps_B`` at eps_S = 30 % and 50 %.

    ``rej30_low`` .. ``rej30_high`` is the 68 % Clopper-Pearson interval from ``rej30_n_pass`` of
    ``rej30_n_background`` background jets passing the cut; ``rej30_lower_limit`` says that none
    passed and ``rej30_low`` is a lower limit (likewise for 50 %). ``rej30_boot_low`` .. ``rej30_boot_high``
    are the 16th-84th bootstrap percentiles (NaN unless :func:`tagger_summary` got ``n_boot``).
    """

    auc: float
    accuracy: float
    rej30: float
    rej50: float
    rej30_low: float = np.nan
    rej30_high: float = np.nan
    rej30_n_pass: int = -1
    rej30_n_background: int = -1
    rej30_lower_limit: bool = False
    rej50_low: float = np.nan
    rej50_high: float = np.nan
    rej50_n_pass: int = -1
    rej50_n_background: int = -1
    rej50_lower_limit: bool = False
    rej30_boot_low: float = np.nan
    rej30_boot_high: float = np.nan
    rej50_boot_low: float = np.nan
    rej50_boot_high: float = np.nan

    def metrics(self, prefix: str = "", *, suffix: str = "") -> dict[str, float]:
        """Flat dict for ``record_metrics``: ``{prefix}auc{suffix}``, ``{prefix}accuracy{suffix}``,
        ``{prefix}rej30{suffix}``, ``{prefix}rej50{suffix}`` and the interval keys
        (``{prefix}rej30_low{suffix}``, ...)."""
        return {f"{prefix}{name}{suffix}": value for name, value in self._asdict().items()}


def tagger_summary(y_true: np.ndarray, score: np.ndarray, *, n_boot: int = 0, seed: int = 0) -> TaggerSummary:
    """The :class:`TaggerSummary` of signal scores ``score`` (N,) for labels ``y_true`` (N,) (1 = signal).

    ``n_boot`` > 0 adds the bootstrap percentiles of 1/eps_B (``n_boot`` resamplings, seeded by ``seed``).
    """
    working_points = (0.3, 0.5)
    summary = tagging_summary(y_true, score, working_points=working_points)
    summary["accuracy"] = balanced_accuracy(y_true, score)
    summary.update(rejection_summary(y_true, score, working_points=working_points))
    for wp in working_points if n_boot else ():
        low, high = bootstrap_rejection(y_true, score, wp, n_boot=n_boot, seed=seed)
        summary[f"rej{round(100 * wp)}_boot_low"], summary[f"rej{round(100 * wp)}_boot_high"] = low, high
    return TaggerSummary(**summary)


def balanced_accuracy(y_true: np.ndarray, score: np.ndarray) -> float:
    """Class-balanced accuracy at score 0.5: the mean of the signal and background efficiencies.

    On a test set with as many signal as background jets it is the plain accuracy; with extra
    background jets (to measure 1/eps_B) it stays comparable.
    """
    y_true, score = np.asarray(y_true).ravel(), np.asarray(score, dtype=float).ravel()
    return float(0.5 * (np.mean(score[y_true == 1] > 0.5) + np.mean(score[y_true != 1] <= 0.5)))


def compare_taggers(
    results: Mapping[str, tuple[np.ndarray, np.ndarray]], *, n_boot: int = 100, seed: int = 0
) -> pd.DataFrame:
    """One row per tagger: AUC (with bootstrap uncertainty), accuracy, 1/eps_B at 50 % and 30 % with uncertainties.

    Parameters
    ----------
    results
        ``{name: (y_true, signal_score)}`` on the same or different test sets.
    n_boot
        Bootstrap resamplings for the AUC and rejection uncertainties (0 to skip).

    Returns
    -------
    pandas.DataFrame
        Columns ``accuracy, auc, auc_err``, then per working point (``rej50``, ``rej30``): the value
        (interpolated ROC, as before), ``_low`` / ``_high`` (68 % Clopper-Pearson on the passing
        background count), ``_boot_low`` / ``_boot_high`` (16th / 84th bootstrap percentiles),
        ``_n_pass`` (background jets passing) and ``_text`` (``"386 (+250 -120)"``, or ``"> 1500"`` when
        no background jet passes and the value is a lower limit set by the test size).
    """
    rows = {}
    for name, (y, score) in results.items():
        summary = tagging_summary(y, score)
        err = bootstrap_auc(y, score, n_boot=n_boot, seed=seed)[1] if n_boot else np.nan
        row = {"accuracy": balanced_accuracy(y, score), "auc": summary["auc"], "auc_err": err}
        for key, wp in (("rej50", 0.5), ("rej30", 0.3)):
            interval = rejection_interval(y, score, wp)
            boot = bootstrap_rejection(y, score, wp, n_boot=n_boot, seed=seed) if n_boot else (np.nan, np.nan)
            row.update(
                {
                    key: summary[key],
                    f"{key}_low": interval.low,
                    f"{key}_high": interval.high,
                    f"{key}_boot_low": boot[0],
                    f"{key}_boot_high": boot[1],
                    f"{key}_n_pass": interval.n_background_pass,
                    f"{key}_text": format_rejection(interval, value=summary[key]),
                }
            )
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def signal_vs_background(
    probabilities: np.ndarray, labels: np.ndarray, *, signal: int, background: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores of one signal class against background classes, from multiclass outputs.

    The JetClass convention (Qu, Li, Qian, arXiv:2202.03772, Sec. 4): keep the jets of the signal
    class and of the background classes, and score each with ``p_s / (p_s + sum_b p_b)``, so that a
    five-class tagger gets the same top-vs-QCD (or W-vs-QCD) ROC as a binary one.

    Parameters
    ----------
    probabilities
        (N, n_classes) class probabilities (softmax outputs).
    labels
        (N,) class index of each jet.
    signal, background
        Class index of the signal and the indices of the background classes (for the five-class
        task: QCD = gluon and light-quark jets).

    Returns
    -------
    (y_true, score)
        ``y_true`` is 1 for signal jets and 0 for background jets; jets of other classes are dropped.
    """
    probabilities, labels = np.asarray(probabilities, dtype=float), np.asarray(labels)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(f"probabilities must be (N, n_classes) with N = len(labels), got {probabilities.shape}")
    background = tuple(int(b) for b in background)
    if signal in background or not all(0 <= c < probabilities.shape[1] for c in (signal, *background)):
        raise ValueError(f"signal {signal} and background {background} must be distinct class indices")
    keep = np.isin(labels, (signal, *background))
    p_s = probabilities[keep, signal]
    p_b = probabilities[keep][:, list(background)].sum(axis=1)
    return (labels[keep] == signal).astype(int), p_s / np.maximum(p_s + p_b, 1e-30)


_VERDICT_WORDS = {
    "higher than": "beats",
    "lower than": "is below",
    "compatible with": "is compatible with",
    "not comparable with": "cannot be compared (no bootstrap uncertainty) with",
}


def verdict(table: pd.DataFrame, *, baseline: str, n_sigma: float = 2.0) -> str:
    """One sentence per tagger of a :func:`compare_taggers` table: does it beat ``baseline``?

    In AUC, a tagger *beats* (or *is below*) the baseline when the difference exceeds ``n_sigma``
    times the two bootstrap uncertainties added in quadrature, and *is compatible with* it
    otherwise. Its 1/eps_B at 50 % is *higher* (or *lower*) than the baseline's when the two 68 %
    Clopper-Pearson intervals do not overlap, and *compatible* otherwise: a better AUC does not
    mean a better rejection at a tight working point.
    """
    if baseline not in table.index:
        raise ValueError(f"baseline {baseline!r} is not a row of the table; rows: {', '.join(table.index)}")
    base = table.loc[baseline]
    base_low, base_high = float(base["rej50_low"]), float(base["rej50_high"])  # high is inf for a lower limit
    lines = []
    for name, row in table.iterrows():
        if name == baseline:
            continue
        diff, err = row["auc"] - base["auc"], float(np.hypot(row["auc_err"], base["auc_err"]))
        word = _VERDICT_WORDS[compare_values(row["auc"], row["auc_err"], base["auc"], base["auc_err"], n_sigma=n_sigma)]
        rejection = compare_intervals(float(row["rej50_low"]), float(row["rej50_high"]), base_low, base_high)
        lines.append(
            f"{name} {word} the {baseline} in AUC: {row['auc']:.4f} vs {base['auc']:.4f} "
            f"(difference {diff:+.4f} +/- {err:.4f}); its 1/eps_B at 50 % is {rejection} the baseline's: "
            f"{row['rej50_text']} vs {base['rej50_text']}"
        )
    return "\n".join(lines)


def reference_table() -> pd.DataFrame:
    """The published top-tagging results as a table with the columns of :func:`compare_taggers`."""
    return pd.DataFrame.from_dict(
        {k: {"accuracy": a, "auc": u, "rej50": r50, "rej30": r30} for k, (a, u, r50, r30) in REFERENCE_RESULTS.items()},
        orient="index",
    )


@dataclass(frozen=True)
class RefereeResult:
    """What a published JetClass model says about each true class of a sample (:func:`referee`).

    Attributes
    ----------
    class_names
        The sample's true classes (``data.label_names``: ``qcd``, ``top`` or ``label_QCD``, ...).
    jetclass_names
        The JetClass class each one is (``top`` -> ``Tbqq``, ``w`` -> ``Wqq``, ``z`` -> ``Zqq``, QCD -> ``QCD``).
    output_names
        The model's 10 outputs, :data:`~hepml_nb.jets.jetclass.JETCLASS_CLASSES`.
    counts
        (n_classes,) jets per true class.
    mean_outputs
        (n_classes, 10) mean softmax output of the jets of each true class.
    argmax_fractions
        (n_classes, 10) fraction of the jets of each true class whose largest output is each class.
    probabilities, labels
        (N, 10) outputs and (N,) true class index of every jet, for ROC curves
        (:func:`~hepml_nb.jets.jetclass.binary_score`).
    """

    class_names: tuple[str, ...]
    jetclass_names: tuple[str, ...]
    output_names: tuple[str, ...]
    counts: np.ndarray
    mean_outputs: np.ndarray
    argmax_fractions: np.ndarray
    probabilities: np.ndarray
    labels: np.ndarray

    @property
    def right_fractions(self) -> np.ndarray:
        """(n_classes,) fraction of each true class that the model puts in its JetClass class."""
        cols = [self.output_names.index(j) for j in self.jetclass_names]
        return self.argmax_fractions[np.arange(len(cols)), cols]

    def metrics(self, prefix: str = "referee_") -> dict[str, float]:
        """Flat dict for ``record_metrics``: per true class ``c`` (without a ``label_`` prefix)
        ``{prefix}{c}_right`` (argmax fraction in its JetClass class), ``{prefix}{c}_n`` and the mean
        outputs ``{prefix}{c}_p_{QCD, Hbb, ...}``."""
        out: dict[str, float] = {}
        for i, name in enumerate(self.class_names):
            key = f"{prefix}{name.removeprefix('label_')}"
            out[f"{key}_right"] = float(self.right_fractions[i])
            out[f"{key}_n"] = int(self.counts[i])
            out.update({f"{key}_p_{o}": float(v) for o, v in zip(self.output_names, self.mean_outputs[i], strict=True)})
        return out

    def table(self, *, what: str = "mean") -> pd.DataFrame:
        """One row per true class: its JetClass class, number of jets, the argmax fraction in that
        class, then the 10 mean outputs (``what="mean"``) or argmax fractions (``what="argmax"``)."""
        if what not in ("mean", "argmax"):
            raise ValueError(f"what must be 'mean' or 'argmax', got {what!r}")
        values = self.mean_outputs if what == "mean" else self.argmax_fractions
        frame = pd.DataFrame(values, index=list(self.class_names), columns=list(self.output_names))
        frame.insert(0, "argmax right", self.right_fractions)
        frame.insert(0, "jets", self.counts)
        frame.insert(0, "JetClass class", list(self.jetclass_names))
        return frame


def referee_from_probabilities(
    probabilities: np.ndarray, labels: np.ndarray, class_names: Sequence[str]
) -> RefereeResult:
    """The :class:`RefereeResult` of already computed JetClass outputs.

    Parameters
    ----------
    probabilities
        (N, 10) softmax outputs of a published JetClass model, in JetClass's class order.
    labels
        (N,) index of each jet's true class in ``class_names``.
    class_names
        The true classes (project names ``qcd, g, q, w, z, top`` or ``label_*`` branches).

    Raises
    ------
    ParameterError
        A class has no JetClass counterpart, the shapes do not fit, or a class has no jet.
    """
    from hepml_nb.core.errors import ParameterError
    from hepml_nb.jets.jetclass import JETCLASS_CLASSES, jetclass_class

    p, labels = np.asarray(probabilities, dtype=float), np.asarray(labels)
    names = tuple(class_names)
    jetclass_names = tuple(jetclass_class(n) for n in names)
    if p.ndim != 2 or p.shape[1] != len(JETCLASS_CLASSES) or len(p) != len(labels):
        raise ParameterError(
            f"probabilities must be (N, {len(JETCLASS_CLASSES)}) with N = len(labels) = {len(labels)}, got {p.shape}"
        )
    counts = np.bincount(labels, minlength=len(names))
    if len(counts) > len(names) or not counts.all():
        raise ParameterError(
            f"every class of {names} needs at least one jet and labels must index them; "
            f"jets per label: {counts.tolist()}"
        )
    top = np.eye(len(JETCLASS_CLASSES))[p.argmax(axis=1)]
    mean = np.stack([p[labels == i].mean(axis=0) for i in range(len(names))])
    argmax = np.stack([top[labels == i].mean(axis=0) for i in range(len(names))])
    return RefereeResult(names, jetclass_names, JETCLASS_CLASSES, counts, mean, argmax, p, labels)


def referee(model, data, *, batch_size: int = 64, device: str = "cpu") -> RefereeResult:
    """The published JetClass model as a referee of simulated jets: per true class, its mean 10-class
    output and the fraction of jets whose largest output is the right JetClass class.

    Jets made like JetClass's get JetClass-like answers (a top jet is called ``Tbqq``, a QCD jet
    ``QCD``); where the simulation differs (the QCD sample's quark/gluon mix, the detector's
    particle flow) the outputs move, class by class.

    Parameters
    ----------
    model
        A :func:`~hepml_nb.jets.jetclass.load_jetclass` model.
    data
        A :class:`~hepml_nb.jets.io.JetData` loaded with ``feature_set=model.feature_set`` and
        ``max_particles=128``; its ``label_names`` are project classes (after
        :func:`~hepml_nb.jets.datasets.task_labels`) or ``label_*`` branches.
    batch_size, device
        Passed to :func:`~hepml_nb.jets.jetclass.jetclass_probabilities`.

    Raises
    ------
    DataError
        The jets have another input set than the model, or are cut to fewer particles than
        JetClass keeps.
    ParameterError
        A class of the sample has no JetClass counterpart.
    """
    from hepml_nb.jets.jetclass import jetclass_probabilities

    probabilities = jetclass_probabilities(model, data, batch_size=batch_size, device=device)
    return referee_from_probabilities(probabilities, data.labels, data.label_names)


def referee_markdown(rows: Sequence[Mapping]) -> str:
    """The referee table (``scripts/referee_table.py``) in markdown, one row per QCD recipe and detector.

    Each row holds the fractions of top jets called ``Tbqq`` and of QCD jets called ``QCD`` by the
    model's largest output (the QCD ones also for gluon- and quark-matched jets apart, and the
    fraction it calls ``Hgg``), the AUC of JetClass's top-vs-QCD discriminant and ``1/eps_B`` at
    eps_S = 50 % with its 68 % Clopper-Pearson interval and the number of QCD jets passing.
    """
    head = (
        "| QCD background | detector | QCD jets | gluon fraction | top: argmax Tbqq | QCD: argmax QCD "
        "(gluon / quark jets) | QCD: argmax Hgg | AUC top vs QCD | 1/eps_B at 50 % (68 % CP) | QCD jets passing |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        limit = ">" if r["rej50_lower_limit"] else ""
        lines.append(
            f"| {r['background']} | {r['detector']} | {r['n_qcd']:,} | {r['qcd_gluon_fraction']:.2f} | "
            f"{r['top_right']:.3f} | {r['qcd_right']:.3f} ({r['qcd_right_gluon']:.3f} / {r['qcd_right_quark']:.3f}) | "
            f"{r['qcd_argmax']['Hgg']:.3f} | {r['auc']:.4f} | {limit}{r['rej50']:,.0f} ({r['rej50_low']:,.0f}-"
            f"{r['rej50_high']:,.0f}) | {r['rej50_n_pass']} of {r['n_qcd']:,} |"
        )
    return "\n".join(lines) + "\n"
