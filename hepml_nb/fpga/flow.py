"""The RTL flow in one call, with the documented fallback: Verilog, simulation, synthesis, place and route.

Each step runs when its tool is found (:mod:`hepml_nb.fpga.tools`) and is cached under
the design hash; a missing tool skips the step and says why. The notebook then shows
:func:`shipped_reports`, the reports of the default design produced with these tools and
shipped with the package, labelled as such (never as results of the run).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import NamedTuple

import numpy as np

from hepml_nb.core.errors import ParameterError
from hepml_nb.fpga.names import Simulator
from hepml_nb.fpga.rtl import QuantizedMLP, RTLDesign, write_verilog
from hepml_nb.fpga.rtlsim import RTLSimulation, simulator_tools, verify_rtl
from hepml_nb.fpga.synth import PlaceRouteReport, SynthesisReport, place_and_route, synthesize_rtl
from hepml_nb.fpga.tools import require_tool

__all__ = ["RTLFlowResult", "run_rtl_flow", "shipped_reports", "SHIPPED_LABEL"]

SHIPPED_LABEL = "shipped report of the default design (not computed in this run)"


class RTLFlowResult(NamedTuple):
    """What the flow produced; a step that did not run is None and ``skipped`` says why."""

    design: RTLDesign
    simulation: RTLSimulation | None
    synthesis: SynthesisReport | None
    place_route: PlaceRouteReport | None
    skipped: dict

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat numbers of every step that ran, for ``metrics.json``."""
        out = self.design.metrics(f"{prefix}rtl_")
        for step, name in ((self.simulation, "rtl_sim_"), (self.synthesis, "synth_"), (self.place_route, "pnr_")):
            if step is not None:
                out.update(step.metrics(f"{prefix}{name}"))
        return out


def _step(skipped: dict, name: str, tools: tuple[str, ...]) -> bool:
    try:
        for tool in tools:
            require_tool(tool)
    except ParameterError as exc:
        skipped[name] = str(exc)
        return False
    return True


def run_rtl_flow(
    net: QuantizedMLP,
    X: np.ndarray,
    *,
    simulate: bool = True,
    synthesize: bool = True,
    place_route: bool = False,
    simulator: Simulator = "icarus",
    latency_cutoff: float = 5.0,
    clock_period_ns: float = 5.0,
    synth_timeout_s: float = 3600.0,
) -> RTLFlowResult:
    """Verilog of ``net``, bit-exact RTL simulation on ``X``, Yosys synthesis and (optionally) nextpnr.

    Raises :class:`hepml_nb.fpga.RTLMismatchError` if the simulation differs from the
    references; a missing tool is not an error (the step lands in ``skipped``).
    """
    sim_tools = simulator_tools(simulator)  # a bad name fails before the Verilog is written
    design = write_verilog(net, latency_cutoff=latency_cutoff, clock_period_ns=clock_period_ns)
    skipped: dict[str, str] = {}
    sim = (
        verify_rtl(net, design, X, simulator=simulator)
        if simulate and _step(skipped, "simulation", sim_tools)
        else None
    )
    syn = (
        synthesize_rtl(design, timeout_s=synth_timeout_s)
        if synthesize and _step(skipped, "synthesis", ("yosys",))
        else None
    )
    pnr = (
        place_and_route(design, freq_mhz=1e3 / clock_period_ns, timeout_s=synth_timeout_s)
        if place_route and _step(skipped, "place_route", ("yosys", "nextpnr-ecp5"))
        else None
    )
    return RTLFlowResult(design, sim, syn, pnr, skipped)


def shipped_reports() -> dict:
    """Reports of the default design produced with the open-source tools, shipped with hepml-nb.

    Returns a dict with ``label`` (:data:`SHIPPED_LABEL`), ``design`` (its parameters),
    ``generation``, ``simulation``, ``synthesis`` and, when produced, ``place_route``,
    plus ``produced_with`` (tool versions and the command that made them).
    """
    text = resources.files("hepml_nb.fpga").joinpath("reports/default_design.json").read_text()
    return {**json.loads(text), "label": SHIPPED_LABEL}
