"""Train the small pretrained conditional WGAN-GP shipped in hepml_nb/calo/pretrained/.

The recipe card (the command, every argument, the versions, the time it took and the final
validation numbers; see hepml_nb.core.checkpoints) is written next to the weights as JSON, so the checkpoint can be
reproduced with the same command. Default recipe: 40,000 GFlash electron showers in
the CaloGAN geometry (504 cells), uniform 1-100 GeV, 4,000 generator iterations with
batch 128 and 4 critic updates each, on one CPU thread (about 10 minutes on an idle core; the shipped
checkpoint took 19 minutes on a 2-core machine shared with other jobs: see train_seconds
in the JSON).

    python scripts/train_calogan_checkpoint.py [--iterations N] [--device cpu|cuda] [--out PATH]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from hepml_nb.calo import features, gan, gflash, validation
from hepml_nb.core.checkpoints import recipe_card


def _validator(reference: gflash.ShowerSet, config: gan.GanConfig, seed: int):
    ref_feats = features.shower_features(reference)
    keys = ["etot_over_einc", "efrac_0", "efrac_1", "efrac_2", "width_x_1", "sparsity_1"]

    def validate(generator) -> dict:
        fake = gan.generate_showers(generator, reference.e_inc, config=config, seed=seed)
        gen_feats = features.shower_features(fake)
        return {f"sep_{k}": validation.separation_power(ref_feats[k], gen_feats[k]) for k in keys}

    return validate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-train", type=int, default=40000, help="GFlash training showers")
    parser.add_argument("--iterations", type=int, default=4000, help="generator updates")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--n-critic", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--validate-every", type=int, default=500)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a contended 2-core machine)"
    )
    parser.add_argument("--out", default=str(gan.PRETRAINED_DIR / "calogan_generator.pt"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    config = gan.GanConfig()
    train, _ = gflash.reference_showers(
        args.n_train, geometry=config.geometry, e_min=config.e_min, e_max=config.e_max, seed=args.seed
    )
    held_out, _ = gflash.reference_showers(
        4000, geometry=config.geometry, e_min=config.e_min, e_max=config.e_max, seed=args.seed + 1
    )
    start = time.perf_counter()
    generator, history = gan.train_wgan_gp(
        train,
        config=config,
        n_iterations=args.iterations,
        batch_size=args.batch_size,
        n_critic=args.n_critic,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        validate_every=args.validate_every,
        validate=_validator(held_out, config, args.seed),
    )
    seconds = time.perf_counter() - start
    last = [h for h in history if any(k.startswith("sep_") for k in h)][-1]
    arguments = {k: v for k, v in vars(args).items() if k != "out"}
    recipe = recipe_card(
        command="python scripts/train_calogan_checkpoint.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in arguments.items()),
        parameters=arguments,
        metrics=last,
        reference={
            "generator": gflash.GENERATOR_VERSION,
            "particle": "electron",
            "spectrum": "uniform",
            "n_train": args.n_train,
        },
        train_seconds=round(seconds, 1),
        history=history.to_records(),
    )
    path = gan.save_generator(generator, config, args.out, recipe=recipe)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) after {seconds:.0f} s; last validation:")
    for k, v in last.items():
        print(f"  {k}: {np.round(v, 4)}")


if __name__ == "__main__":
    main()
