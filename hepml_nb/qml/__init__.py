"""Quantum-kernel SVM for e+e- -> ZH, H -> gamma gamma at 240 GeV (CEPC; arXiv:2209.12788).

Modules, in layers that import one way (each imports only those above it, and ``core``):

- data and models: :mod:`~hepml_nb.qml.events` (Pythia8 generation, smearing, selection, ROOT
  ntuple), :mod:`~hepml_nb.qml.features` (features, encoding, splits),
  :mod:`~hepml_nb.qml.kernels` (exact and shot kernels from closed-form statevectors),
  :mod:`~hepml_nb.qml.classify` (quantum vs classical classifiers, the AUC per kernel run);
- circuits: :mod:`~hepml_nb.qml.circuits` (the compute-uncompute circuit, its angles and
  depths, kernel pairs, kernels from counts);
- providers: :mod:`~hepml_nb.qml.devices` (device names, the Device type, errors),
  :mod:`~hepml_nb.qml.ibm` (fake IBM devices and opt-in IBM hardware),
  :mod:`~hepml_nb.qml.origin` (Origin Quantum simulator and opt-in cloud hardware, pyqpanda3),
  :mod:`~hepml_nb.qml.records` (device runs recorded and replayed offline),
  :mod:`~hepml_nb.qml.backends` (device resolution, the device and hardware kernels, recorded runs);
- study: :mod:`~hepml_nb.qml.study` (the notebook's studies and their result records);
- :mod:`~hepml_nb.qml.plots` and :mod:`~hepml_nb.qml.exercises`.

Every name loads on first use (:func:`hepml_nb.core.lazy.lazy_module`), so
``import hepml_nb.qml`` imports no heavy dependency. Missing dependencies:
``pip install 'hepml-nb[qml]'``.
"""

from hepml_nb.core.lazy import lazy_module

__getattr__, __dir__, __all__ = lazy_module(
    __name__,
    topic="qml",
    submodules=("exercises",),
    attributes={
        "backends": (
            "check_hardware_request",
            "device_kernel",
            "hardware_kernel",
            "record_device_run",
            "resolve_quantum_device",
            "transpiled_depths",
        ),
        "circuits": ("circuit_estimate",),
        "classify": ("KernelRun", "backend_table", "classical_scores", "compare_models", "kernel_svm_scores"),
        "devices": ("BackendTooSmallError", "HardwareError", "SessionClosedError", "TokenError"),
        "events": ("cut_flow", "event_file", "load_events", "read_events", "sample_composition"),
        "features": ("balanced_split", "diphoton_features", "prepare_features"),
        "ibm": ("fake_backend", "ibm_backend", "token_status"),
        "kernels": (
            "DEFAULT_ALPHA",
            "exact_kernel",
            "fidelity_kernel",
            "kernel_target_alignment",
            "project_psd",
            "shot_kernel",
            "zz_statevectors",
        ),
        "origin": ("origin_token_status",),
        "records": ("BUNDLED_RECORD", "load_record", "replay"),
        "study": (
            "DeviceComparison",
            "ModelAucs",
            "auc_vs_training_size",
            "entanglement_study",
            "run_kernel",
            "shot_study",
            "summarise_aucs",
        ),
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
