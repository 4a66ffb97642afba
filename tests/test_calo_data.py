"""The calo data types: a sample of showers and the incident energies it is made at."""

import numpy as np
import pytest

from hepml_nb.calo.data import ShowerSet, check_energy_range, sample_incident_energies
from hepml_nb.calo.names import SPECTRA
from hepml_nb.core.errors import ParameterError


def test_shower_set_len_counts_showers_and_subset_keeps_every_field():
    showers = ShowerSet(np.arange(4.0), np.ones((4, 3), np.float32), "calogan", np.zeros((4, 2), np.float32))
    assert len(showers) == 4  # showers, not the four fields of the tuple
    part = showers.subset(np.array([True, False, True, False]))
    assert np.array_equal(part.e_inc, [0.0, 2.0]) and part.cells.shape == (2, 3) and part.overflow.shape == (2, 2)
    no_overflow = ShowerSet(showers.e_inc, showers.cells, "calogan")
    assert part.geometry == "calogan" and no_overflow.subset(slice(0, 1)).overflow is None


def test_sample_incident_energies_spectra(seed):
    e = sample_incident_energies(5000, e_min=1.0, e_max=100.0, spectrum="log-uniform", seed=seed)
    assert e.min() >= 1.0 and e.max() <= 100.0 and abs(np.median(e) - 10.0) < 1.0
    uniform = sample_incident_energies(5000, e_min=1.0, e_max=100.0, seed=seed)
    assert abs(np.median(uniform) - 50.5) < 3.0
    assert (sample_incident_energies(3, e_min=7.0, e_max=7.0, spectrum="fixed") == 7.0).all()
    assert SPECTRA == ("uniform", "log-uniform", "fixed")


def test_check_energy_range_rejects_bad_options():
    with pytest.raises(ParameterError, match="unknown energy spectrum 'flat'; choose one of: uniform, log-uniform"):
        sample_incident_energies(3, spectrum="flat")
    with pytest.raises(ParameterError, match=r"incident-energy range \[50.0, 10.0\] GeV is not valid"):
        check_energy_range("uniform", 50.0, 10.0, 3)
    with pytest.raises(ParameterError, match="number of showers must be at least 1, got 0"):
        sample_incident_energies(0)
