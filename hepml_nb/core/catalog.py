"""The catalog of topics: notebook, title, summary and run profiles.

A profile is a dict of parameter overrides applied on top of the notebook's own
``parameters`` cell: ``ci`` (tiny, about a minute on 2 CPU cores), ``default``
(the notebook's defaults, a few minutes on a laptop) and ``full`` (paper scale,
for a GPU or a cluster).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.params import Rule, at_least, between, input_file, one_of

__all__ = [
    "Topic",
    "TOPICS",
    "PROFILES",
    "get_topic",
    "notebooks_dir",
    "notebook_path",
    "profile_overrides",
    "topic_rules",
]

PROFILES = ("ci", "default", "full")


@dataclass(frozen=True)
class Topic:
    """One tutorial: its notebook file and its profiles (parameter overrides)."""

    key: str
    notebook: str
    title: str
    summary: str
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    rules: Mapping[str, Rule] = field(default_factory=dict)


def _topic(key: str, notebook: str, title: str, summary: str, *, rules: Mapping[str, Rule], **profiles: dict) -> Topic:
    profiles.setdefault("default", {})
    frozen = {name: MappingProxyType(dict(p)) for name, p in profiles.items()}
    return Topic(key, notebook, title, summary, MappingProxyType(frozen), MappingProxyType(dict(rules)))


_POSITIVE, _COUNT, _POSITIVE_ITEMS = at_least(1), at_least(0), at_least(1, items=True)
_DEVICE = Rule(validator="hepml_nb.core.catalog:check_device_name")


TOPICS: Mapping[str, Topic] = MappingProxyType(
    {
        "setup": _topic(
            "setup",
            "00_setup_check.ipynb",
            "Setup check",
            "checks every dependency a workshop needs and shows OK / FAILED with the fix",
            rules={"n_events": _POSITIVE, "jet_radius": between(0.05, 2.0)},
            ci={"n_events": 5},
            full={"n_events": 200},
        ),
        "particlenet": _topic(
            "particlenet",
            "01_particlenet_jet_tagging.ipynb",
            "ParticleNet jet tagging",
            "Pythia8 jets through a Delphes-like detector, JetClass ntuples, ParticleNet and ParT vs a BDT, ONNX",
            rules={
                "task": one_of("top", "w", "z", "multiclass"),
                "detector": one_of("cms-like", "atlas-like", "none"),
                "feature_set": one_of("kin", "kinpid", "full"),
                "taggers": one_of("particlenet_lite", "particlenet", "part_small", "part", items=True),
                "n_jets_per_class": at_least(10),
                "n_test_qcd": _COUNT,
                "pt_min": at_least(0),
                "pt_max": at_least(1),
                "eta_max": at_least(0),
                "data_path": input_file("hepml_nb.jets.io:resolve_jet_files"),
                "max_particles": _POSITIVE,
                "epochs": _COUNT,
                "batch_size": _POSITIVE,
                "learning_rate": between(1e-8, 10.0),
                "patience": _POSITIVE,
                "baseline_kind": one_of("bdt", "mlp"),
                "device": _DEVICE,
                "n_workers": _COUNT,
            },
            ci={"n_jets_per_class": 300, "n_test_qcd": 200, "epochs": 1},
            full={
                "n_jets_per_class": 100000,
                "taggers": ["particlenet", "part"],
                "use_pretrained": False,
                "epochs": 30,
                "patience": 5,
            },
        ),
        "qml": _topic(
            "qml",
            "02_qml_qsvm_higgs.ipynb",
            "Quantum-kernel SVM for H -> gamma gamma at CEPC",
            "quantum-kernel SVM on exact, shot, noisy-device and (opt-in) IBM backends vs a classical SVM",
            rules={
                "n_signal": at_least(4),
                "n_background": at_least(4),
                "backgrounds": one_of("gammagamma", "zgamma", items=True),
                "n_qubits": between(1, 20),
                "feature_method": one_of("pca", "select"),
                "reps": _POSITIVE,
                "alpha": between(1e-6, 100.0),
                "entanglement": one_of("full", "linear", "reverse_linear", "circular"),
                "train_sizes": at_least(4, items=True),
                "n_test": at_least(2),
                "n_splits": _POSITIVE,
                "shot_list": at_least(1, items=True),
                "shot_n_train": at_least(4),
                "device_n_events": at_least(4),
                "device_shots": _POSITIVE,
                "origin_backend": one_of("origin-sim:noisy", "origin-sim:ideal"),
            },
            ci={
                "n_signal": 120,
                "n_background": 120,
                "backgrounds": ["gammagamma"],
                "train_sizes": [40, 80],
                "n_test": 80,
                "n_splits": 2,
                "shot_list": [256, 1024],
                "shot_n_train": 40,
                "device_n_events": 20,
                "device_shots": 512,
            },
            full={
                "n_signal": 6000,
                "n_background": 6000,
                "train_sizes": [100, 300, 1000, 3000, 6000],
                "n_test": 4000,
                "n_splits": 5,
                "shot_list": [64, 256, 1024, 4096, 16384],
                "shot_n_train": 1000,
                "device_n_events": 100,
            },
        ),
        "calogan": _topic(
            "calogan",
            "03_gan_shower_validation.ipynb",
            "GAN calorimeter-shower validation",
            "GFlash reference showers, a conditional WGAN-GP and a normalizing flow, CaloChallenge-style validation",
            rules={
                "n_eval": at_least(10),
                "e_min": Rule(minimum=1e-3),
                "e_max": Rule(minimum=1e-3),
                "n_train": at_least(10),
                "gan_iterations": _COUNT,
                "flow_epochs": _POSITIVE,
                "classifier_epochs": _POSITIVE,
                "challenge_levels": one_of("low", "high", items=True),
                "n_challenge": at_least(100),
                "n_ds2": at_least(10),
                "speed_batches": at_least(1, items=True),
                "data_path": input_file("hepml_nb.calo.io:check_reference_file", needs=("n_eval",)),
                "device": _DEVICE,
            },
            ci={"n_eval": 3000, "classifier_epochs": 4, "n_challenge": 200, "n_ds2": 200, "speed_batches": [1, 100]},
            full={
                "n_eval": 100000,
                "train_gan": True,
                "n_train": 100000,
                "gan_iterations": 30000,
                "flow_epochs": 60,
                "classifier_epochs": 50,
                "challenge_levels": ["low", "high"],
                "n_challenge": 100000,
                "n_ds2": 20000,
            },
        ),
        "fpga": _topic(
            "fpga",
            "04_fpga_latency_hls4ml.ipynb",
            "FPGA latency study with hls4ml",
            "16-64-32-32-5 jet tagger, hls4ml precision and reuse-factor scans, latency and resources",
            rules={
                "n_per_class": at_least(10),
                "epochs": _COUNT,
                "batch_size": _POSITIVE,
                "learning_rate": between(1e-8, 10.0),
                "reference_precision": Rule(validator="hepml_nb.fpga.hls:parse_precision"),
                "integer_bits": between(1, 64),
                "widths": between(2, 64, items=True),
                "weight_integer_bits": between(1, 64),
                "reuse_factors": _POSITIVE_ITEMS,
                "strategy": one_of("Latency", "Resource"),
                "clock_mhz": Rule(minimum=1e-3),
                "n_emulate": _POSITIVE,
                "run_synthesis": one_of("auto", "always", "never"),
                "cpu_repeats": _POSITIVE,
                "rtl_weight_bits": between(1, 16, items=True),
                "qat_epochs": _COUNT,
                "qat_prune": between(0.0, 0.99),
                "default_weight_bits": between(1, 16),
                "n_rtl_sim": _POSITIVE,
                "rtl_activation": Rule(validator="hepml_nb.fpga.rtl:parse_fixed_type"),
                "rtl_input": Rule(validator="hepml_nb.fpga.rtl:parse_fixed_type"),
            },
            ci={
                "n_per_class": 200,
                "epochs": 15,
                "widths": [8, 12, 16],
                "profiled_widths": [8],
                "reuse_factors": [1, 4],
                "n_emulate": 300,
                "cpu_repeats": 50,
                "rtl_weight_bits": [3, 4],
                "qat_epochs": 3,
                "n_rtl_sim": 300,
                "rtl_synthesis": False,
                "compare_softmax": False,
            },
            full={
                "n_per_class": 20000,
                "epochs": 100,
                "widths": list(range(6, 19)),
                "profiled_widths": list(range(6, 13)),
                "reuse_factors": [1, 2, 4, 8, 16, 32, 64],
                "n_emulate": 30000,
                "cpu_repeats": 2000,
                "rtl_weight_bits": [2, 3, 4, 5, 6, 7, 8],
                "qat_epochs": 60,
                "n_rtl_sim": 20000,
                "synthesize_scan": True,
                "place_route": True,
            },
        ),
    }
)


def get_topic(key: str) -> Topic:
    """Return the topic ``key``; raise a ParameterError listing the topics otherwise."""
    try:
        return TOPICS[key]
    except KeyError:
        raise ParameterError(
            f"unknown topic {key!r}; choose one of: {', '.join(TOPICS)} (`hepml-nb list` shows them)"
        ) from None


def notebooks_dir() -> Path:
    """Folder holding the notebooks.

    ``$HEPML_NB_NOTEBOOKS`` when set; otherwise the copy installed with the package
    (``hepml_nb/_notebooks``, package data built from the repository's ``notebooks/``);
    otherwise ``notebooks/`` of the checkout (editable install or a plain clone).
    """
    env = os.environ.get("HEPML_NB_NOTEBOOKS")
    if env:
        path = Path(env)
    else:
        installed = files("hepml_nb") / "_notebooks"
        path = Path(str(installed)) if installed.is_dir() else Path(__file__).resolve().parents[2] / "notebooks"
    if not path.is_dir():
        raise ParameterError(
            f"notebooks folder {path} not found; reinstall hepml-nb (`pip install .` from a clone ships "
            "the notebooks with the package), or set HEPML_NB_NOTEBOOKS to the folder holding them"
        )
    return path


def notebook_path(key: str) -> Path:
    """Path of the notebook of topic ``key``."""
    return notebooks_dir() / get_topic(key).notebook


def topic_rules(key: str) -> dict[str, Rule]:
    """Allowed values of the parameters of topic ``key`` that are restricted (choices, ranges, input files)."""
    return dict(get_topic(key).rules)


def check_device_name(device: str) -> str:
    """Accept a torch device name: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; ParameterError otherwise."""
    text = str(device)
    if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise ParameterError(f"device {device!r} is not a device name; choose one of: auto, cpu, cuda, cuda:N")


def profile_overrides(key: str, profile: str) -> dict[str, Any]:
    """Parameter overrides of ``profile`` for topic ``key`` (``default`` is empty)."""
    topic = get_topic(key)
    if profile not in PROFILES:
        raise ParameterError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    return dict(topic.profiles.get(profile, {}))
