"""Exercise checkers of the shower-validation notebook.

Each prints Correct, or Incorrect with the reason and a hint, and never raises
(see :func:`hepml_nb.core.exercises.checker`).
"""

from __future__ import annotations

import numpy as np

from hepml_nb.calo.classifier import jsd_from_bce
from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.geometry import Material
from hepml_nb.calo.validation import separation_power_hist
from hepml_nb.core.exercises import Incorrect, checker, expect_close, expect_shape

__all__ = ["check_shower_max", "check_response", "check_separation_power", "check_jsd"]


@checker
def check_shower_max(answer, e_gev: float, material: Material) -> None:
    """Depth of the maximum of the average longitudinal profile, T = ln(E/E_c) - 0.858 [X0]."""
    expected = np.log(e_gev * 1000.0 / material.ec_mev) - 0.858
    wrong_units = np.log(e_gev / material.ec_mev) - 0.858
    if answer is not None and np.isscalar(answer) and np.isclose(answer, wrong_units, rtol=1e-3):
        raise Incorrect("you used E in GeV and E_c in MeV", "convert the energy to MeV before taking E/E_c")
    expect_close(
        answer,
        expected,
        rtol=1e-3,
        what="T_max",
        hint="T = ln y - 0.858 with y = E / E_c, both energies in the same unit",
    )


@checker
def check_response(answer, showers: ShowerSet) -> None:
    """``E_tot / E_inc`` per shower: cells in MeV, incident energy in GeV."""
    expect_shape(answer, (len(showers),), what="E_tot/E_inc", hint="one number per shower: sum the cells over axis 1")
    expected = showers.cells.sum(1, dtype=np.float64) / (1000.0 * showers.e_inc)
    got = np.asarray(answer, dtype=float)
    if np.allclose(got, 1000.0 * expected, rtol=1e-4):
        raise Incorrect("your response is 1000 times too large", "cells are in MeV, E_inc in GeV")
    expect_close(
        got,
        expected,
        rtol=1e-4,
        what="E_tot/E_inc",
        hint="sum the cell energies of each shower and divide by its incident energy, in the same unit",
    )


@checker
def check_separation_power(answer, h1: np.ndarray, h2: np.ndarray) -> None:
    """Separation power of two histograms given as counts."""
    expected = separation_power_hist(h1, h2)
    p, q = np.asarray(h1, float), np.asarray(h2, float)
    both = (p + q) > 0
    unnormalised = 0.5 * np.sum((p[both] - q[both]) ** 2 / (p[both] + q[both]))
    if (
        answer is not None
        and np.isscalar(answer)
        and np.isclose(answer, unnormalised, rtol=1e-6)
        and not np.isclose(unnormalised, expected)
    ):
        raise Incorrect("you used the raw counts", "divide each histogram by its sum first")
    if answer is not None and np.isscalar(answer) and np.isclose(answer, 2 * expected, rtol=1e-6):
        raise Incorrect("your value is twice the separation power", "do not forget the factor 1/2")
    expect_close(
        answer,
        expected,
        rtol=1e-6,
        what="separation power",
        hint="S = 1/2 sum_i (h1_i - h2_i)^2 / (h1_i + h2_i) on unit-normalised histograms, skipping bins empty in both",
    )


@checker
def check_jsd(answer, bce: float) -> None:
    """JSD estimate from a calibrated binary cross-entropy given in nats."""
    expected = jsd_from_bce(bce)
    if answer is not None and np.isscalar(answer) and np.isclose(answer, 1 - bce, rtol=1e-6):
        raise Incorrect(
            "you compared the BCE with 1 instead of ln 2",
            "a classifier that always says 0.5 has BCE = ln 2 nats; JSD = (ln 2 - BCE) / ln 2",
        )
    expect_close(
        answer, expected, rtol=1e-6, what="JSD", hint="JSD = (ln 2 - BCE) / ln 2 with the BCE in nats (natural log)"
    )
