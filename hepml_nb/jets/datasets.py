"""Ready-made jet datasets: the files of each tagging task and the five-class high-level dataset.

:data:`TASKS` names the tasks of the jet-tagging notebook: top, W or Z jets against QCD, and
the five-class task (gluon, light quark, W, Z, top) of the FPGA topic; :func:`task_files` generates
their files and :func:`task_labels` gives the jets of a loaded file set the task's labels.

``high_level_dataset`` is what the FPGA topic trains its 16-64-32-32-5 tagger on:
balanced classes of gluon, light-quark, W, Z and top jets with the 16
:data:`~hepml_nb.jets.features.HIGH_LEVEL_FEATURES`, in the spirit of the hls4ml LHC
jet dataset (Duarte et al., arXiv:1804.06913; Moreno et al., arXiv:1908.05318), which is
particle level: its default is ``detector="none"``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np

from hepml_nb.core.cache import cached_arrays
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.jets.features import HIGH_LEVEL_FEATURES, high_level_features
from hepml_nb.jets.generation import GENERATOR_VERSION, generate_jets
from hepml_nb.jets.io import JetData, load_jets, select_classes, take
from hepml_nb.jets.names import TASKS

__all__ = [
    "HighLevelDataset",
    "CLASS_PROCESSES",
    "TASKS",
    "task_files",
    "task_labels",
    "high_level_dataset",
    "top_vs_qcd_files",
    "extra_background_file",
]

#: class name -> process of :func:`generate_jets`
CLASS_PROCESSES = {"g": "g", "q": "q", "w": "w", "z": "z", "t": "top", "top": "top", "qcd": "qcd"}
#: the JetClass label branch of each class (gluon and light-quark jets are both label_QCD)
_CLASS_LABELS = {
    "qcd": "label_QCD",
    "g": "label_QCD",
    "q": "label_QCD",
    "w": "label_Wqq",
    "z": "label_Zqq",
    "top": "label_Tbqq",
}
_GENERATION_KEYS = ("pt_range", "eta_max", "max_particles", "n_workers", "detector", "background")


class HighLevelDataset(NamedTuple):
    """Balanced jet-level dataset: ``X`` (N, 16) float32, ``y`` (N,) int class index."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]


def _check_classes(classes) -> tuple[str, ...]:
    classes = tuple(classes)
    unknown = [c for c in classes if c not in CLASS_PROCESSES]
    if unknown or len(classes) < 2 or len(set(classes)) != len(classes):
        raise ParameterError(
            f"classes must be at least two distinct names from: {', '.join(CLASS_PROCESSES)}; got {classes!r}"
        )
    return classes


def _check_generation_kwargs(kwargs: dict) -> None:
    unknown = sorted(set(kwargs) - set(_GENERATION_KEYS))
    if unknown:
        raise ParameterError(
            f"unknown generation option(s) {', '.join(unknown)}; choose from: {', '.join(_GENERATION_KEYS)}"
        )


def _check_task(task: str) -> tuple[str, ...]:
    if task not in TASKS:
        raise ParameterError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    return TASKS[task]


def task_files(task: str, n_per_class: int, *, seed: int = 0, progress: bool = True, **generation_kwargs) -> list:
    """Paths of the cached files of one tagging task, one file per class in :data:`TASKS` order.

    ``generation_kwargs`` go to :func:`~hepml_nb.jets.generation.generate_jets` (``detector``,
    ``background``, ``pt_range``, ``eta_max``, ``max_particles``, ``n_workers``). Load them with
    :func:`~hepml_nb.jets.io.load_jets`, then :func:`task_labels`.
    """
    classes = _check_task(task)
    _check_generation_kwargs(generation_kwargs)
    return [
        generate_jets(n_per_class, process=CLASS_PROCESSES[c], seed=seed, progress=progress, **generation_kwargs)
        for c in classes
    ]


def task_labels(data: JetData, task: str) -> JetData:
    """The jets of ``data`` that belong to the task's classes, labelled 0 .. n-1 in :data:`TASKS` order.

    Two-class tasks use the JetClass label branches (``label_QCD`` = 0, the signal = 1). The
    five-class task splits QCD jets into gluon and light-quark jets by ``aux_parton`` (the PDG id
    of the matched parton, written by the project's generator): real JetClass files have no such
    split, and give a DataError. ``label_names`` become the task's class names.
    """
    classes = _check_task(task)
    if task != "multiclass":
        out = select_classes(data, tuple(_CLASS_LABELS[c] for c in classes))
        return replace(out, label_names=classes)
    parton = data.jets.get("parton")
    if parton is None:
        raise DataError(
            "the multiclass task needs the matched parton of each QCD jet (branch aux_parton, written by "
            "hepml_nb's generator) to tell gluon from light-quark jets; these files have none: "
            "use task='top', 'w' or 'z', or generate the jets with hepml_nb.jets.task_files('multiclass', ...)"
        )
    names = np.asarray(data.label_names)[data.labels]
    parton = np.abs(np.asarray(parton))
    qcd = names == "label_QCD"
    label = np.full(len(data), -1)
    label[qcd & (parton == 21)] = classes.index("g")
    label[qcd & (parton >= 1) & (parton <= 3)] = classes.index("q")
    for c in ("w", "z", "top"):
        label[names == _CLASS_LABELS[c]] = classes.index(c)
    missing = [c for i, c in enumerate(classes) if not np.any(label == i)]
    if missing:
        raise DataError(f"no {', '.join(missing)} jets in the data for the multiclass task (classes {classes})")
    keep = label >= 0
    return replace(take(data, keep), labels=label[keep], label_names=classes)


def high_level_dataset(
    n_per_class: int,
    *,
    classes=("g", "q", "w", "z", "t"),
    seed: int = 0,
    progress: bool = True,
    detector: str = "none",
    **generation_kwargs,
) -> HighLevelDataset:
    """Generate (or read from the cache) a balanced, shuffled high-level-feature dataset.

    Parameters
    ----------
    n_per_class
        Jets per class.
    classes
        Class names; the class index in ``y`` is the position in this tuple.
        Names: ``g, q, w, z, t`` (also ``top``, ``qcd``).
    seed
        Seed of the generation and of the shuffle.
    progress
        Show progress bars during generation.
    detector
        Detector response of :func:`generate_jets`; ``none`` (particle level) like the hls4ml dataset.
    **generation_kwargs
        ``pt_range``, ``eta_max``, ``max_particles``, ``n_workers`` of :func:`generate_jets`.

    Returns
    -------
    HighLevelDataset
        ``X`` (n_classes * n_per_class, 16) float32, ``y`` int64, feature and class names.
    """
    classes = _check_classes(classes)
    _check_generation_kwargs(generation_kwargs)
    if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
        raise ParameterError(f"n_per_class must be a positive integer, got {n_per_class!r}")
    generation_kwargs["detector"] = detector
    recipe = {k: v for k, v in generation_kwargs.items() if k != "n_workers"}

    def build() -> dict[str, np.ndarray]:
        blocks = []
        for index, name in enumerate(classes):
            path = generate_jets(
                int(n_per_class), process=CLASS_PROCESSES[name], seed=seed, progress=progress, **generation_kwargs
            )
            blocks.append((high_level_features(load_jets(path)), np.full(int(n_per_class), index)))
        X = np.concatenate([b[0] for b in blocks]).astype(np.float32)
        y = np.concatenate([b[1] for b in blocks]).astype(np.int64)
        order = np.random.default_rng(seed).permutation(len(y))
        return {"X": X[order], "y": y[order]}

    params = {"n_per_class": int(n_per_class), "classes": classes, "seed": int(seed), **recipe}
    data = cached_arrays("jets_high_level", params, GENERATOR_VERSION + "/hl-1", build)
    return HighLevelDataset(data["X"], data["y"], HIGH_LEVEL_FEATURES, classes)


def top_vs_qcd_files(n_per_class: int, *, seed: int = 0, progress: bool = True, **generation_kwargs) -> list:
    """Paths of two cached files, QCD then top jets (``load_jets`` then gives label 1 = top): ``task_files("top")``."""
    return task_files("top", n_per_class, seed=seed, progress=progress, **generation_kwargs)


def _independent_seed(seed: int, stream: int) -> int:
    """A generation seed for another sample of the same process, independent of ``seed``'s own jets."""
    return int(np.random.SeedSequence([int(seed), int(stream)]).generate_state(1)[0] % 900_000_000) + 1


def extra_background_file(n_jets: int, *, seed: int = 0, progress: bool = True, **generation_kwargs):
    """Path of a cached file of ``n_jets`` extra QCD jets, independent of :func:`top_vs_qcd_files`'s jets.

    A background rejection ``1/eps_B`` of a few hundred rests on a handful of QCD jets unless the
    test set holds thousands of them; these jets enlarge only the background side of the test set
    (the generation seed is derived from ``seed``, so they never repeat the training jets).
    """
    _check_generation_kwargs(generation_kwargs)
    return generate_jets(n_jets, process="qcd", seed=_independent_seed(seed, 1), progress=progress, **generation_kwargs)
