"""The qml topic: its notebook, profiles and parameter rules.

Import-light (no numpy, qiskit or sklearn): the course catalog reads it for ``hepml-nb list``. The
names the rules allow come from :mod:`hepml_nb.qml.names`.
"""

from __future__ import annotations

import math

from hepml_nb.core.rules import Cost, Rule, between, one_of, size, window
from hepml_nb.core.topics import Headline, topic
from hepml_nb.qml.names import BACKGROUNDS, ENTANGLEMENTS, ORIGIN_SIMULATORS, PREPARE_METHODS

__all__ = ["TOPIC"]

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

TOPIC = topic(
    "qml",
    "02_qml_qsvm_higgs.ipynb",
    "Quantum-kernel SVM for H -> gamma gamma at CEPC",
    "quantum-kernel SVM on exact, shot, noisy-device and (opt-in) IBM backends vs a classical SVM",
    rules={
        "n_signal": size(4, 1_000_000, _EE_EVENT),
        "n_background": size(4, 1_000_000, _EE_EVENT),
        "backgrounds": one_of(*BACKGROUNDS, items=True, min_items=1),
        "mass_window": window(0.0, 240.0),  # GeV, inside sqrt(s) = 240 GeV (qml.events' default)
        "resolution": window(0.0, 5.0, increasing=False),  # stochastic and constant terms
        "feature_range": window(-2 * math.pi, 2 * math.pi),  # radians
        "n_qubits": between(1, 20),
        "feature_method": one_of(*PREPARE_METHODS),
        "reps": Rule(minimum=1),
        "alpha": between(1e-6, 100.0),
        "entanglement": one_of(*ENTANGLEMENTS),
        "train_sizes": size(4, 100_000, _TRAIN_EVENT, items=True, min_items=1),
        "n_test": size(2, 1_000_000, _TEST_EVENT),
        "n_splits": size(1, 1000, _SPLIT),
        "shot_list": size(1, 100_000, why=_SHOTS_WHY, items=True, min_items=1),
        "shot_n_train": size(4, 100_000, _TRAIN_EVENT),
        "device_n_events": size(4, 2000, _DEVICE_EVENT),
        "device_shots": size(1, 100_000, why=_SHOTS_WHY),
        "origin_backend": one_of(*ORIGIN_SIMULATORS),
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
    headline=(
        Headline("AUC quantum-kernel SVM (exact)", "auc_quantum_exact", error="auc_quantum_exact_std"),
        Headline("AUC RBF SVM", "auc_rbf_svm", error="auc_rbf_svm_std"),
        Headline("AUC gradient-boosted trees", "auc_gbt", error="auc_gbt_std"),
        Headline("AUC on the noisy device model", "device_auc_noisy", error="device_auc_noisy_std"),
    ),
)
