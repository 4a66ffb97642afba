"""The calogan topic's vocabulary: the fixed sets of names its parameters take, as ``Literal`` types and
the tuples built from them.

Import-light (only ``typing``): the topic's spec module and its library modules import these names from
here, so each set is written once.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["Level", "LEVELS", "Spectrum", "SPECTRA"]

Level = Literal["low", "high"]
#: inputs of the CaloChallenge classifier test: cells (low) or high-level features (high)
LEVELS: tuple[Level, ...] = get_args(Level)

Spectrum = Literal["uniform", "log-uniform", "fixed"]
#: spectra of incident energies: uniform or log-uniform in [e_min, e_max], or fixed at e_min
SPECTRA: tuple[Spectrum, ...] = get_args(Spectrum)
