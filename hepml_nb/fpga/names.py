"""The fpga topic's vocabulary: the fixed sets of names its parameters take, as ``Literal`` types and
the tuples built from them.

Import-light (only ``typing``): the topic's spec module and its library modules import these names from
here, so each set is written once.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["Strategy", "STRATEGIES", "SynthesisMode", "SYNTHESIS_MODES"]

Strategy = Literal["Latency", "Resource"]
#: hls4ml's implementation strategies of a layer
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)
SynthesisMode = Literal["auto", "always", "never"]
#: when the notebook runs a vendor HLS synthesis (auto: when a tool is found)
SYNTHESIS_MODES: tuple[SynthesisMode, ...] = get_args(SynthesisMode)
