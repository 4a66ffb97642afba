"""RTL simulation of a da4ml design (Icarus Verilog, or Verilator), bit-exact checks and the measured latency.

The testbench drives one new input per clock cycle (the design's initiation interval is
one) and records the output after every rising edge. The latency is measured, not
read from the design: it is the number of rising edges ``d`` such that the input
presented at edge ``k`` appears at the output after edge ``k + d`` for every jet. A
design that pipelines correctly gives ``d`` equal to its pipeline depth.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.fpga.names import SIMULATORS, Simulator
from hepml_nb.fpga.rtl import RTLDesign, da4ml_predict, reference_logits
from hepml_nb.fpga.tools import require_tool

__all__ = [
    "SIMULATORS",
    "simulator_tools",
    "RTLSimulation",
    "RTLMismatchError",
    "io_layout",
    "simulate_rtl",
    "check_bit_exact",
    "verify_rtl",
    "Waveform",
    "rtl_waveform",
    "read_vcd",
]


class RTLMismatchError(DataError):
    """The RTL simulation differs from a reference model; the message names the first jet and output."""


class RTLSimulation(NamedTuple):
    """Outputs of the simulated RTL (N, n_out), the measured latency, and the times spent.

    ``latency_cycles`` is measured in the simulation (input edge to output edge);
    ``latency_ns`` is it times the design's clock period.
    """

    outputs: np.ndarray
    latency_cycles: int
    latency_ns: float
    build_seconds: float
    run_seconds: float
    simulator: Simulator

    @property
    def jets_per_second(self) -> float:
        """Simulated jets per wall-clock second (simulation run only, build excluded)."""
        return len(self.outputs) / self.run_seconds if self.run_seconds > 0 else float("inf")

    def metrics(self, prefix: str = "rtl_sim_") -> dict[str, float]:
        """Flat numbers for ``metrics.json``."""
        return {
            f"{prefix}latency_cycles": self.latency_cycles,
            f"{prefix}latency_ns": self.latency_ns,
            f"{prefix}build_seconds": self.build_seconds,
            f"{prefix}run_seconds": self.run_seconds,
            f"{prefix}jets_per_second": self.jets_per_second,
            f"{prefix}n_jets": len(self.outputs),
        }


def io_layout(qints) -> tuple[int, int, bool]:
    """``(bits per element, fractional bits, signed)`` of the wrapper's uniform ports for da4ml intervals."""
    from da4ml.types import minimal_kif

    kifs = [minimal_kif(q) for q in qints]
    ks = [int(k.keep_negative) for k in kifs]
    max_i = max(k.integers + s for k, s in zip(kifs, ks, strict=True))
    max_f = max(k.fractional for k in kifs)
    return max_i + max_f, max_f, any(ks)


def _encode(X: np.ndarray, bits: int, frac: int) -> list[str]:
    codes = np.round(np.asarray(X, dtype=np.float64) * 2.0**frac).astype(np.int64) % (1 << bits)
    width = (bits * X.shape[1] + 3) // 4
    lines = []
    for row in codes:
        value = 0
        for j, c in enumerate(row):
            value |= int(c) << (bits * j)
        lines.append(f"{value:0{width}x}")
    return lines


def _decode(lines: list[str], n_out: int, bits: int, frac: int, signed: bool) -> np.ndarray:
    out = np.full((len(lines), n_out), np.nan)
    mask = (1 << bits) - 1
    for r, line in enumerate(lines):
        if any(c in line.lower() for c in "xz"):
            continue  # registers not yet filled by the pipeline
        value = int(line, 16)
        for j in range(n_out):
            c = (value >> (bits * j)) & mask
            if signed and c >> (bits - 1):
                c -= 1 << bits
            out[r, j] = c / 2.0**frac
    return out


_TESTBENCH = """`timescale 1ns/1ps
module hepml_tb;
  reg clk = 1'b0;
  reg [{iw}-1:0] inp;
  wire [{ow}-1:0] out;
  reg [{iw}-1:0] mem [0:{n}-1];
  integer k, fd;
  {top} dut (.clk(clk), .model_inp(inp), .model_out(out));
  initial begin
    $readmemh("inputs.hex", mem);
    fd = $fopen("outputs.hex", "w");{dump}
    for (k = 0; k < {cycles}; k = k + 1) begin
      inp = (k < {n}) ? mem[k] : {{{iw}{{1'b0}}}};
      #1 clk = 1'b1;
      #1 $fdisplay(fd, "%h", out);
      #1 clk = 1'b0;
    end
    $fclose(fd);
    $finish;
  end
endmodule
"""


_SIMULATOR_TOOLS: dict[Simulator, tuple[str, ...]] = {"icarus": ("iverilog", "vvp"), "verilator": ("verilator",)}


def simulator_tools(simulator: Simulator) -> tuple[str, ...]:
    """The commands ``simulator`` needs (:mod:`hepml_nb.fpga.tools` names).

    Raises
    ------
    ParameterError
        For a simulator not in :data:`~hepml_nb.fpga.names.SIMULATORS`, naming them.
    """
    if simulator not in SIMULATORS:
        raise ParameterError(f"unknown simulator {simulator!r}; choose one of: {', '.join(SIMULATORS)}")
    return _SIMULATOR_TOOLS[simulator]


def simulate_rtl(
    design: RTLDesign,
    X_quantized: np.ndarray,
    *,
    simulator: Simulator = "icarus",
    max_latency: int | None = None,
    expected: np.ndarray | None = None,
) -> RTLSimulation:
    """Simulate ``design`` on already quantised inputs (N, F) with Icarus Verilog or Verilator.

    Parameters
    ----------
    X_quantized
        Inputs on the design's input grid (e.g. ``net.quantize_inputs(X)``).
    simulator
        ``icarus`` (default: builds in a second) or ``verilator`` (compiles C++ first:
        seconds for small designs, minutes for the tagger; faster per jet).
    max_latency
        Extra cycles simulated after the last input (default: pipeline depth + 4).
    expected
        Reference outputs (N, n_out) to align with when measuring the latency. By default
        Icarus takes the first cycle at which the output register holds defined values
        (registers start undefined, ``x``); Verilator, whose registers start at 0, aligns
        with da4ml's software model.

    Returns
    -------
    RTLSimulation
        Outputs aligned with the inputs, and the measured latency.
    """
    for tool in simulator_tools(simulator):
        require_tool(tool)
    comb = design.comb()
    X = np.asarray(X_quantized, dtype=np.float64)
    n_in, n_out = comb.shape
    if X.ndim != 2 or X.shape[1] != n_in or len(X) < 1:
        raise DataError(f"simulation inputs must be (N >= 1, {n_in}), got {X.shape}")
    obits, ofrac, osigned = io_layout(comb.out_qint)
    extra = max_latency if max_latency is not None else design.n_stages + 4
    with _testbench(design, X, len(X) + extra) as work:
        build, run = (_icarus if simulator == "icarus" else _verilator)(design, work)
        start = time.perf_counter()
        _run(build, work, simulator)
        built = time.perf_counter()
        _run(run, work, simulator)
        ran = time.perf_counter()
        rows = _decode((work / "outputs.hex").read_text().split(), n_out, obits, ofrac, osigned)
    if expected is None and simulator == "verilator":
        expected = np.asarray(comb.predict(X), dtype=np.float64)
    latency = _measure_latency(rows, len(X), expected)
    outputs = rows[latency : latency + len(X)]
    return RTLSimulation(outputs, latency, latency * design.clock_period_ns, built - start, ran - built, simulator)


@contextlib.contextmanager
def _testbench(design: RTLDesign, X: np.ndarray, cycles: int, *, dump: str = "") -> Iterator[Path]:
    """A private temporary folder with the inputs and the testbench of ``cycles`` clock edges; removed after use.

    The simulator builds and runs there, reading the Verilog from the design's folder (which must be
    private: :meth:`RTLDesign.trusted_path`) and writing nothing into it, so a design in a shared or
    read-only cache stays as it was. ``dump``: extra testbench statements after the files are opened
    (a VCD dump, say).
    """
    design.trusted_path("simulated")
    comb = design.comb()
    n_in, n_out = comb.shape
    ibits, ifrac, _ = io_layout(comb.inp_qint)
    obits, *_ = io_layout(comb.out_qint)
    with tempfile.TemporaryDirectory(prefix="hepml-nb-rtlsim-") as folder:
        work = Path(folder)
        (work / "inputs.hex").write_text("\n".join(_encode(X, ibits, ifrac)) + "\n")
        (work / "tb.v").write_text(
            _TESTBENCH.format(
                iw=ibits * n_in, ow=obits * n_out, n=len(X), cycles=cycles, top=f"{design.name}_wrapper", dump=dump
            )
        )
        yield work


def _icarus(design: RTLDesign, work: Path) -> tuple[list[str], list[str]]:  # noqa: ARG001 - _verilator's signature
    return (
        [
            require_tool("iverilog"),
            "-g2012",
            "-o",
            "sim.vvp",
            "-s",
            "hepml_tb",
            "tb.v",
            *map(str, design.verilog_sources()),
        ],
        [require_tool("vvp"), "-n", "sim.vvp"],
    )


def _verilator(design: RTLDesign, work: Path) -> tuple[list[str], list[str]]:
    """Verilator 5 with ``--binary --timing``; lint pragmas older releases do not know are removed first."""
    src = work / "src"
    src.mkdir(exist_ok=True)
    for path in design.verilog_sources():
        (src / path.name).write_text(_UNKNOWN_LINT.sub("", path.read_text()))
    return (
        [
            require_tool("verilator"),
            "--binary",
            "--timing",
            "-Wno-fatal",
            "-Wno-lint",
            "-Wno-style",
            "--top-module",
            "hepml_tb",
            "-j",
            "2",
            "-o",
            "simv",
            "tb.v",
            *sorted(str(p) for p in src.glob("*.v")),
        ],
        [str(work / "obj_dir" / "simv")],
    )


_UNKNOWN_LINT = re.compile(r"/\*\s*verilator\s+lint_(?:off|on)\s+WIDTHTRUNC\s*\*/")


def _run(command: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise DataError(
            f"{what} failed (exit {result.returncode}) in {cwd}:\n{(result.stderr or result.stdout)[-2000:]}"
        )


def _measure_latency(rows: np.ndarray, n: int, expected: np.ndarray | None) -> int:
    """Edges from input to output: the alignment that matches ``expected`` best, else the first defined row."""
    max_shift = len(rows) - n
    if expected is not None:
        scores = [np.sum(np.all(rows[d : d + n] == expected, axis=1)) for d in range(max_shift + 1)]
        return int(np.argmax(scores))
    defined = np.flatnonzero(np.all(np.isfinite(rows), axis=1))
    if defined.size == 0 or defined[0] > max_shift:
        raise DataError(
            "the RTL output never became defined: the design did not simulate; run the simulator on its Verilog by hand"
        )
    return int(defined[0])


def check_bit_exact(outputs: np.ndarray, reference: np.ndarray, *, label: str = "reference") -> None:
    """Raise :class:`RTLMismatchError` naming the first differing jet and output, if any."""
    outputs, reference = np.asarray(outputs, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if outputs.shape != reference.shape:
        raise RTLMismatchError(f"RTL outputs {outputs.shape} and {label} {reference.shape} differ in shape")
    bad = np.argwhere(~(outputs == reference))
    if len(bad):
        jet, out = map(int, bad[0])
        raise RTLMismatchError(
            f"RTL simulation differs from the {label} at jet {jet}, output {out}: RTL {float(outputs[jet, out])!r}, "
            f"{label} {float(reference[jet, out])!r} ({len(bad)} differing values in {len(np.unique(bad[:, 0]))} of "
            f"{len(outputs)} jets); regenerate the design from this network or check the quantisation types"
        )


def verify_rtl(net, design: RTLDesign, X: np.ndarray, *, simulator: Simulator = "icarus") -> RTLSimulation:
    """Simulate ``design`` on ``X`` and check it bit for bit against numpy and da4ml's model of ``net``.

    Also checks that the measured latency equals the design's pipeline depth.

    Raises
    ------
    RTLMismatchError
        At the first jet and output where the RTL differs from either reference.
    """
    Xq = net.quantize_inputs(X)
    reference = reference_logits(net, X)
    sim = simulate_rtl(design, Xq, simulator=simulator, expected=reference)
    check_bit_exact(sim.outputs, reference, label="numpy fixed-point reference")
    check_bit_exact(sim.outputs, da4ml_predict(design.comb(), Xq), label="da4ml software model")
    if sim.latency_cycles != design.n_stages:
        raise RTLMismatchError(
            f"measured latency {sim.latency_cycles} cycles differs from the design's pipeline depth {design.n_stages}"
        )
    return sim


class Waveform(NamedTuple):
    """Registers of a simulated design, sampled after every rising clock edge.

    ``signals`` maps a register's name (``model_inp``, ``stage0_inp``, ..., ``model_out``,
    in pipeline order) to its value after each edge: an ``int``, or ``None`` while it
    still holds ``x`` (never written). ``widths`` gives each register's width in bits.
    ``latency_cycles`` is the edge after which the output register holds the jet.
    """

    signals: dict[str, list[int | None]]
    widths: dict[str, int]
    latency_cycles: int
    clock_period_ns: float
    scores: np.ndarray

    @property
    def n_cycles(self) -> int:
        """Number of rising edges sampled."""
        return len(next(iter(self.signals.values())))


def read_vcd(text: str) -> tuple[dict[str, tuple[str, int]], list[tuple[float, str, str]]]:
    """Parse the subset of a VCD file that Icarus writes: variables and value changes.

    Returns ``variables`` (``scope.name`` -> (identifier code, width)) and the changes
    as ``(time [ns], identifier code, value)`` with ``value`` a bit string (``x`` allowed).
    """
    variables: dict[str, tuple[str, int]] = {}
    changes: list[tuple[float, str, str]] = []
    scopes: list[str] = []
    tokens = iter(text.split())
    now, unit_ns = 0.0, 1.0
    units = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0, "ps": 1e-3, "fs": 1e-6}
    for tok in tokens:
        if tok in ("$date", "$version", "$comment", "$timescale"):
            body = []
            for t in tokens:
                if t == "$end":
                    break
                body.append(t)
            if tok == "$timescale":
                m = re.fullmatch(r"(\d+)\s*([munpf]?s)", "".join(body))
                if not m:
                    raise DataError(f"unreadable VCD timescale {' '.join(body)!r}")
                unit_ns = int(m.group(1)) * units[m.group(2)]
        elif tok == "$scope":
            next(tokens)  # scope kind
            scopes.append(next(tokens))
        elif tok == "$upscope":
            scopes.pop()
        elif tok == "$var":
            _kind, width, code, name = next(tokens), int(next(tokens)), next(tokens), next(tokens)
            variables[".".join([*scopes, name])] = (code, width)
        elif tok.startswith("#"):
            now = int(tok[1:]) * unit_ns
        elif tok[0] in "bB":
            changes.append((now, next(tokens), tok[1:].lower()))
        elif tok[0] in "01xzXZ" and len(tok) > 1:
            changes.append((now, tok[1:], tok[0].lower()))
    return variables, changes


def rtl_waveform(design: RTLDesign, x_quantized: np.ndarray, *, extra_cycles: int = 2) -> Waveform:
    """Simulate one jet through ``design`` (Icarus Verilog) and record its pipeline registers.

    The jet is presented before the first rising edge, zeros afterwards; the waveform
    shows the jet's data moving one pipeline stage per clock edge until the output
    register holds its scores after ``n_stages`` edges.

    Parameters
    ----------
    x_quantized
        One jet's inputs on the design's input grid, shape (F,) or (1, F).
    extra_cycles
        Edges simulated after the output register took the jet.
    """
    for tool in ("iverilog", "vvp"):
        require_tool(tool)
    comb = design.comb()
    X = np.asarray(x_quantized, dtype=np.float64).reshape(1, -1)
    n_in, n_out = comb.shape
    if X.shape[1] != n_in:
        raise DataError(f"one jet with {n_in} inputs is needed for the waveform, got shape {np.shape(x_quantized)}")
    cycles = design.n_stages + 1 + max(int(extra_cycles), 0)
    dump = '\n    $dumpfile("wave.vcd");\n    $dumpvars(2, dut);'
    with _testbench(design, X, cycles, dump=dump) as work:
        build, run = _icarus(design, work)
        _run(build, work, "icarus")
        _run(run, work, "icarus")
        vcd = (work / "wave.vcd").read_text()
    variables, changes = read_vcd(vcd)
    # registers of the pipelined top module: the input register of every stage, then the output
    pattern = re.compile(r"hepml_tb\.dut\.[^.]+\.(stage\d+_inp|model_out)$")
    chosen = {m.group(1): variables[name] for name in variables if (m := pattern.match(name))}
    order = sorted((n for n in chosen if n != "model_out"), key=lambda n: int(re.search(r"\d+", n).group()))
    names = ["model_inp", *order, "model_out"]
    chosen["model_inp"] = variables["hepml_tb.dut.model_inp"]
    if len(order) != design.n_stages:
        raise DataError(
            f"the waveform found {len(order)} stage registers of the waveform dump but the design has "
            f"{design.n_stages} pipeline stages; da4ml's module layout may have changed"
        )
    by_code: dict[str, list[tuple[float, str]]] = {}
    for t, code, value in changes:
        by_code.setdefault(code, []).append((t, value))

    def sampled(code: str) -> list[int | None]:
        """Value after each rising edge: the testbench raises the clock at 3k + 1 ns and samples at 3k + 2 ns."""
        history, values, i, current = by_code.get(code, []), [], 0, "x"
        for t in (3 * k + 2 for k in range(cycles)):
            while i < len(history) and history[i][0] <= t:
                current = history[i][1]
                i += 1
            values.append(None if any(c in current for c in "xz") else int(current, 2))
        return values

    signals = {name: sampled(chosen[name][0]) for name in names}
    widths = {name: chosen[name][1] for name in names}
    # the scores are read at the wrapper's port, where every output has the same width
    held = sampled(variables["hepml_tb.dut.model_out"][0])[design.n_stages]
    if held is None:
        raise DataError(f"the output holds no value {design.n_stages} edges after the jet; see {work}")
    scores = _decode([f"{held:x}"], n_out, *io_layout(comb.out_qint))[0]
    return Waveform(signals, widths, design.n_stages, design.clock_period_ns, scores)
