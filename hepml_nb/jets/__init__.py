"""Jet tagging: Pythia8 jets in JetClass-schema ROOT files, features, ParticleNet, ParT, baseline, ONNX.

Every name loads on first use (:func:`hepml_nb.core.lazy.lazy_module`): ``import hepml_nb.jets``
imports neither torch nor pythia8mc nor fastjet. Modules: ``generation``, ``io``, ``features``,
``substructure``, ``datasets``, ``models``, ``transformer`` (Particle Transformer), ``training``,
``baseline``, ``study`` (the layer the notebook drives: the taggers' records, their comparison, the
referee), ``export``, ``pretrained``, ``jetclass`` (the published JetClass models), ``finetune``
(fine-tuning them on a task), ``plots`` and ``exercises``.
Missing dependencies: ``pip install 'hepml-nb[jets]'``.
"""

from hepml_nb.core.heap import limit_heap_growth
from hepml_nb.core.lazy import lazy_module

limit_heap_growth()  # freed batch tensors go back to the system instead of fragmenting the heap

__getattr__, __dir__, __all__ = lazy_module(
    __name__,
    topic="jets",
    submodules=(
        "models",
        "transformer",
        "training",
        "baseline",
        "study",
        "export",
        "plots",
        "exercises",
        "pretrained",
        "jetclass",
        "finetune",
        "substructure",
        "streaming",
    ),
    attributes={
        "generation": (
            "generate_jets",
            "PROCESSES",
            "GENERATOR_VERSION",
            "RECIPE_NOTES",
            "recipe_notes",
            "DETECTORS",
            "BACKGROUNDS",
            "parton_fractions",
        ),
        "io": (
            "load_jets",
            "write_jetclass",
            "select_classes",
            "take",
            "JetData",
            "JETCLASS_LABELS",
            "check_deta_convention",
        ),
        "features": (
            "FEATURE_SETS",
            "HIGH_LEVEL_FEATURES",
            "high_level_features",
            "padded_particles",
            "particle_kinematics",
        ),
        "study": ("TaggerSummary", "tagger_summary"),
        "datasets": (
            "HighLevelDataset",
            "high_level_dataset",
            "top_vs_qcd_files",
            "task_files",
            "task_labels",
            "TASKS",
            "extra_background_file",
            "CLASS_PROCESSES",
        ),
    },
)
