"""Jet tagging: Pythia8 jets in JetClass-schema ROOT files, features, ParticleNet, baseline, ONNX.

Generation, I/O and features import without torch; the model, training and export
modules (``hepml_nb.jets.models``, ``.training``, ``.export``) load torch on first use.
"""
from __future__ import annotations

import importlib

from hepml_nb.jets.datasets import CLASS_PROCESSES, HighLevelDataset, high_level_dataset, top_vs_qcd_files
from hepml_nb.jets.features import HIGH_LEVEL_FEATURES, high_level_features, padded_particles, particle_kinematics
from hepml_nb.jets.generation import GENERATOR_VERSION, PROCESSES, generate_jets
from hepml_nb.jets.io import JETCLASS_LABELS, JetData, load_jets, select_classes, take, write_jetclass

__all__ = [
    "generate_jets", "load_jets", "write_jetclass", "select_classes", "take", "JetData", "JETCLASS_LABELS", "PROCESSES",
    "GENERATOR_VERSION", "HIGH_LEVEL_FEATURES", "high_level_features", "padded_particles",
    "particle_kinematics", "HighLevelDataset", "high_level_dataset", "top_vs_qcd_files", "CLASS_PROCESSES",
]

_LAZY_MODULES = ("models", "training", "baseline", "evaluation", "export", "plots", "exercises", "pretrained")


def __getattr__(name: str):
    """Load torch-based submodules lazily (``hepml_nb.jets.models`` ...)."""
    if name in _LAZY_MODULES:
        return importlib.import_module(f"hepml_nb.jets.{name}")
    raise AttributeError(f"module 'hepml_nb.jets' has no attribute {name!r}")
