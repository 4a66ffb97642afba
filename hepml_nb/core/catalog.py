"""The catalog of topics: notebook, title, summary and run profiles.

A profile is a dict of parameter overrides applied on top of the notebook's own
``parameters`` cell: ``ci`` (tiny, about a minute on 2 CPU cores), ``default``
(the notebook's defaults, a few minutes on a laptop) and ``full`` (paper scale,
for a GPU or a cluster).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.rules import Cost, Rule, at_least, between, input_file, matching, one_of, size, window

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


_POSITIVE, _POSITIVE_ITEMS = at_least(1), Rule(minimum=1, items=True, min_items=1)
_DEVICE = Rule(validator="hepml_nb.core.catalog:check_device_name")

# What a size costs, for the message when a value is above its maximum. The figures are "about": measured
# runs of the tutorials (tutorials/*/README.md, INSTRUCTOR_NOTES.md) on the project's 2-core machine, or the
# arrays the code allocates. The maxima leave every profile (ci, default, full) at least 5x below them.
# (These move into each topic's spec module with the rest of its rules.)

#: Pythia8 pp events with anti-kT clustering (DESIGN.md: about 4 ms per event)
_PP_EVENT = Cost("event", seconds=4e-3, basis="Pythia8 pp events with anti-kT clustering, about 4 ms each")
#: particlenet default run, cold cache: 22,000 jets, 4.96 GB peak, 272 s of generation on 2 cores
_JET = Cost("jet", bytes=2.3e5, seconds=0.025, basis="the default run: 4.96 GB peak, 272 s on 2 cores for 22,000 jets")
#: ParT's attention matrices: 8 heads x 128 jets of a batch, float32, per pair of particle slots and block
_PARTICLE_SLOT = Cost(
    "particle slot", bytes=8 * 128 * 4, power=2, basis="ParT attention, 8 heads x 128 jets per batch, float32"
)
#: both default taggers, one epoch over the default 7,000 training jets: 787 and 292 jets/s on 2 cores
_JET_EPOCH = Cost("epoch", seconds=66, basis="the default taggers, 7,000 jets at 787 and 292 jets/s on 2 cores")
#: one EdgeConv layer of ParticleNet: 100 particles x 16 neighbours x 256 channels, float32
_JET_IN_BATCH = Cost("jet", bytes=100 * 16 * 256 * 4, basis="one ParticleNet EdgeConv layer, 100 x 16 x 256 float32")
#: one generation worker: a Python process with Pythia8 loaded (95 MB measured)
_WORKER = Cost("worker", bytes=1e8, basis="a Python process with Pythia8 loaded")
#: qml full profile: 712 s of generation for 12,000 selected events on 2 cores (a busy machine)
_EE_EVENT = Cost("event", seconds=0.12, basis="the full profile generated 12,000 events in 712 s on 2 cores")
#: the float64 training kernel matrix
_TRAIN_EVENT = Cost("training event", bytes=8, power=2, basis="the float64 kernel matrix")
#: a float64 row of the test kernel against 6,000 training events (the full profile's largest training size)
_TEST_EVENT = Cost("test event", bytes=8 * 6000, basis="a float64 test-kernel row against 6,000 training events")
#: the default AUC-vs-size study: about 1 minute for 3 splits on 2 cores
_SPLIT = Cost("split", seconds=40, basis="the default study, about 1 min for 3 splits on 2 cores")
#: device study: 3n^2/8 circuits on each noisy simulator, 46 (fake_lagos) and 107 (origin-sim) circuits/s
_DEVICE_EVENT = Cost(
    "device event", seconds=0.375 * (1 / 46 + 1 / 107), power=2, basis="3/8 n^2 circuits at 46 and 107 circuits/s"
)
#: IBM Quantum devices and Origin Quantum's simulator (hepml_nb.qml.origin) run at most 100,000 shots per circuit
_SHOTS_WHY = "IBM Quantum devices and Origin Quantum's simulator take at most 100,000 shots per circuit"
#: calogan: ci 0.95 GB peak at n_eval 3,000, default 2.0 GB at 20,000: about 62 kB per evaluated shower
_EVAL_SHOWER = Cost("shower", bytes=6.2e4, basis="ci and default runs: 0.95 GB at 3,000 and 2.0 GB at 20,000")
#: a training shower of the CaloGAN geometry: 504 float32 cells and the float32 copy torch trains on
_TRAIN_SHOWER = Cost("shower", bytes=2 * 504 * 4, basis="504 float32 cells and their training copy")
#: the WGAN-GP in the CaloGAN geometry: 16,000 iterations in 21 min on one core
_GAN_ITERATION = Cost("iteration", seconds=0.079, basis="16,000 iterations took 21 min on one core")
#: the shipped flow: 40 epochs of 40,000 showers in 8 min on 2 cores
_FLOW_EPOCH = Cost("epoch", seconds=24, basis="40 epochs of 40,000 showers took 8 min on 2 cores")
#: the challenge-preset classifier on 100,000 vs 100,000 showers: 26 s per epoch on 2 cores
_CLASSIFIER_EPOCH = Cost("epoch", seconds=52, basis="26 s per epoch on 2 cores at 100,000 vs 100,000 showers")
#: two samples of 504 float32 cells in the challenge-preset test (the classifier's copies come on top)
_CHALLENGE_SHOWER = Cost("shower", bytes=2 * 504 * 4, basis="two samples of 504 float32 cells")
#: a dataset-2 shower: 6,480 float32 voxels; GFlash makes about 5,200 per second on 2 cores
_DS2_SHOWER = Cost("shower", bytes=6480 * 4, seconds=2 / 5200, basis="6,480 float32 voxels; GFlash 5,200/s on 2 cores")
#: fpga: the jets come from the particlenet generator (about 25 ms of CPU per jet)
_FPGA_JET = Cost("jet", seconds=0.025, basis="Pythia8 generation and clustering, as the particlenet topic")
#: activations and gradients of the 16-64-32-32-5 MLP, float32
_MLP_JET = Cost("jet", bytes=3 * (16 + 64 + 32 + 32 + 5) * 4, basis="activations and gradients of 16-64-32-32-5")
#: hls4ml's C++ emulation: 6,364 jets/s per compiled design (benchmarks/bench_fpga_hls4ml.py), 13 designs by default
_EMULATED_JET = Cost("jet", seconds=13 / 6364, basis="13 compiled designs at 6,364 jets/s each")
#: batch-1 inferences of the CPU backends, measured: torch 36 us, ONNX Runtime 7 us
_CPU_REPEAT = Cost("repeat", seconds=4.4e-5, basis="one batch-1 inference each of torch and ONNX Runtime")
#: one epoch of the 16-64-32-32-5 MLP on 7,000 jets, one thread: 1.2 s measured
_MLP_EPOCH = Cost("epoch", seconds=1.2, basis="7,000 jets through the 16-64-32-32-5 MLP on one thread")
#: Icarus Verilog simulation of the default design: 142 jets/s measured (benchmarks/bench_fpga_rtl.py)
_RTL_JET = Cost("jet", seconds=1 / 142, basis="Icarus Verilog, 142 jets/s (benchmarks/bench_fpga_rtl.py)")

#: hls4ml's precision strings (FPGABackend.convert_precision_string): ap_fixed<W,I> and ap_ufixed<W,I>, optionally
#: with a rounding mode, a saturation mode and saturation bits; ap_int<W>, ap_uint<W>. Digits are ASCII, the
#: only blank is a space (a newline or tab is refused).
_ROUNDING = "AP_TRN|AP_TRN_ZERO|AP_RND|AP_RND_ZERO|AP_RND_INF|AP_RND_MIN_INF|AP_RND_CONV"
_SATURATION = "AP_WRAP|AP_SAT|AP_SAT_ZERO|AP_SAT_SYM"
_SEP = " *, *"
_HLS4ML_TYPE = (
    rf"(?:ap_u?fixed< *[0-9]+{_SEP}-?[0-9]+(?:{_SEP}(?:{_ROUNDING})(?:{_SEP}(?:{_SATURATION})(?:{_SEP}[0-9]+)?)?)? *>"
    r"|ap_u?int< *[0-9]+ *>)"
)
_HLS4ML_FORM = (
    "an hls4ml type such as ap_fixed<16,6> (ap_fixed<W,I> or ap_ufixed<W,I>, optionally with a rounding mode "
    "AP_TRN..., a saturation mode AP_WRAP, AP_SAT... and saturation bits)"
)


def _hls4ml_type(validator: str) -> Rule:
    return matching(_HLS4ML_TYPE, _HLS4ML_FORM, validator=validator)


TOPICS: Mapping[str, Topic] = MappingProxyType(
    {
        "setup": _topic(
            "setup",
            "00_setup_check.ipynb",
            "Setup check",
            "checks every dependency a workshop needs and shows OK / FAILED with the fix",
            rules={"n_events": size(1, 100_000, _PP_EVENT), "jet_radius": between(0.05, 2.0)},
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
                "taggers": one_of("particlenet_lite", "particlenet", "part_small", "part", items=True, min_items=1),
                "n_jets_per_class": size(10, 1_000_000, _JET),
                "n_test_qcd": size(0, 1_000_000, _JET),
                "pt_min": at_least(0),
                "pt_max": at_least(1),
                "eta_max": at_least(0),
                "data_path": input_file("hepml_nb.jets.io:resolve_jet_files"),
                "max_particles": size(1, 512, _PARTICLE_SLOT),
                "epochs": size(0, 1000, _JET_EPOCH),
                "batch_size": size(1, 8192, _JET_IN_BATCH),
                "learning_rate": between(1e-8, 10.0),
                "patience": _POSITIVE,
                "baseline_kind": one_of("bdt", "mlp"),
                "device": _DEVICE,
                "n_workers": size(0, 1024, _WORKER),
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
                "n_signal": size(4, 1_000_000, _EE_EVENT),
                "n_background": size(4, 1_000_000, _EE_EVENT),
                "backgrounds": one_of("gammagamma", "zgamma", items=True, min_items=1),
                "mass_window": window(0.0, 240.0),  # GeV, inside sqrt(s) = 240 GeV (qml.events' default)
                "resolution": window(0.0, 5.0, increasing=False),  # stochastic and constant terms
                "feature_range": window(-2 * math.pi, 2 * math.pi),  # radians
                "n_qubits": between(1, 20),
                "feature_method": one_of("pca", "select"),
                "reps": _POSITIVE,
                "alpha": between(1e-6, 100.0),
                "entanglement": one_of("full", "linear", "reverse_linear", "circular"),
                "train_sizes": size(4, 100_000, _TRAIN_EVENT, items=True, min_items=1),
                "n_test": size(2, 1_000_000, _TEST_EVENT),
                "n_splits": size(1, 1000, _SPLIT),
                "shot_list": size(1, 100_000, why=_SHOTS_WHY, items=True, min_items=1),
                "shot_n_train": size(4, 100_000, _TRAIN_EVENT),
                "device_n_events": size(4, 2000, _DEVICE_EVENT),
                "device_shots": size(1, 100_000, why=_SHOTS_WHY),
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
                "n_eval": size(10, 1_000_000, _EVAL_SHOWER),
                "e_min": Rule(minimum=1e-3),
                "e_max": Rule(minimum=1e-3),
                "n_train": size(10, 1_000_000, _TRAIN_SHOWER),
                "gan_iterations": size(0, 1_000_000, _GAN_ITERATION),
                "flow_epochs": size(1, 10_000, _FLOW_EPOCH),
                "classifier_epochs": size(1, 10_000, _CLASSIFIER_EPOCH),
                "challenge_levels": one_of("low", "high", items=True),
                "n_challenge": size(100, 1_000_000, _CHALLENGE_SHOWER),
                "n_ds2": size(10, 1_000_000, _DS2_SHOWER),
                "speed_batches": size(1, 100_000, _DS2_SHOWER, items=True, min_items=1),
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
                "n_per_class": size(10, 1_000_000, _FPGA_JET),
                "epochs": size(0, 10_000, _MLP_EPOCH),
                "batch_size": size(1, 1 << 20, _MLP_JET),
                "learning_rate": between(1e-8, 10.0),
                "reference_precision": _hls4ml_type("hepml_nb.fpga.hls:parse_precision"),
                "integer_bits": between(1, 64),
                "widths": between(2, 64, items=True, min_items=1),
                "weight_integer_bits": between(1, 64),
                "profiled_widths": between(2, 64, items=True, min_items=1),
                "reuse_factors": _POSITIVE_ITEMS,
                "strategy": one_of("Latency", "Resource"),
                "clock_mhz": Rule(minimum=1e-3),
                "n_emulate": size(1, 1_000_000, _EMULATED_JET),
                "run_synthesis": one_of("auto", "always", "never"),
                "cpu_repeats": size(1, 1_000_000, _CPU_REPEAT),
                "rtl_weight_bits": between(1, 16, items=True, min_items=1),
                "qat_epochs": size(0, 10_000, _MLP_EPOCH),
                "qat_prune": between(0.0, 0.99),
                "default_weight_bits": between(1, 16),
                "n_rtl_sim": size(1, 1_000_000, _RTL_JET),
                "rtl_activation": _hls4ml_type("hepml_nb.fpga.rtl:parse_fixed_type"),
                "rtl_input": _hls4ml_type("hepml_nb.fpga.rtl:parse_fixed_type"),
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
