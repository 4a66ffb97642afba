"""Train a pretrained tagger shipped in hepml_nb/jets/pretrained/ (ParticleNet-Lite, the small ParT).

One command generates the jets and trains::

    python scripts/train_tagger_checkpoint.py [--model particlenet_lite|part_small|particlenet|part]
        [--device cuda] [--epochs 30 --patience 6] [--out FILE]

(top vs QCD, 15,000 jets per class and per seed by default, seeds 1001 and 1002 -- different
from the notebook's seeds, so the notebook's test jets were never seen in training --
80/10/10 split, ParticleNet-Lite unless ``--model``, batch 128, one-cycle LR up to 3e-3). It writes
``<model>.pt`` and its recipe card ``<model>.json`` (or ``--out``; exact command, parameters,
history, timings, test metrics with the 68 % Clopper-Pearson intervals of 1/eps_B, and versions;
see hepml_nb.core.checkpoints).

The shipped ParticleNet-Lite (generator ``jets-4``: the cms-like detector, JetClass's 17-input
``full`` feature set) was made on 2 shared CPU cores, without a GPU, with a smaller recipe than the
defaults::

    python scripts/train_tagger_checkpoint.py --n-per-class 10000 --seed 1001 --epochs 12 \
        --patience 4 --device cpu

The small ParT: the same with ``--model part_small``. A quick end-to-end check (a minute or two)::

    python scripts/train_tagger_checkpoint.py --model part_small --n-per-class 300 --seed 1 \
        --epochs 1 --out /tmp/part_small.pt

(measured for the shipped files: generation of the 20,000 cms-like jets 291 s on 2 cores, training
512 s for ParticleNet-Lite (344 jets/s, best epoch 7) and 681 s for the small ParT (282 jets/s, best
epoch 9), on a machine shared with other jobs). With a
GPU, the default recipe (60,000 jets, ``--device cuda --epochs 30 --patience 6``) trains in ~90 s.

Generation needs Pythia8 and the training a GPU only for speed, so the two steps can
run on different machines::

    python scripts/train_tagger_checkpoint.py --save-arrays build/pn_arrays.npz   # CPU machine
    python scripts/train_tagger_checkpoint.py --from-arrays build/pn_arrays.npz --device cuda \
        --epochs 30 --patience 6

The arrays file holds the inputs of the real particles only (compressed, continuous feature
columns rounded to float16; with ``--model part*`` also the four-vectors, in float32, which the
pair features need at full precision: about 2.5 times larger).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from hepml_nb.core.checkpoints import recipe_card
from hepml_nb.core.metrics import rejection_summary, tagging_summary
from hepml_nb.jets import DETECTORS, GENERATOR_VERSION, load_jets, top_vs_qcd_files
from hepml_nb.jets.features import FEATURE_SETS
from hepml_nb.jets.models import TAGGERS, build_tagger, count_parameters
from hepml_nb.jets.pretrained import PRETRAINED_DIR, save_checkpoint
from hepml_nb.jets.training import predict_scores, subset, train_tagger, train_val_test_split


class Arrays(NamedTuple):
    """The parts of a JetData the training needs."""

    points: np.ndarray
    features: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    feature_names: tuple
    label_names: tuple
    four_vectors: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)


def write_arrays(path: Path, data, *, four_vectors: bool = False) -> None:
    """Real particles only (packed) plus counts, compressed; integer-valued columns as int8,
    the others rounded to float16 (to move 60,000 jets in under 64 MB); ``four_vectors=True``
    adds the (packed, float32) four-vectors a ParT needs.

    The points are the ``deta``, ``dphi`` feature columns, so they are not stored twice.
    """
    extra = {"four_vectors": data.four_vectors[data.mask].astype(np.float32)} if four_vectors else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    packed = data.features[data.mask]
    discrete = np.array([np.array_equal(c, np.round(c)) and np.abs(c).max() < 100 for c in packed.T])
    np.savez_compressed(
        path,
        continuous=packed[:, ~discrete].astype(np.float16),
        discrete=packed[:, discrete].astype(np.int8),
        is_discrete=discrete,
        counts=data.mask.sum(1),
        labels=data.labels,
        width=data.mask.shape[1],
        feature_names=np.array(data.feature_names),
        label_names=np.array(data.label_names),
        **extra,
    )


def read_arrays(path: Path) -> Arrays:
    """Inverse of :func:`write_arrays` (particles are stored in order, so the padding is rebuilt)."""
    with np.load(path) as f:
        counts, width, discrete = f["counts"], int(f["width"]), f["is_discrete"]
        names = tuple(f["feature_names"].tolist())
        mask = np.arange(width)[None, :] < counts[:, None]
        features = np.zeros((*mask.shape, len(names)), np.float32)
        packed = np.zeros((int(counts.sum()), len(names)), np.float32)
        packed[:, ~discrete], packed[:, discrete] = f["continuous"], f["discrete"]
        features[mask] = packed
        points = features[..., [names.index("deta"), names.index("dphi")]].copy()
        four = None
        if "four_vectors" in f:
            four = np.zeros((*mask.shape, 4), np.float32)
            four[mask] = f["four_vectors"]
        return Arrays(points, features, mask, f["labels"], names, tuple(f["label_names"].tolist()), four)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-class", type=int, default=15000)
    parser.add_argument(
        "--seed",
        type=int,
        nargs="+",
        default=[1001, 1002],
        help="generation seeds; each adds --n-per-class jets per class; the first seeds the split",
    )
    parser.add_argument("--model", default="particlenet_lite", choices=TAGGERS)
    parser.add_argument("--detector", default="cms-like", choices=DETECTORS)
    parser.add_argument("--feature-set", default="full", choices=tuple(FEATURE_SETS), help="JetClass input set")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, help="weights file (default: hepml_nb/jets/pretrained/<model>.pt)")
    parser.add_argument("--save-arrays", type=Path, help="generate, write the input arrays here and stop")
    parser.add_argument("--from-arrays", type=Path, help="train on arrays written by --save-arrays")
    args = parser.parse_args(argv)
    out = args.out or PRETRAINED_DIR / f"{args.model}.pt"

    start = time.perf_counter()
    if args.from_arrays:
        data = read_arrays(args.from_arrays)
    else:
        files = [f for seed in args.seed for f in top_vs_qcd_files(args.n_per_class, seed=seed, detector=args.detector)]
        data = load_jets(files, max_particles=100, feature_set=args.feature_set)
    if args.save_arrays:
        needs = build_tagger(args.model, input_dims=data.features.shape[2]).inputs
        write_arrays(args.save_arrays, data, four_vectors="four_vectors" in needs)
        print(f"wrote {args.save_arrays} ({args.save_arrays.stat().st_size / 2**20:.1f} MiB)")
        return
    t_data = time.perf_counter() - start
    split = train_val_test_split(len(data), fractions=(0.8, 0.1, 0.1), seed=args.seed[0])
    with torch.random.fork_rng(devices=[]):  # the weight initialisation draws from its own seeded stream
        torch.manual_seed(args.seed[0])
        model = build_tagger(args.model, input_dims=data.features.shape[2], num_classes=2)
    result = train_tagger(
        model,
        subset(data, split["train"], model),
        subset(data, split["val"], model),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        device=args.device,
        seed=args.seed[0],
    )
    test = subset(data, split["test"], model)
    scores = predict_scores(model, *test[:-1], device=args.device)[:, 1]
    metrics = {**tagging_summary(test[-1], scores), **rejection_summary(test[-1], scores)}
    info = recipe_card(
        command="python scripts/train_tagger_checkpoint.py " + " ".join(argv or sys.argv[1:]),
        parameters={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        metrics=metrics,
        data={
            "generator_version": GENERATOR_VERSION,
            "processes": ["qcd", "top"],
            "detector": args.detector,
            "feature_set": args.feature_set,
            "pt_range": [550.0, 650.0],
            "eta_max": 2.0,
            "max_particles": 100,
            "n_jets": len(data),
            "split": [0.8, 0.1, 0.1],
        },
        feature_names=list(data.feature_names),
        label_names=list(data.label_names),
        n_parameters=count_parameters(model),
        best_epoch=result.best_epoch,
        history=result.history.to_records(),
        inputs_rounded_to_float16=bool(args.from_arrays),
        seconds={"data": round(t_data, 1), "training": round(result.seconds, 1)},
        train_jets_per_s=round(result.per_second, 1),
    )
    path = save_checkpoint(model, out, feature_names=data.feature_names, info=info)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB); test metrics {metrics}")


if __name__ == "__main__":
    main()
