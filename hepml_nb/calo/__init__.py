"""Calorimeter showers: GFlash reference showers, HDF5 I/O, a conditional WGAN-GP, a flow and
CaloChallenge-style validation (separation power, chi2/ndf, classifier AUC/JSD, FPD/KPD).

The topic's layout: ``names`` (its vocabularies), ``spec`` (notebook, profiles, rules), ``data``
(the data type ``ShowerSet`` and the incident-energy spectra), ``io`` (CaloGAN and CaloChallenge
HDF5, geometry found from the voxel count), the models with their training (``gan``: WGAN-GP;
``flow``: a CaloFlow-style conditional normalizing flow; ``flowmatching``: a two-stage conditional
flow-matching model, CaloDREAM-style; each with ``load_pretrained()`` giving
``(model, recipe card)``, its config on the model), ``study`` (the layer the notebook drives: the
validation suite, the speed table and the run's records, each with ``.metrics()``), ``plots`` and
``exercises``. Besides: ``geometry`` (CaloGAN from its Geant4 layer boundaries; CaloChallenge
datasets 1 (photons, pions), 2 and 3 from their published binning, in ``layouts.json``), ``gflash``
(the reference simulation), ``features`` (high-level features, the challenge's own definitions for
its datasets), ``validation`` (separation power, chi2, verdict, FPD/KPD), ``classifier`` (classifier
test, ``tutorial`` and ``challenge`` presets) and ``classifier_inputs`` (what each preset's
classifier sees).

Every name loads on first use (:func:`hepml_nb.core.lazy.lazy_module`), so
``import hepml_nb.calo`` imports no heavy dependency. Missing dependencies:
``pip install 'hepml-nb[calo]'``.
"""

from hepml_nb.core.heap import limit_heap_growth
from hepml_nb.core.lazy import lazy_module

limit_heap_growth()  # freed batch tensors go back to the system instead of fragmenting the heap

__getattr__, __dir__, __all__ = lazy_module(
    __name__,
    topic="calo",
    submodules=("flow", "flowmatching", "plots", "exercises"),
    attributes={
        "classifier": (
            "PRESETS",
            "ClassifierResult",
            "classifier_test",
            "high_level_inputs",
            "low_level_inputs",
            "shower_classifier_test",
        ),
        "features": ("cell_energy_spectrum", "challenge_features", "feature_matrix", "shower_features"),
        "gan": (
            "GanConfig",
            "generate_showers",
            "generator_config",
            "load_generator",
            "load_pretrained",
            "save_generator",
            "train_wgan_gp",
        ),
        "geometry": ("GEOMETRIES", "Geometry", "Material", "get_geometry", "layer_images"),
        "data": ("ShowerSet", "sample_incident_energies"),
        "gflash": ("reference_showers", "simulate_showers"),
        "io": (
            "file_samples",
            "geometry_for_voxels",
            "read_calogan_h5",
            "read_challenge_h5",
            "read_showers",
            "write_calogan_h5",
            "write_challenge_h5",
        ),
        "study": (
            "ValidationReport",
            "ValidationStudy",
            "showers_per_second",
            "speed_table",
            "study_metrics",
            "validate_showers",
            "validation_study",
        ),
        "validation": (
            "chi2_ndf",
            "chi2_per_energy",
            "feature_separation",
            "physics_distances",
            "separation_power",
            "separation_power_hist",
            "verdict_table",
        ),
    },
)
