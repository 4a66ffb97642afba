"""Jet generation speed: jets/s per core and the share of time inside Pythia8.

Usage::

    python benchmarks/bench_jets_generation.py [--quick] [--processes top qcd w z q g] [--jets N]
        [--detector cms-like|atlas-like|none]

One process, one core, no cache: ``generate_chunk`` times Pythia's ``nextBatch``
(hard process, showers, hadronisation, decays) separately from our own code
(clustering with FastJet, selection and matching, soft drop, N-subjettiness,
JetClass arrays) and from the detector response; each process runs with ``--detector``
and with ``none`` side by side. jets/s on all cores is the per-core figure times the cores
(an estimate, not a measured multi-worker run). Pythia initialisation counts as ours. The load average is printed
because the machine may be shared.
"""

from __future__ import annotations

import argparse
import os

from hepml_nb.jets.generation import DETECTORS, PROCESSES, generate_chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 jets per process instead of 400")
    parser.add_argument("--processes", nargs="+", default=list(PROCESSES), choices=list(PROCESSES))
    parser.add_argument("--jets", type=int, default=None, help="jets per process")
    parser.add_argument("--detector", default="cms-like", choices=DETECTORS)
    args = parser.parse_args()
    n = args.jets or (100 if args.quick else 400)
    print(
        f"{n} jets per process, pT 550-650 GeV, one core; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    cores = os.cpu_count() or 1
    print(f"{'process':8s} {'detector':10s} {'jets/s/core':>11s} {'x cores (est.)':>14s} {'jets/event':>10s} "
          f"{'Pythia':>7s} {'detector':>8s} {'outside Pythia':>14s}")  # fmt: skip
    for process in args.processes:
        for detector in dict.fromkeys((args.detector, "none")):
            out = generate_chunk(process, n, seed=1, detector=detector)
            t = out["timings"]
            share = t["pythia_s"] / t["total_s"]
            print(
                f"{process:8s} {detector:10s} {n / t['total_s']:11.1f} {cores * n / t['total_s']:14.1f} "
                f"{out['n_selected'] / out['n_events']:10.3f} {share:7.0%} {t['detector_s'] / t['total_s']:8.0%} "
                f"{1 - share:14.0%}"
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
