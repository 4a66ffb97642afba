"""Benchmark of the hls4ml path: conversion + g++ compile time, cache reuse, emulation throughput, scan time.

Usage: ``python benchmarks/bench_fpga_hls4ml.py [--quick]``. Uses a fresh project folder in a
temporary directory (so the compile is really timed) and synthetic standardised inputs: the
timings do not depend on the jets themselves. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from hepml_nb.fpga import build_tagger, convert_tagger, emulate, fpga_estimate, precision_scan


def main(quick: bool) -> None:
    rng = np.random.default_rng(0)
    n_jets = 2_000 if quick else 20_000
    widths = (8, 16) if quick else (6, 8, 10, 12, 14, 16, 18)
    X = rng.normal(size=(n_jets, 16)).astype(np.float32)
    y = rng.integers(0, 5, n_jets)
    model = build_tagger(seed=0)
    with tempfile.TemporaryDirectory(prefix="bench_fpga_") as root:
        first = convert_tagger(model, precision="ap_fixed<16,6>", project_root=root)
        print(f"convert + compile 16-64-32-32-5 (g++): {first.seconds:6.2f} s")
        again = convert_tagger(model, precision="ap_fixed<16,6>", project_root=root)
        print(f"convert + reuse of the cached project:  {again.seconds:6.3f} s (reused={again.reused})")
        start = time.perf_counter()
        emulate(first.hls_model, X)
        elapsed = time.perf_counter() - start
        print(f"bit-accurate emulation: {n_jets / elapsed:,.0f} jets/s ({n_jets} jets in {elapsed:.2f} s)")
    with tempfile.TemporaryDirectory(prefix="bench_fpga_scan_") as root:
        start = time.perf_counter()
        precision_scan(model, X[:2000], y[:2000], "gqwzt", widths=widths, progress=False, project_root=root)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        precision_scan(model, X[:2000], y[:2000], "gqwzt", widths=widths, progress=False, project_root=root)
        warm = time.perf_counter() - start
    print(f"precision scan, {len(widths)} widths x 2000 jets: {cold:6.1f} s cold, {warm:5.2f} s from the cache")
    start = time.perf_counter()
    for r in range(1, 1001):
        fpga_estimate([(16, 64), (64, 32), (32, 32), (32, 5)], reuse_factor=r % 64 + 1)
    print(f"analytic estimate: {(time.perf_counter() - start) * 1e3:.1f} us per configuration")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer jets and widths (about 30 s)")
    main(parser.parse_args().quick)
