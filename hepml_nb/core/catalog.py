"""The catalog of topics: notebook, title, summary and run profiles.

A profile is a dict of parameter overrides applied on top of the notebook's own
``parameters`` cell: ``ci`` (tiny, about a minute on 2 CPU cores), ``default``
(the notebook's defaults, a few minutes on a laptop) and ``full`` (paper scale,
for a GPU or a cluster).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from hepml_nb.core.errors import ParameterError

__all__ = ["Topic", "TOPICS", "PROFILES", "get_topic", "notebooks_dir", "notebook_path", "profile_overrides"]

PROFILES = ("ci", "default", "full")


@dataclass(frozen=True)
class Topic:
    """One tutorial: its notebook file and its profiles (parameter overrides)."""

    key: str
    notebook: str
    title: str
    summary: str
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _topic(key: str, notebook: str, title: str, summary: str, **profiles: dict) -> Topic:
    profiles.setdefault("default", {})
    frozen = {name: MappingProxyType(dict(p)) for name, p in profiles.items()}
    return Topic(key, notebook, title, summary, MappingProxyType(frozen))


TOPICS: Mapping[str, Topic] = MappingProxyType({
    "setup": _topic(
        "setup", "00_setup_check.ipynb", "Setup check",
        "checks every dependency a workshop needs and shows OK / FAILED with the fix",
        ci={"n_events": 5},
        full={"n_events": 200},
    ),
    "particlenet": _topic(
        "particlenet", "01_particlenet_jet_tagging.ipynb", "ParticleNet jet tagging",
        "Pythia8 top vs QCD jets, ROOT ntuples, ParticleNet vs a high-level-feature baseline, ONNX",
        ci={"n_jets_per_class": 300, "epochs": 1},
        full={"n_jets_per_class": 100000, "model_name": "particlenet", "use_pretrained": False,
              "epochs": 30, "patience": 5},
    ),
    "qml": _topic(
        "qml", "02_qml_qsvm_higgs.ipynb", "Quantum-kernel SVM for H -> gamma gamma at CEPC",
        "quantum-kernel SVM on exact, shot, noisy-device and (opt-in) IBM backends vs a classical SVM",
        ci={"n_signal": 120, "n_background": 120, "backgrounds": ["gammagamma"], "train_sizes": [40, 80],
            "n_test": 80, "n_splits": 2, "shot_list": [256, 1024], "shot_n_train": 40,
            "device_n_events": 20, "device_shots": 512},
        full={"n_signal": 6000, "n_background": 6000, "train_sizes": [100, 300, 1000, 3000, 6000],
              "n_test": 4000, "n_splits": 5, "shot_list": [64, 256, 1024, 4096, 16384], "shot_n_train": 1000,
              "device_n_events": 100},
    ),
    "calogan": _topic(
        "calogan", "03_gan_shower_validation.ipynb", "GAN calorimeter-shower validation",
        "GFlash reference showers, a conditional WGAN-GP and CaloChallenge-style validation",
        ci={"n_eval": 3000, "classifier_epochs": 4, "n_ds2": 200},
        full={"n_eval": 100000, "train_gan": True, "n_train": 100000, "gan_iterations": 30000,
              "classifier_epochs": 50, "n_ds2": 20000},
    ),
    "fpga": _topic(
        "fpga", "04_fpga_latency_hls4ml.ipynb", "FPGA latency study with hls4ml",
        "16-64-32-32-5 jet tagger, hls4ml precision and reuse-factor scans, latency and resources",
        ci={"n_per_class": 200, "epochs": 15, "widths": [8, 12, 16], "profiled_widths": [8],
            "reuse_factors": [1, 4], "n_emulate": 300, "cpu_repeats": 50},
        full={"n_per_class": 20000, "epochs": 100, "widths": list(range(6, 19)), "profiled_widths": list(range(6, 13)),
              "reuse_factors": [1, 2, 4, 8, 16, 32, 64], "n_emulate": 30000, "cpu_repeats": 2000},
    ),
})


def get_topic(key: str) -> Topic:
    """Return the topic ``key``; raise a ParameterError listing the topics otherwise."""
    try:
        return TOPICS[key]
    except KeyError:
        raise ParameterError(
            f"unknown topic {key!r}; choose one of: {', '.join(TOPICS)} "
            "(`hepml-nb list` shows them)"
        ) from None


def notebooks_dir() -> Path:
    """Folder holding the notebooks: ``$HEPML_NB_NOTEBOOKS`` or ``notebooks/`` of the checkout."""
    env = os.environ.get("HEPML_NB_NOTEBOOKS")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "notebooks"
    if not path.is_dir():
        raise ParameterError(
            f"notebooks folder {path} not found; install hepml-nb from a clone of the "
            "repository with `pip install -e .`, or set HEPML_NB_NOTEBOOKS to the folder"
        )
    return path


def notebook_path(key: str) -> Path:
    """Path of the notebook of topic ``key``."""
    return notebooks_dir() / get_topic(key).notebook


def profile_overrides(key: str, profile: str) -> dict[str, Any]:
    """Parameter overrides of ``profile`` for topic ``key`` (``default`` is empty)."""
    topic = get_topic(key)
    if profile not in PROFILES:
        raise ParameterError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    return dict(topic.profiles.get(profile, {}))
