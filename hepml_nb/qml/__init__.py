"""Quantum-kernel SVM for e+e- -> ZH, H -> gamma gamma at 240 GeV (CEPC; arXiv:2209.12788).

Modules: :mod:`~hepml_nb.qml.events` (Pythia8 generation, smearing, selection, ROOT
ntuple), :mod:`~hepml_nb.qml.features` (features, encoding, splits),
:mod:`~hepml_nb.qml.kernels` (exact and shot kernels from closed-form statevectors),
:mod:`~hepml_nb.qml.backends` (noisy fake device and opt-in IBM hardware),
:mod:`~hepml_nb.qml.classify` (quantum vs classical classifiers), :mod:`~hepml_nb.qml.plots`
and :mod:`~hepml_nb.qml.exercises`.
"""
from hepml_nb.qml.backends import (
    check_hardware_request, circuit_estimate, device_kernel, fake_backend, hardware_kernel, ibm_backend, token_status,
)
from hepml_nb.qml.classify import (
    auc_vs_training_size, classical_scores, compare_models, kernel_svm_scores, summarise_aucs,
)
from hepml_nb.qml.events import event_file, load_events, read_events
from hepml_nb.qml.features import balanced_split, diphoton_features, prepare_features
from hepml_nb.qml.kernels import exact_kernel, fidelity_kernel, kernel_target_alignment, shot_kernel, zz_statevectors
from hepml_nb.qml.study import KernelRun, backend_table, run_kernel, shot_study
from hepml_nb.qml.plots import (
    feature_map_view, kernel_view, plot_auc_vs_size, plot_features, plot_kernel_agreement, plot_kernel_matrix,
)

__all__ = [
    "event_file", "read_events", "load_events", "diphoton_features", "prepare_features", "balanced_split",
    "zz_statevectors", "fidelity_kernel", "exact_kernel", "shot_kernel", "kernel_target_alignment",
    "fake_backend", "device_kernel", "circuit_estimate", "token_status", "ibm_backend", "hardware_kernel", "check_hardware_request",
    "kernel_svm_scores", "classical_scores", "compare_models", "auc_vs_training_size", "summarise_aucs",
    "plot_features", "plot_kernel_matrix", "plot_auc_vs_size", "plot_kernel_agreement",
    "feature_map_view", "kernel_view", "KernelRun", "run_kernel", "backend_table", "shot_study",
]
