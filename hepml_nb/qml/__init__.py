"""Quantum-kernel SVM for e+e- -> ZH, H -> gamma gamma at 240 GeV (CEPC; arXiv:2209.12788).

Modules: :mod:`~hepml_nb.qml.events` (Pythia8 generation, smearing, selection, ROOT
ntuple), :mod:`~hepml_nb.qml.features` (features, encoding, splits),
:mod:`~hepml_nb.qml.kernels` (exact and shot kernels from closed-form statevectors),
:mod:`~hepml_nb.qml.devices` (device names, errors, transpiled depths),
:mod:`~hepml_nb.qml.backends` (the device kernel; fake IBM devices and opt-in IBM hardware),
:mod:`~hepml_nb.qml.origin` (Origin Quantum simulator and opt-in cloud hardware, pyqpanda3),
:mod:`~hepml_nb.qml.records` (device runs recorded and replayed offline),
:mod:`~hepml_nb.qml.classify` (quantum vs classical classifiers), :mod:`~hepml_nb.qml.plots`
and :mod:`~hepml_nb.qml.exercises`.
"""
from hepml_nb.qml.backends import (
    check_hardware_request, circuit_estimate, device_kernel, fake_backend, hardware_kernel, ibm_backend, token_status,
)
from hepml_nb.qml.classify import (
    auc_vs_training_size, classical_scores, compare_models, kernel_svm_scores, summarise_aucs,
)
from hepml_nb.qml.devices import (
    BackendTooSmallError, HardwareError, SessionClosedError, TokenError, origin_token_status, resolve_device,
    transpiled_depths,
)
from hepml_nb.qml.events import cut_flow, event_file, load_events, read_events, sample_composition
from hepml_nb.qml.features import balanced_split, diphoton_features, prepare_features
from hepml_nb.qml.kernels import (
    DEFAULT_ALPHA, exact_kernel, fidelity_kernel, kernel_target_alignment, project_psd, shot_kernel, zz_statevectors,
)
from hepml_nb.qml.records import BUNDLED_RECORD, load_record, record_device_run, replay
from hepml_nb.qml.study import KernelRun, backend_table, entanglement_study, run_kernel, shot_study
from hepml_nb.qml.plots import (
    feature_map_view, kernel_view, plot_auc_vs_size, plot_features, plot_kernel_agreement, plot_kernel_matrix,
)

__all__ = [
    "event_file", "read_events", "load_events", "sample_composition", "cut_flow", "diphoton_features", "prepare_features", "balanced_split",
    "DEFAULT_ALPHA", "zz_statevectors", "fidelity_kernel", "exact_kernel", "shot_kernel", "project_psd",
    "kernel_target_alignment", "resolve_device", "transpiled_depths", "origin_token_status", "HardwareError",
    "TokenError", "SessionClosedError", "BackendTooSmallError", "record_device_run", "replay", "load_record",
    "BUNDLED_RECORD", "entanglement_study",
    "fake_backend", "device_kernel", "circuit_estimate", "token_status", "ibm_backend", "hardware_kernel", "check_hardware_request",
    "kernel_svm_scores", "classical_scores", "compare_models", "auc_vs_training_size", "summarise_aucs",
    "plot_features", "plot_kernel_matrix", "plot_auc_vs_size", "plot_kernel_agreement",
    "feature_map_view", "kernel_view", "KernelRun", "run_kernel", "backend_table", "shot_study",
]
