"""Ready-made jet datasets: top vs QCD files and the five-class high-level dataset.

``high_level_dataset`` is what the FPGA topic trains its 16-64-32-32-5 tagger on:
balanced classes of gluon, light-quark, W, Z and top jets with the 16
:data:`~hepml_nb.jets.features.HIGH_LEVEL_FEATURES`, in the spirit of the hls4ml LHC
jet dataset (Duarte et al., arXiv:1804.06913; Moreno et al., arXiv:1908.05318).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hepml_nb.core.cache import cached_arrays
from hepml_nb.core.errors import ParameterError
from hepml_nb.jets.features import HIGH_LEVEL_FEATURES, high_level_features
from hepml_nb.jets.generation import GENERATOR_VERSION, generate_jets
from hepml_nb.jets.io import load_jets

__all__ = ["HighLevelDataset", "CLASS_PROCESSES", "high_level_dataset", "top_vs_qcd_files", "extra_background_file"]

#: class name -> process of :func:`generate_jets`
CLASS_PROCESSES = {"g": "g", "q": "q", "w": "w", "z": "z", "t": "top", "top": "top", "qcd": "qcd"}
_GENERATION_KEYS = ("pt_range", "eta_max", "max_particles", "n_workers")


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


def high_level_dataset(
    n_per_class: int, *, classes=("g", "q", "w", "z", "t"), seed: int = 0, progress: bool = True, **generation_kwargs
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
    """Paths of two cached files, QCD then top jets (``load_jets`` then gives label 1 = top)."""
    _check_generation_kwargs(generation_kwargs)
    return [
        generate_jets(n_per_class, process=p, seed=seed, progress=progress, **generation_kwargs) for p in ("qcd", "top")
    ]


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
