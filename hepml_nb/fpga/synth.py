"""Logic synthesis of a da4ml design with Yosys, and place and route on a Lattice ECP5 with nextpnr.

``synthesize_rtl`` runs ``synth_xilinx -family xcup`` (AMD UltraScale+ cells: LUT1-6,
CARRY4 — Yosys 0.23 has no CARRY8 — FDRE, DSP48E2) and counts the mapped cells. Open
tools give no timing for Xilinx parts, so a real Fmax comes from ``place_and_route``:
``synth_ecp5`` then ``nextpnr-ecp5`` (its timing analysis after routing). Every result
is cached under the design hash; a synthesis of the 16-64-32-32-5 tagger takes minutes.
A cached report (plain JSON) is read wherever the design lies; the tools run only in a
design folder no other user can change (:meth:`~hepml_nb.fpga.rtl.RTLDesign.trusted_path`).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.fpga.names import ECP5_DEVICES, XILINX_FAMILIES, Ecp5Device, XilinxFamily
from hepml_nb.fpga.rtl import RTLDesign
from hepml_nb.fpga.tools import require_tool

__all__ = [
    "SynthesisReport",
    "PlaceRouteReport",
    "FAMILIES",
    "parse_yosys_stat",
    "synthesize_rtl",
    "place_and_route",
    "parse_nextpnr_report",
]

FAMILIES = XILINX_FAMILIES  # UltraScale+, UltraScale, 7-series (hepml_nb.fpga.names)
_CELL = re.compile(r"^\s+(?:(\S+)\s+(\d+)|(\d+)\s+(\S+))\s*$")


class SynthesisReport(NamedTuple):
    """Cells after Yosys technology mapping, grouped, and the synthesis time.

    ``lut`` counts LUT1-LUT6; ``inv`` Yosys's separate inverters (each a LUT1 in the
    device); ``carry`` CARRY4/CARRY8 blocks; ``ff`` flip-flops; ``cells`` every cell type.
    """

    lut: int
    inv: int
    ff: int
    carry: int
    dsp: int
    bram: int
    cells: dict
    family: XilinxFamily
    seconds: float
    reused: bool
    source: str = "yosys synthesis"

    def metrics(self, prefix: str = "synth_") -> dict[str, float]:
        """Flat numbers for ``metrics.json``."""
        return {
            f"{prefix}lut": self.lut,
            f"{prefix}inv": self.inv,
            f"{prefix}ff": self.ff,
            f"{prefix}carry": self.carry,
            f"{prefix}dsp": self.dsp,
            f"{prefix}bram": self.bram,
            f"{prefix}seconds": self.seconds,
        }


class PlaceRouteReport(NamedTuple):
    """nextpnr-ecp5 after routing: achieved Fmax (MHz), utilisation ``{resource: (used, available)}``."""

    fmax_mhz: float
    target_mhz: float
    utilisation: dict
    device: Ecp5Device
    seconds: float
    reused: bool
    source: str = "nextpnr-ecp5 place and route"

    def metrics(self, prefix: str = "pnr_") -> dict[str, float]:
        """Flat numbers for ``metrics.json``."""
        used = {
            f"{prefix}{k.lower()}": v[0] for k, v in self.utilisation.items() if k in ("TRELLIS_COMB", "TRELLIS_FF")
        }
        return {
            f"{prefix}fmax_mhz": self.fmax_mhz,
            f"{prefix}target_mhz": self.target_mhz,
            f"{prefix}seconds": self.seconds,
            **used,
        }


def parse_yosys_stat(text: str) -> dict[str, int]:
    """Cell counts ``{cell type: count}`` of the last module in Yosys ``stat`` output.

    Reads both the layout of Yosys 0.23 (``     LUT2   360``) and the newer one
    (``      360   LUT2``). Raises DataError when no cell counts are found.
    """
    blocks = text.split("===")
    for block in reversed(blocks):
        cells: dict[str, int] = {}
        in_cells = False
        for line in block.splitlines():
            if re.search(r"Number of cells|\bcells$", line):
                in_cells = True
                continue
            match = _CELL.match(line) if in_cells else None
            if match:
                name, count = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
                if not name.startswith("$paramod") and not name[0].isdigit():
                    cells[name] = cells.get(name, 0) + int(count)
            elif in_cells and line.strip() and not line.strip()[0].isdigit():
                in_cells = False
        if cells:
            return cells
    raise DataError("no cell counts found in the Yosys statistics; check yosys.log in the synthesis folder")


def _group(cells: dict[str, int], family: XilinxFamily, seconds: float, reused: bool) -> SynthesisReport:
    def total(pattern):
        return sum(v for k, v in cells.items() if re.fullmatch(pattern, k))

    return SynthesisReport(
        lut=total(r"LUT[1-6]"),
        inv=total(r"INV"),
        ff=total(r"FD[A-Z]*"),
        carry=total(r"CARRY[48]"),
        dsp=total(r"DSP\w*"),
        bram=total(r"RAMB\w*"),
        cells=dict(sorted(cells.items())),
        family=family,
        seconds=seconds,
        reused=reused,
    )


def synthesize_rtl(design: RTLDesign, *, family: XilinxFamily = "xcup", timeout_s: float = 3600.0) -> SynthesisReport:
    """Synthesise ``design`` with Yosys for an AMD/Xilinx family (cached under the design hash).

    Parameters
    ----------
    family
        ``xcup`` (UltraScale+, default), ``xcu`` or ``xc7``.
    timeout_s
        Give up after this many seconds (the 16-64-32-32-5 tagger takes minutes).
    """
    if family not in FAMILIES:
        raise ParameterError(f"unknown FPGA family {family!r} for synth_xilinx; choose one of: {', '.join(FAMILIES)}")
    folder = design.path / f"synth-{family}"
    cached = folder / "report.json"
    if cached.exists():
        saved = json.loads(cached.read_text())
        return _group(saved["cells"], family, saved["seconds"], True)
    yosys = require_tool("yosys")
    folder = design.trusted_path("synthesised") / folder.name  # the tools write here
    folder.mkdir(exist_ok=True)
    script = (
        f"read_verilog {' '.join(str(p) for p in design.verilog_sources())}; "
        f"synth_xilinx -family {family} -flatten -noiopad -top {design.name}; tee -q -o stat.txt stat"
    )
    seconds = _run_tool([yosys, "-q", "-l", "yosys.log", "-p", script], folder, "yosys", timeout_s)
    cells = parse_yosys_stat((folder / "stat.txt").read_text())
    cached.write_text(json.dumps({"cells": cells, "seconds": seconds}))
    return _group(cells, family, seconds, False)


def _run_tool(command: list[str], cwd: Path, what: str, timeout_s: float) -> float:
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise DataError(
            f"{what} ran past {timeout_s:.0f} s in {cwd}; make the design smaller (fewer bits, "
            "more zero weights) or raise timeout_s"
        ) from None
    if result.returncode != 0:
        raise DataError(
            f"{what} failed (exit {result.returncode}) in {cwd}:\n{(result.stderr or result.stdout)[-2000:]}"
        )
    return time.perf_counter() - start


def parse_nextpnr_report(report: dict) -> tuple[float, float, dict]:
    """``(fmax, target, utilisation)`` from nextpnr's ``--report`` JSON (first clock)."""
    try:
        clock = next(iter(report["fmax"].values()))
        util = {k: (int(v["used"]), int(v["available"])) for k, v in report["utilization"].items()}
        return float(clock["achieved"]), float(clock["constraint"]), util
    except (KeyError, StopIteration, TypeError, ValueError) as exc:
        raise DataError(f"the nextpnr report lacks {exc}; keys found: {sorted(report)}") from None


def place_and_route(
    design: RTLDesign,
    *,
    device: Ecp5Device = "85k",
    package: str = "CABGA756",
    freq_mhz: float = 200.0,
    timeout_s: float = 7200.0,
    seed: int = 1,
) -> PlaceRouteReport:
    """Synthesise for a Lattice ECP5 (``synth_ecp5``) and place and route with nextpnr-ecp5 (cached).

    For the ``full`` profile: the 16-64-32-32-5 tagger takes tens of minutes. ``device`` is
    nextpnr's size flag (``25k``, ``45k``, ``85k``), ``freq_mhz`` the timing target.
    """
    if device not in ECP5_DEVICES:
        raise ParameterError(f"unknown ECP5 size {device!r}; choose one of: {', '.join(ECP5_DEVICES)}")
    folder = design.path / f"pnr-ecp5-{device}-{package}-{freq_mhz:g}-{seed}"
    cached = folder / "summary.json"
    if cached.exists():
        saved = json.loads(cached.read_text())
        return PlaceRouteReport(
            saved["fmax"],
            saved["target"],
            {k: tuple(v) for k, v in saved["util"].items()},
            device,
            saved["seconds"],
            True,
        )
    yosys, nextpnr = require_tool("yosys"), require_tool("nextpnr-ecp5")
    folder = design.trusted_path("placed and routed") / folder.name  # the tools write here
    folder.mkdir(exist_ok=True)
    script = (
        f"read_verilog {' '.join(str(p) for p in design.verilog_sources())}; "
        f"synth_ecp5 -top {design.name} -json design.json"
    )
    seconds = _run_tool([yosys, "-q", "-l", "yosys.log", "-p", script], folder, "yosys (synth_ecp5)", timeout_s)
    seconds += _run_tool(
        [
            nextpnr,
            f"--{device}",
            "--package",
            package,
            "--json",
            "design.json",
            "--freq",
            f"{freq_mhz:g}",
            "--seed",
            str(seed),
            "--report",
            "report.json",
            "--log",
            "nextpnr.log",
            "--out-of-context",
            "--timing-allow-fail",
        ],
        folder,
        "nextpnr-ecp5",
        timeout_s,
    )
    fmax, target, util = parse_nextpnr_report(json.loads((folder / "report.json").read_text()))
    cached.write_text(json.dumps({"fmax": fmax, "target": target, "util": util, "seconds": seconds}))
    return PlaceRouteReport(fmax, target, util, device, seconds, False)
