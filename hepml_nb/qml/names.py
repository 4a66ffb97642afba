"""The qml topic's vocabulary: the fixed sets of names its parameters take, as ``Literal`` types and the
tuples built from them.

Import-light (only ``typing``): the topic's spec module and its library modules import these names from
here, so each set is written once.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "Background",
    "BACKGROUNDS",
    "PrepareMethod",
    "PREPARE_METHODS",
    "Entanglement",
    "ENTANGLEMENTS",
    "OriginSimulator",
    "ORIGIN_SIMULATORS",
]

Background = Literal["gammagamma", "zgamma"]
#: background processes of the diphoton sample
BACKGROUNDS: tuple[Background, ...] = get_args(Background)
PrepareMethod = Literal["pca", "select"]
#: how the features are reduced to one per qubit
PREPARE_METHODS: tuple[PrepareMethod, ...] = get_args(PrepareMethod)
Entanglement = Literal["full", "linear", "reverse_linear", "circular"]
#: entanglement patterns of the ZZ feature map
ENTANGLEMENTS: tuple[Entanglement, ...] = get_args(Entanglement)
OriginSimulator = Literal["origin-sim:noisy", "origin-sim:ideal"]
#: Origin Quantum's local simulators the notebook can run
ORIGIN_SIMULATORS: tuple[OriginSimulator, ...] = get_args(OriginSimulator)
