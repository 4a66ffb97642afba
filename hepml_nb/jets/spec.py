"""The particlenet topic: its notebook, profiles and parameter rules.

Import-light (no numpy, torch or uproot): the course catalog reads it for ``hepml-nb list``. The
names the rules allow come from :mod:`hepml_nb.jets.names`; a file check imports the topic's
reading code only when it runs.
"""

from __future__ import annotations

from typing import Any

from hepml_nb.core.rules import Cost, Rule, at_least, between, input_file, one_of, size
from hepml_nb.core.topics import DEVICE_RULE, Headline, topic
from hepml_nb.jets.names import BASELINES, DETECTORS, FEATURE_SET_NAMES, TAGGERS, TASKS

__all__ = ["TOPIC"]

# What a size costs, for the message when a value is above its maximum: measured runs of the tutorial on the
# project's 2-core machine, or the arrays the code allocates. The maxima leave every profile at least 5x below.
#: particlenet, benchmarks/results/notebooks-{ci,default}-particlenet.json: 771 MiB peak for ci's 800 jets and
#: 1,459 MiB for default's 22,000 (about 34 kB more per jet); the default run took 529 CPU s in all (0.024 per jet)
_JET = Cost("jet", bytes=3.4e4, seconds=0.024, basis="the ci and default benchmark records: 1,459 MiB, 529 CPU s, 22k")
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


def _check_jet_files(value: Any, **extra: Any) -> Any:
    """``data_path``: the JetClass files exist and hold the schema (reads uproot only when called)."""
    from hepml_nb.jets.io import resolve_jet_files

    return resolve_jet_files(value, **extra)


def _check_jetclass_model(value: Any, *, feature_set: str) -> Any:
    """``jetclass_model``: a published JetClass ParticleNet or ParT trained on the run's ``feature_set``,
    read with ``torch.load(weights_only=True)`` (imports torch and the jets code only when called)."""
    from hepml_nb.jets.jetclass import load_jetclass

    load_jetclass(value, feature_set=feature_set)
    return value


TOPIC = topic(
    "particlenet",
    "01_particlenet_jet_tagging.ipynb",
    "ParticleNet jet tagging",
    "Pythia8 jets through a Delphes-like detector, JetClass ntuples, ParticleNet and ParT vs a BDT, ONNX",
    rules={
        "task": one_of(*TASKS),
        "detector": one_of(*DETECTORS),
        "feature_set": one_of(*FEATURE_SET_NAMES),
        "taggers": one_of(*TAGGERS, items=True, min_items=1),
        "n_jets_per_class": size(10, 1_000_000, _JET),
        "n_test_qcd": size(0, 1_000_000, _JET),
        "pt_min": at_least(0),
        "pt_max": at_least(1),
        "eta_max": at_least(0),
        "data_path": input_file(_check_jet_files),
        "jetclass_model": input_file(_check_jetclass_model, needs=("feature_set",)),
        "max_particles": size(1, 512, _PARTICLE_SLOT),
        "epochs": size(0, 1000, _JET_EPOCH),
        "batch_size": size(1, 8192, _JET_IN_BATCH),
        "learning_rate": between(1e-8, 10.0),
        "patience": Rule(minimum=1),
        "baseline_kind": one_of(*BASELINES),
        "device": DEVICE_RULE,
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
    headline=(
        Headline("AUC", "auc_*"),
        Headline("1/eps_B at eps_S = 50 %", "rej50_*", low="rej50_low_*", high="rej50_high_*"),
    ),
)
