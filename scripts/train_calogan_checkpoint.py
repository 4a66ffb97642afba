"""Train the small pretrained shower generators shipped in hepml_nb/calo/pretrained/: the WGAN-GP, the flow or
the flow-matching model.

The recipe card (the command, every argument, the versions, the time it took and the final
validation numbers; see hepml_nb.core.checkpoints) is written next to the weights as JSON, so the checkpoint can be
reproduced with the same command. Default recipe: 40,000 GFlash electron showers in
the CaloGAN geometry (504 cells), uniform 1-100 GeV, 4,000 generator iterations with
batch 128 and 4 critic updates each, on one CPU thread (about 10 minutes on an idle core; the shipped
checkpoint took 19 minutes on a 2-core machine shared with other jobs: see train_seconds
in the JSON).

    python scripts/train_calogan_checkpoint.py [--iterations N] [--device cpu|cuda] [--out PATH]

``--model flow`` trains the CaloFlow-style normalizing flow (hepml_nb.calo.flow) on the same
showers instead, for ``--epochs`` epochs (batch ``--batch-size``, learning rate ``--lr``, cosine
annealed), and writes ``calo_flow.pt``; the validation numbers are computed on the same held-out
showers. The shipped flow::

    python scripts/train_calogan_checkpoint.py --model flow --n-train 40000 --epochs 40 --batch-size 256 \
        --lr 0.0003 --threads 2

``--model flowmatching`` trains the two-stage conditional flow-matching model (hepml_nb.calo.flowmatching) for
``--iterations`` optimiser steps of ``--batch-size`` showers at peak learning rate ``--lr``, validating every
``--validate-every`` steps, and writes ``calo_flow_matching.pt``. The recipe card records the wall time and the
CPU time of the training (``train_seconds``, ``train_cpu_seconds``) and the CPU. The shipped model (run with
``nice -n 10`` on the 2-core machine shared with other jobs; its time is on the card)::

    python scripts/train_calogan_checkpoint.py --model flowmatching --n-train 40000 --iterations 8000 \
        --batch-size 256 --lr 0.001 --validate-every 2500 --threads 2

The script sets ``OMP_WAIT_POLICY=PASSIVE`` (unless set) before torch loads: with busy-waiting OpenMP threads,
two torch threads on an oversubscribed 2-core machine ran 5 to 10 times slower than one.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: no busy-waiting threads on a shared CPU

import argparse
import platform
import time

import numpy as np
import torch

from hepml_nb.calo import data, features, flow, flowmatching, gan, gflash, validation
from hepml_nb.core.checkpoints import recipe_card
from hepml_nb.core.devices import cpu_threads


def _validator(reference: data.ShowerSet, make, seed: int):
    """``validate(model)``: separation powers of a few features of ``make(model, e_inc, seed)`` showers."""
    ref_feats = features.shower_features(reference)
    keys = ["etot_over_einc", "efrac_0", "efrac_1", "efrac_2", "width_x_1", "sparsity_1"]

    def validate(model) -> dict:
        gen_feats = features.shower_features(make(model, reference.e_inc, seed))
        return {f"sep_{k}": validation.separation_power(ref_feats[k], gen_feats[k]) for k in keys}

    return validate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("gan", "flow", "flowmatching"), default="gan")
    parser.add_argument("--n-train", type=int, default=40000, help="GFlash training showers")
    parser.add_argument("--epochs", type=int, default=30, help="training epochs (flow)")
    parser.add_argument("--iterations", type=int, default=4000, help="generator updates (flowmatching: steps)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--n-critic", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--validate-every", type=int, default=500)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a contended 2-core machine)"
    )
    parser.add_argument("--out", help="weights file (default: calogan_generator.pt or calo_flow.pt in the package)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.model == "flow":
        _train_flow(args)
        return
    if args.model == "flowmatching":
        _train_flow_matching(args)
        return

    config = gan.GanConfig()
    train, held_out = _samples(config, args)
    result = gan.train_wgan_gp(
        train,
        config=config,
        n_iterations=args.iterations,
        batch_size=args.batch_size,
        n_critic=args.n_critic,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        validate_every=args.validate_every,
        validate=_validator(held_out, lambda m, e, seed: gan.generate_showers(m, e, seed=seed), args.seed),
    )
    last = [h for h in result.history if any(k.startswith("sep_") for k in h)][-1]
    recipe = _recipe(args, last, result.seconds, result.history)
    path = gan.save_generator(result.model, args.out or gan.PRETRAINED_DIR / "calogan_generator.pt", recipe=recipe)
    _report(path, result.seconds, last)


def _train_flow(args) -> None:
    config = flow.FlowConfig()
    train, held_out = _samples(config, args)
    result = flow.train_flow(
        train,
        config=config,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
    )
    validate = _validator(held_out, lambda m, e, seed: flow.generate_showers(m, e, seed=seed), args.seed)
    last = {"epoch": result.history[-1]["epoch"], **validate(result.model)}
    recipe = _recipe(args, last, result.seconds, result.history)
    path = flow.save_flow(result.model, args.out or flow.PRETRAINED_DIR / "calo_flow.pt", recipe=recipe)
    _report(path, result.seconds, last)


def _train_flow_matching(args) -> None:
    config = flowmatching.FlowMatchingConfig()
    train, held_out = _samples(config, args)
    validate = _validator(held_out, lambda m, e, seed: flowmatching.generate_showers(m, e, seed=seed), args.seed)
    cpu = time.process_time()
    result = flowmatching.train_flow_matching(
        train,
        config=config,
        steps=args.iterations,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        validate_every=args.validate_every,
        validate=validate,
    )
    cpu = time.process_time() - cpu
    last = [h for h in result.history if any(k.startswith("sep_") for k in h)][-1]
    recipe = _recipe(args, last, result.seconds, result.history)
    recipe.update(train_cpu_seconds=round(cpu, 1), cpu=_cpu_name())
    path = flowmatching.save_model(
        result.model, args.out or flowmatching.PRETRAINED_DIR / "calo_flow_matching.pt", recipe=recipe
    )
    _report(path, result.seconds, last)


def _cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo where there is one) and the cores this process may use."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            name = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name}, {cpu_threads()} cores"


def _samples(config, args) -> tuple[data.ShowerSet, data.ShowerSet]:
    """The GFlash training showers and 4,000 held-out ones (another seed) in the config's geometry and range."""
    kwargs = {"geometry": config.geometry, "e_min": config.e_min, "e_max": config.e_max}
    train, _ = gflash.reference_showers(args.n_train, seed=args.seed, **kwargs)
    held_out, _ = gflash.reference_showers(4000, seed=args.seed + 1, **kwargs)
    return train, held_out


def _recipe(args, metrics: dict, seconds: float, history) -> dict:
    """The recipe card: the exact command, every argument, the metrics, the reference sample."""
    arguments = {k: v for k, v in vars(args).items() if k != "out"}
    return recipe_card(
        command="python scripts/train_calogan_checkpoint.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in arguments.items()),
        parameters=arguments,
        metrics=metrics,
        reference={
            "generator": gflash.GENERATOR_VERSION,
            "particle": "electron",
            "spectrum": "uniform",
            "n_train": args.n_train,
        },
        train_seconds=round(seconds, 1),
        history=history.to_records(),
    )


def _report(path, seconds: float, last: dict) -> None:
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) after {seconds:.0f} s; last validation:")
    for k, v in last.items():
        print(f"  {k}: {np.round(v, 4)}")


if __name__ == "__main__":
    main()
