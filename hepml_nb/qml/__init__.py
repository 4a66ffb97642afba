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

Every name loads on first use (:func:`hepml_nb.core.lazy.lazy_module`), so
``import hepml_nb.qml`` imports no heavy dependency. Missing dependencies:
``pip install 'hepml-nb[qml]'``.
"""

from hepml_nb.core.lazy import lazy_module

__getattr__, __dir__, __all__ = lazy_module(
    __name__,
    topic="qml",
    submodules=("exercises", "origin"),
    attributes={
        "backends": (
            "check_hardware_request",
            "circuit_estimate",
            "device_kernel",
            "fake_backend",
            "hardware_kernel",
            "ibm_backend",
            "token_status",
        ),
        "classify": (
            "ModelAucs",
            "auc_vs_training_size",
            "classical_scores",
            "compare_models",
            "kernel_svm_scores",
            "summarise_aucs",
        ),
        "devices": (
            "BackendTooSmallError",
            "HardwareError",
            "SessionClosedError",
            "TokenError",
            "origin_token_status",
            "resolve_device",
            "transpiled_depths",
        ),
        "events": ("cut_flow", "event_file", "load_events", "read_events", "sample_composition"),
        "features": ("balanced_split", "diphoton_features", "prepare_features"),
        "kernels": (
            "DEFAULT_ALPHA",
            "exact_kernel",
            "fidelity_kernel",
            "kernel_target_alignment",
            "project_psd",
            "shot_kernel",
            "zz_statevectors",
        ),
        "records": ("BUNDLED_RECORD", "load_record", "record_device_run", "replay"),
        "study": ("KernelRun", "DeviceComparison", "backend_table", "entanglement_study", "run_kernel", "shot_study"),
        "plots": (
            "feature_map_view",
            "kernel_view",
            "plot_auc_vs_size",
            "plot_features",
            "plot_kernel_agreement",
            "plot_kernel_matrix",
        ),
    },
)
