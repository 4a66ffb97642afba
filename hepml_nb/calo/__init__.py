"""Calorimeter showers: GFlash reference showers, HDF5 I/O, a conditional WGAN-GP and
CaloChallenge-style validation (separation power, chi2/ndf, classifier AUC/JSD).

Modules: ``geometry`` (CaloGAN and dataset-2 geometries), ``gflash`` (reference
simulation), ``io`` (CaloGAN and CaloChallenge HDF5), ``gan`` (WGAN-GP, pretrained
generator), ``features`` (high-level features), ``validation`` (separation power,
chi2, verdict), ``classifier`` (classifier test), ``report`` (the suite, speed),
``plots`` and ``exercises``.

Every name loads on first use (:func:`hepml_nb.core.lazy.lazy_module`), so
``import hepml_nb.calo`` imports no heavy dependency. Missing dependencies:
``pip install 'hepml-nb[calo]'``.
"""

from hepml_nb.core.lazy import lazy_module

__getattr__, __dir__, __all__ = lazy_module(
    __name__,
    topic="calo",
    submodules=("plots", "exercises"),
    attributes={
        "classifier": ("ClassifierResult", "classifier_test", "high_level_inputs", "low_level_inputs"),
        "features": ("cell_energy_spectrum", "feature_matrix", "shower_features"),
        "gan": (
            "GanConfig",
            "TrainResult",
            "generate_showers",
            "load_generator",
            "load_pretrained",
            "save_generator",
            "train_wgan_gp",
        ),
        "geometry": ("GEOMETRIES", "Geometry", "Material", "get_geometry", "layer_images"),
        "gflash": ("ShowerSet", "reference_showers", "sample_incident_energies", "simulate_showers"),
        "io": ("read_calogan_h5", "read_challenge_h5", "read_showers", "write_calogan_h5", "write_challenge_h5"),
        "report": ("ValidationReport", "showers_per_second", "validate_showers"),
        "validation": (
            "chi2_ndf",
            "chi2_per_energy",
            "feature_separation",
            "separation_power",
            "separation_power_hist",
            "verdict_table",
        ),
    },
)
