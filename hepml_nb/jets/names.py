"""The particlenet topic's vocabulary: the fixed sets of names its parameters take, as ``Literal`` types
and the tuples built from them.

Import-light (only ``typing``): the topic's spec module and its library modules import these names from
here, so each set is written once.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "Task",
    "TASKS",
    "Detector",
    "DETECTORS",
    "FeatureSet",
    "FEATURE_SET_NAMES",
    "Tagger",
    "TAGGERS",
    "Baseline",
    "BASELINES",
    "Background",
    "BACKGROUNDS",
]

Task = Literal["top", "w", "z", "multiclass"]
#: tagging task -> its classes, in label order (the signal of a two-class task is label 1)
TASKS: dict[Task, tuple[str, ...]] = {
    "top": ("qcd", "top"),
    "w": ("qcd", "w"),
    "z": ("qcd", "z"),
    "multiclass": ("g", "q", "w", "z", "top"),  # the FPGA topic's five classes
}
Detector = Literal["none", "cms-like", "atlas-like"]
#: detector responses of the jet generator (``none``: particle level)
DETECTORS: tuple[Detector, ...] = get_args(Detector)
FeatureSet = Literal["kin", "kinpid", "full"]
#: JetClass's particle input sets (hepml_nb.jets.features.FEATURE_SETS gives their columns)
FEATURE_SET_NAMES: tuple[FeatureSet, ...] = get_args(FeatureSet)
Tagger = Literal["particlenet_lite", "particlenet", "part_small", "part"]
TAGGERS: tuple[Tagger, ...] = get_args(Tagger)
Baseline = Literal["bdt", "mlp"]
BASELINES: tuple[Baseline, ...] = get_args(Baseline)
Background = Literal["dijet", "znunu"]
#: recipes of the QCD (light-quark and gluon) jets: Pythia8 dijets, or Z(->nu nu)+jet as JetClass's QCD class
BACKGROUNDS: tuple[Background, ...] = get_args(Background)
