"""Benchmark of the RTL flow on the default design: Verilog generation, RTL simulation, synthesis, emulation.

Usage: ``python benchmarks/bench_fpga_rtl.py [--quick] [--no-synthesis] [--verilator]``. The default design
(the QAT-trained, pruned 16-64-32-32-5 tagger shipped in ``hepml_nb/fpga/reports``) is written
into a fresh temporary folder, so nothing comes from the cache. Inputs are synthetic
standardised features: the timings do not depend on the jets. Prints one line per figure,
with hls4ml's C++ emulation (configured to the same arithmetic) beside the RTL simulation.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from importlib import resources

import numpy as np

from hepml_nb.fpga import compare, rtl, rtlsim, synth, tools


def main(quick: bool, synthesis: bool, verilator: bool) -> None:
    data = json.loads(resources.files("hepml_nb.fpga").joinpath("reports/default_network.json").read_text())
    net = rtl.network_from_dict(data)
    n_jets = 1_000 if quick else 5_000
    X = np.random.default_rng(0).normal(size=(n_jets, net.weights[0].shape[0]))
    with tempfile.TemporaryDirectory(prefix="bench_fpga_rtl_") as root:
        design = rtl.write_verilog(net, root=root)
        print(
            f"Verilog generation (da4ml trace + pipelining + write): {design.seconds:7.2f} s, "
            f"{design.n_stages} stages, da4ml estimate {design.est_lut:,.0f} LUT / {design.est_ff:,} FF"
        )
        if tools.tool_available("iverilog"):
            sim = rtlsim.verify_rtl(net, design, X)
            print(
                f"RTL simulation (Icarus): build {sim.build_seconds:6.2f} s, {sim.jets_per_second:9,.0f} jets/s "
                f"({n_jets} jets in {sim.run_seconds:.2f} s), bit-exact, latency {sim.latency_cycles} cycles"
            )
        else:
            print("RTL simulation skipped:", tools.HARDWARE_TOOLS["iverilog"].install)
        if verilator and tools.tool_available("verilator"):
            sim = rtlsim.verify_rtl(net, design, X, simulator="verilator")
            print(
                f"RTL simulation (Verilator): build {sim.build_seconds:6.2f} s, {sim.jets_per_second:9,.0f} jets/s "
                f"({n_jets} jets in {sim.run_seconds:.2f} s), bit-exact, latency {sim.latency_cycles} cycles"
            )
        build = compare.convert_network(net, project_root=root)
        start = time.perf_counter()
        compare.emulate_network(build, net, X)
        elapsed = time.perf_counter() - start
        print(
            f"hls4ml C++ emulation (same arithmetic): compile {build.seconds:6.2f} s, {n_jets / elapsed:9,.0f} jets/s"
        )
        if synthesis and tools.tool_available("yosys"):
            report = synth.synthesize_rtl(design)
            print(
                f"Yosys synth_xilinx -family xcup: {report.seconds:7.1f} s, LUT {report.lut:,} (+{report.inv:,} INV), "
                f"FF {report.ff:,}, CARRY4 {report.carry:,}, DSP {report.dsp}"
            )
        elif synthesis:
            print("synthesis skipped:", tools.HARDWARE_TOOLS["yosys"].install)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 jets instead of 5,000")
    parser.add_argument("--no-synthesis", action="store_true", help="skip Yosys (the slowest step)")
    parser.add_argument("--verilator", action="store_true", help="also simulate with Verilator (C++ build: minutes)")
    args = parser.parse_args()
    main(args.quick, not args.no_synthesis, args.verilator)
