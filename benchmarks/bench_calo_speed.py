"""Speed of the shower tools: the challenge's timing table and the validation suite on N vs N showers.

    python benchmarks/bench_calo_speed.py [--quick] [--threads N] [--batches 1 10 100 1000 10000]
        [--preset challenge|tutorial] [--full-suite] [--speed-only]

Prints the time per shower (ms) and showers/s of the GFlash reference simulation, the pretrained
GAN, the pretrained flow and the pretrained flow-matching model (CaloGAN geometry) at every batch
size, on the CPU and on the GPU where there is one, with the speed-up over GFlash at the same batch
size (the shape of the CaloChallenge timing table, arXiv:2410.21611); GFlash in the dataset-2 geometry for scale; and
the wall time of the whole validation suite (features, separation powers, low- and high-level
classifier tests with the chosen preset, FPD/KPD) on 100k vs 100k showers (10k with --quick).

The challenge preset trains its 3 x 2048 classifier for 50 epochs per input level, which on 100k
vs 100k takes most of an hour on a 2-core CPU. By default the suite is therefore timed in parts:
features, separation powers and FPD/KPD as they are, and each classifier test at 1 and at 3
epochs, which gives its fixed cost (split, calibration, bootstrap) and its cost per epoch; the
time of the whole suite is extrapolated linearly in epochs to the preset's count (training time
is linear in epochs: every epoch is the same number of identical batches). The suite's cost does
not depend on the generator, so this is done for the GAN. ``--full-suite`` runs the whole suite
with all epochs instead, for the GAN (about an hour on 2 CPU cores; minutes on a GPU).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the notebook runner: no busy-waiting threads on a shared CPU

import argparse
import time

import numpy as np
import pandas as pd
import torch

from hepml_nb.calo import classifier, data, flow, flowmatching, gan, gflash, study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="batches up to 1,000 and 10k showers in the suite")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--batches", type=int, nargs="+", default=None, help="batch sizes of the table")
    parser.add_argument("--preset", default="challenge", choices=("challenge", "tutorial"))
    parser.add_argument(
        "--full-suite", action="store_true", help="run the whole suite with all epochs (default: time it in parts)"
    )
    parser.add_argument("--speed-only", action="store_true", help="the timing table only, not the suite")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    batches = args.batches or ((1, 10, 100, 1000) if args.quick else (1, 10, 100, 1000, 10000))
    n_suite = 10000 if args.quick else 100000
    energies = lambda n: data.sample_incident_energies(n, e_min=1.0, e_max=100.0, seed=1)  # noqa: E731
    print(f"torch threads: {torch.get_num_threads()}")
    net, _ = gan.load_pretrained()
    flow_model, _ = flow.load_pretrained()
    fm_model, _ = flowmatching.load_pretrained()
    devices = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
    makers = {
        "GFlash, CaloGAN (cpu)": lambda n: gflash.simulate_showers(energies(n), seed=1, progress=False),
        "GFlash, dataset 2 (cpu)": lambda n: gflash.simulate_showers(
            energies(n), geometry="dataset2", seed=1, progress=False
        ),
    }
    for dev in devices:
        makers[f"GAN ({dev})"] = lambda n, dev=dev: gan.generate_showers(net, energies(n), batch_size=n, device=dev)
        makers[f"flow ({dev})"] = lambda n, dev=dev: flow.generate_showers(
            flow_model, energies(n), batch_size=n, device=dev
        )
        makers[f"flow matching ({dev})"] = lambda n, dev=dev: flowmatching.generate_showers(
            fm_model, energies(n), batch_size=n, device=dev
        )
    table = study.speed_table(makers, batch_sizes=batches, reference="GFlash, CaloGAN (cpu)", min_showers=100)
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.float_format", "{:.4g}".format):
        print("time per shower [ms] and speed-up over GFlash (CaloGAN geometry) at each batch size:")
        print(table)
        print("showers/s:")
        print((1e3 / table[[c for c in table if c.startswith("ms_")]]).rename(columns=lambda c: c[3:]).round(0))

    if args.speed_only:
        return
    reference, _ = gflash.reference_showers(n_suite, seed=11, progress=False)
    suite_device = devices[-1]
    print(
        f"validation suite ({args.preset} preset) on {n_suite:,} vs {n_suite:,} showers, classifier on {suite_device}:"
    )
    generated = gan.generate_showers(net, reference.e_inc, seed=1)
    if args.full_suite:
        start = time.perf_counter()
        result = study.validate_showers(
            reference, generated, preset=args.preset, seed=1, progress=False, device=suite_device, threads=None
        )
        seconds = time.perf_counter() - start
        print(
            f"  whole suite, GAN (measured): {seconds:.0f} s = {seconds / 60:.1f} min; AUC low/high = "
            f"{result.classifier['low'].auc:.3f}/{result.classifier['high'].auc:.3f}, "
            f"max separation power = {max(result.separation.values()):.3f}"
        )
    else:
        _time_suite_in_parts(reference, generated, args.preset, suite_device)
    print(
        f"peak array size of the suite: {reference.cells.nbytes * 2 / 1e6:.0f} MB of cells "
        f"({np.float32().nbytes} bytes per cell)"
    )


def _time_suite_in_parts(reference, generated, preset: str, device: str) -> None:
    """Time the suite's fixed parts once and each classifier test at 1 and 3 epochs; print the
    parts and the whole suite extrapolated to the preset's epochs."""
    start = time.perf_counter()
    study.validate_showers(reference, generated, levels=(), preset=preset, seed=1, progress=False)
    fixed = time.perf_counter() - start
    print(f"  features, separation powers, FPD and KPD: {fixed:.1f} s (measured)")
    epochs = classifier.PRESETS[preset].epochs
    total = fixed
    for level in study.LEVELS:
        seconds = []
        for n_epochs in (1, 3):
            start = time.perf_counter()
            classifier.shower_classifier_test(
                reference,
                generated,
                level=level,
                preset=preset,
                epochs=n_epochs,
                seed=1,
                threads=None,
                progress=False,
                device=device,
            )
            seconds.append(time.perf_counter() - start)
        per_epoch = (seconds[1] - seconds[0]) / 2
        overhead = seconds[0] - per_epoch
        total += overhead + epochs * per_epoch
        print(
            f"  {level}-level classifier: {seconds[0]:.1f} s at 1 epoch, {seconds[1]:.1f} s at 3 (measured): "
            f"{per_epoch:.1f} s per epoch + {overhead:.1f} s"
            f" -> {overhead + epochs * per_epoch:.0f} s at {epochs} epochs"
        )
    print(f"  whole suite, {epochs} epochs (extrapolated from the parts above): {total:.0f} s = {total / 60:.1f} min")


if __name__ == "__main__":
    main()
