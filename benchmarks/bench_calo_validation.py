"""CPU cost of the validation metrics: classifier-test presets, FPD and KPD.

    python benchmarks/bench_calo_validation.py [--quick] [--full] [--threads N]

On 10k vs 10k GFlash showers (CaloGAN geometry, 504 cells) it times the classifier test
with the ``tutorial`` preset (20 epochs) and the ``challenge`` preset (3 x 2048 MLP,
batch 1000) on high-level and low-level inputs. The challenge preset's 50 epochs take
several minutes per level on 2 cores, so by default it runs ``--epochs 5`` and
extrapolates the training time linearly to 50 epochs (``--full``: all 50 epochs, about
10 minutes on 2 cores). Then FPD and KPD of the high-level features at 10k vs 10k and, on
resampled features, 50k vs 50k. ``--quick``: 2 challenge epochs and FPD/KPD at 10k only
(about a minute). Default run: about 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from hepml_nb.calo import classifier, gflash, validation
from hepml_nb.calo.features import feature_matrix, shower_features


def _time(label: str, fn):
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    print(f"{label:58s} {seconds:8.1f} s   {out}")
    return seconds, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 challenge epochs, FPD/KPD at 10k only")
    parser.add_argument("--full", action="store_true", help="all 50 epochs of the challenge preset")
    parser.add_argument("--epochs", type=int, default=None, help="challenge epochs to run (default 5; 2 quick)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("-n", type=int, default=10000, help="showers per sample (default 10000)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    full_epochs = classifier.PRESETS["challenge"].epochs
    epochs = full_epochs if args.full else args.epochs or (2 if args.quick else 5)
    print(f"torch threads: {threads}; {args.n:,} vs {args.n:,} showers (calogan)")

    start = time.perf_counter()
    a, b = (gflash.reference_showers(args.n, seed=s, progress=False)[0] for s in (101, 202))
    print(f"{'GFlash reference samples (cached after the first run)':58s} {time.perf_counter() - start:8.1f} s")

    def inputs(preset: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        cfg = classifier.PRESETS[preset]
        high = [classifier.high_level_inputs(s, representation=cfg.high_level) for s in (a, b)]
        low = [classifier.low_level_inputs(s, representation=cfg.low_level) for s in (a, b)]
        return {"high": tuple(high), "low": tuple(low)}

    for level, (x, y) in inputs("tutorial").items():
        _time(
            f"tutorial preset, {level}-level ({x.shape[1]} inputs), 20 epochs",
            lambda x=x, y=y: classifier.classifier_test(x, y, threads=1, progress=False).summary(),
        )
    for level, (x, y) in inputs("challenge").items():
        seconds, _ = _time(
            f"challenge preset, {level}-level ({x.shape[1]} inputs), {epochs} epochs",
            lambda x=x, y=y: classifier.classifier_test(
                x, y, preset="challenge", epochs=epochs, threads=threads, progress=False
            ).summary(),
        )
        if epochs != full_epochs:
            print(
                f"{'':4s}-> about {seconds * full_epochs / epochs / 60:.1f} min for the preset's {full_epochs} epochs"
            )

    fa, fb = shower_features(a), shower_features(b)
    _time(f"FPD, {len(fa)} features, {args.n:,} vs {args.n:,}", lambda: validation.frechet_physics_distance(fa, fb))
    _time(f"KPD, batch 5000 x 10, {args.n:,} vs {args.n:,}", lambda: validation.kernel_physics_distance(fa, fb))
    if not args.quick:
        rng = np.random.default_rng(0)
        xa, xb = feature_matrix(fa)[0], feature_matrix(fb)[0]
        big_a, big_b = xa[rng.integers(0, len(xa), 50000)], xb[rng.integers(0, len(xb), 50000)]
        _time(
            "FPD, 50,000 vs 50,000 (resampled features, timing only)",
            lambda: validation.frechet_physics_distance(big_a, big_b),
        )
        _time(
            "KPD, 50,000 vs 50,000 (resampled features, timing only)",
            lambda: validation.kernel_physics_distance(big_a, big_b),
        )


if __name__ == "__main__":
    main()
