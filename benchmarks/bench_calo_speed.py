"""Speed of the shower tools: GFlash and GAN showers/s, and the validation suite on N vs N showers.

    python benchmarks/bench_calo_speed.py [--quick] [--threads N]

Prints showers/s of the GFlash reference simulation (CaloGAN and dataset-2 geometries),
of the pretrained GAN on the CPU at batch size 1 and 10,000, and the wall time of the
validation suite (features, separation powers, low- and high-level classifier tests)
on 100k vs 100k showers (10k with --quick).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from hepml_nb.calo import gan, gflash, report


def _rate(label: str, make, n: int, repeats: int = 2) -> float:
    rate = report.showers_per_second(make, n, repeats=repeats)
    print(f"{label:42s} {rate:12,.0f} showers/s  (n = {n})")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller samples (about a minute)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads for the GAN (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    n_sim, n_suite = (2000, 10000) if args.quick else (10000, 100000)
    energies = lambda n: gflash.sample_incident_energies(n, e_min=1.0, e_max=100.0, seed=1)  # noqa: E731
    print(f"torch threads: {torch.get_num_threads()}")
    for geometry in ("calogan", "dataset2"):
        _rate(
            f"GFlash, {geometry}",
            lambda n, geometry=geometry: gflash.simulate_showers(
                energies(n), geometry=geometry, seed=1, progress=False
            ),
            n_sim,
            repeats=1,
        )
    net, config, _ = gan.load_pretrained()
    _rate("GAN (CPU), batch 1", lambda n: gan.generate_showers(net, energies(n), config=config, batch_size=1), 500)
    _rate(
        "GAN (CPU), batch 10000",
        lambda n: gan.generate_showers(net, energies(n), config=config, batch_size=10000),
        50000,
    )

    reference, _ = gflash.reference_showers(n_suite, seed=11, progress=False)
    generated = gan.generate_showers(net, reference.e_inc, config=config, seed=1)
    start = time.perf_counter()
    result = report.validate_showers(reference, generated, epochs=10, seed=1, progress=False)
    seconds = time.perf_counter() - start
    print(
        f"validation suite, {n_suite:,} vs {n_suite:,} showers (10 classifier epochs): {seconds:.1f} s; "
        f"AUC low/high = {result.classifier['low'].auc:.3f}/{result.classifier['high'].auc:.3f}, "
        f"max separation power = {max(result.separation.values()):.3f}"
    )
    print(
        f"peak array size of the suite: {reference.cells.nbytes * 2 / 1e6:.0f} MB of cells "
        f"({np.float32().nbytes} bytes per cell)"
    )


if __name__ == "__main__":
    main()
