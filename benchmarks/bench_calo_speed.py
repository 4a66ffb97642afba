"""Speed of the shower tools: the challenge's timing table and the validation suite on N vs N showers.

    python benchmarks/bench_calo_speed.py [--quick] [--threads N] [--batches 1 10 100 1000 10000]
        [--preset challenge|tutorial]

Prints the time per shower (ms) and showers/s of the GFlash reference simulation, the pretrained
GAN and the pretrained flow (CaloGAN geometry) at every batch size, on the CPU and on the GPU
where there is one, with the speed-up over GFlash at the same batch size (the shape of the
CaloChallenge timing table, arXiv:2410.21611); GFlash in the dataset-2 geometry for scale; and
the wall time of the whole validation suite (features, separation powers, low- and high-level
classifier tests with the chosen preset, FPD/KPD) on 100k vs 100k showers (10k with --quick).
The challenge preset (3 x 2048 units, 50 epochs) on 100k vs 100k takes hours on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from hepml_nb.calo import flow, gan, gflash, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="batches up to 1,000 and 10k showers in the suite")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--batches", type=int, nargs="+", default=None, help="batch sizes of the table")
    parser.add_argument("--preset", default="challenge", choices=("challenge", "tutorial"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    batches = args.batches or ((1, 10, 100, 1000) if args.quick else (1, 10, 100, 1000, 10000))
    n_suite = 10000 if args.quick else 100000
    energies = lambda n: gflash.sample_incident_energies(n, e_min=1.0, e_max=100.0, seed=1)  # noqa: E731
    print(f"torch threads: {torch.get_num_threads()}")
    net, config, _ = gan.load_pretrained()
    flow_model, _ = flow.load_pretrained()
    devices = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
    makers = {
        "GFlash, CaloGAN (cpu)": lambda n: gflash.simulate_showers(energies(n), seed=1, progress=False),
        "GFlash, dataset 2 (cpu)": lambda n: gflash.simulate_showers(
            energies(n), geometry="dataset2", seed=1, progress=False
        ),
    }
    for dev in devices:
        makers[f"GAN ({dev})"] = lambda n, dev=dev: gan.generate_showers(
            net, energies(n), config=config, batch_size=n, device=dev
        )
        makers[f"flow ({dev})"] = lambda n, dev=dev: flow.generate_showers(
            flow_model, energies(n), batch_size=n, device=dev
        )
    table = report.speed_table(makers, batch_sizes=batches, reference="GFlash, CaloGAN (cpu)", min_showers=100)
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.float_format", "{:.4g}".format):
        print("time per shower [ms] and speed-up over GFlash (CaloGAN geometry) at each batch size:")
        print(table)
        print("showers/s:")
        print((1e3 / table[[c for c in table if c.startswith("ms_")]]).rename(columns=lambda c: c[3:]).round(0))

    reference, _ = gflash.reference_showers(n_suite, seed=11, progress=False)
    for name, make in (
        ("GAN", lambda e: gan.generate_showers(net, e, config=config, seed=1)),
        ("flow", lambda e: flow.generate_showers(flow_model, e, seed=1)),
    ):
        generated = make(reference.e_inc)
        start = time.perf_counter()
        result = report.validate_showers(reference, generated, preset=args.preset, seed=1, progress=False)
        seconds = time.perf_counter() - start
        print(
            f"validation suite ({args.preset} preset), {name}, {n_suite:,} vs {n_suite:,} showers: {seconds:.1f} s; "
            f"AUC low/high = {result.classifier['low'].auc:.3f}/{result.classifier['high'].auc:.3f}, "
            f"max separation power = {max(result.separation.values()):.3f}"
        )
    print(
        f"peak array size of the suite: {reference.cells.nbytes * 2 / 1e6:.0f} MB of cells "
        f"({np.float32().nbytes} bytes per cell)"
    )


if __name__ == "__main__":
    main()
