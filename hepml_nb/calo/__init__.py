"""Calorimeter showers: GFlash reference showers, HDF5 I/O, a conditional WGAN-GP and
CaloChallenge-style validation (separation power, chi2/ndf, classifier AUC/JSD).

Modules: ``geometry`` (CaloGAN and dataset-2 geometries), ``gflash`` (reference
simulation), ``io`` (CaloGAN and CaloChallenge HDF5), ``gan`` (WGAN-GP, pretrained
generator), ``features`` (high-level features), ``validation`` (separation power,
chi2, verdict), ``classifier`` (classifier test), ``report`` (the suite, speed),
``plots`` and ``exercises``.
"""
from hepml_nb.calo.classifier import ClassifierResult, classifier_test, high_level_inputs, low_level_inputs
from hepml_nb.calo.features import cell_energy_spectrum, feature_matrix, shower_features
from hepml_nb.calo.gan import (GanConfig, generate_showers, load_generator, load_pretrained, save_generator,
                               train_wgan_gp)
from hepml_nb.calo.geometry import GEOMETRIES, Geometry, Material, get_geometry, layer_images
from hepml_nb.calo.gflash import ShowerSet, reference_showers, sample_incident_energies, simulate_showers
from hepml_nb.calo.io import read_calogan_h5, read_challenge_h5, read_showers, write_calogan_h5, write_challenge_h5
from hepml_nb.calo.report import ValidationReport, showers_per_second, validate_showers
from hepml_nb.calo.validation import (chi2_ndf, chi2_per_energy, feature_separation, separation_power,
                                      separation_power_hist, verdict_table)

__all__ = [
    "ClassifierResult", "classifier_test", "high_level_inputs", "low_level_inputs",
    "cell_energy_spectrum", "feature_matrix", "shower_features",
    "GanConfig", "generate_showers", "load_generator", "load_pretrained", "save_generator", "train_wgan_gp",
    "GEOMETRIES", "Geometry", "Material", "get_geometry", "layer_images",
    "ShowerSet", "reference_showers", "sample_incident_energies", "simulate_showers",
    "read_calogan_h5", "read_challenge_h5", "read_showers", "write_calogan_h5", "write_challenge_h5",
    "ValidationReport", "showers_per_second", "validate_showers",
    "chi2_ndf", "chi2_per_energy", "feature_separation", "separation_power", "separation_power_hist", "verdict_table",
]
