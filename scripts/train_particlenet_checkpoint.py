"""Train the pretrained ParticleNet-Lite shipped in hepml_nb/jets/pretrained/.

The checkpoint in the repository was made with the default arguments::

    python scripts/train_particlenet_checkpoint.py

(top vs QCD, 15,000 jets per class generated with seed 1001 -- different from the
notebook's seeds, so the notebook's test jets were never seen in training -- 80/10/10
split, ParticleNet-Lite, 12 epochs at most, batch 128, one-cycle LR up to 3e-3).
It writes ``particlenet_lite.pt`` and ``particlenet_lite.json`` (recipe, command,
timings and test metrics). About 15 minutes on 2 CPU cores; ``--device cuda`` trains
in about a minute on a GPU (generation stays on the CPU).
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from hepml_nb.core.metrics import tagging_summary
from hepml_nb.jets import load_jets, top_vs_qcd_files
from hepml_nb.jets.models import build_particlenet, count_parameters
from hepml_nb.jets.pretrained import PRETRAINED_DIR, save_checkpoint
from hepml_nb.jets.training import predict_scores, subset, train_particlenet, train_val_test_split


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-class", type=int, default=15000)
    parser.add_argument("--seed", type=int, default=1001)
    parser.add_argument("--model", default="particlenet_lite")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=PRETRAINED_DIR / "particlenet_lite.pt")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    data = load_jets(top_vs_qcd_files(args.n_per_class, seed=args.seed), max_particles=100)
    t_data = time.perf_counter() - start
    split = train_val_test_split(len(data), fractions=(0.8, 0.1, 0.1), seed=args.seed)
    torch.manual_seed(args.seed)
    model = build_particlenet(args.model, input_dims=data.features.shape[2], num_classes=2)
    result = train_particlenet(model, subset(data, split["train"]), subset(data, split["val"]),
                               epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                               patience=args.patience, device=args.device, seed=args.seed)
    test = subset(data, split["test"])
    scores = predict_scores(model, *test[:3], device=args.device)[:, 1]
    metrics = tagging_summary(test[3], scores)
    info = {
        "command": "python scripts/train_particlenet_checkpoint.py " + " ".join(argv or sys.argv[1:]),
        "recipe": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "data": {"processes": ["qcd", "top"], "pt_range": [550.0, 650.0], "eta_max": 2.0,
                 "max_particles": 100, "n_jets": len(data), "split": [0.8, 0.1, 0.1]},
        "feature_names": list(data.feature_names), "label_names": list(data.label_names),
        "parameters": count_parameters(model), "best_epoch": result.best_epoch,
        "history": result.history, "test_metrics": metrics,
        "seconds": {"data": round(t_data, 1), "training": round(result.seconds, 1)},
        "train_jets_per_s": round(result.jets_per_s, 1),
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__},
    }
    path = save_checkpoint(model, args.out, feature_names=data.feature_names, info=info)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB); test metrics {metrics}")


if __name__ == "__main__":
    main()
