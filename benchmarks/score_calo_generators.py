"""Score the shower generators with the ``challenge`` high-level classifier, as notebook 03's ``default`` profile does.

    python benchmarks/score_calo_generators.py [--split test|held-out] [--models floor gan flow flowmatching]
        [--flowmatching PATH [PATH ...]] [--n-eval 20000] [--n-challenge 2000] [--levels high]
        [--preset challenge|tutorial] [--threads 2] [--json FILE]

``--split test`` rebuilds the notebook's own samples (``default``: seed 1): the reference is GFlash
``reference_showers(20000, seed=1)``, the floor sample ``seed=1001``; every generator makes one shower per
reference energy with ``seed=1``; the first ``--n-challenge`` (2,000) of each are scored with
``study.validate_showers(..., levels=("high",), preset="challenge", distances=False, seed=1)``. That is
the notebook's challenge table, row for row. ``--split held-out`` does the same with seed 7 (reference),
1007 (floor) and generation seed 7: showers neither the notebook nor any training recipe uses, for
tuning (training uses seeds 2024 and 2025).

Prints one row per model: the AUC and JSD with their bootstrap errors, the showers generated per second,
and the separation powers of the features (30 bins, on the ``--n-challenge`` showers) where the model is
furthest from the reference. ``--flowmatching`` scores flow-matching checkpoints (default: the shipped one).
``--preset tutorial --n-challenge 20000 --levels low high`` gives the notebook's tutorial-preset rows instead
(its ``classifier_epochs``, 20, are the preset's). ``--json`` rows carry the command, commit and date;
``benchmarks/tables.py`` renders a ``benchmarks/results/<name>.jsonl`` into a guide's ``score-<name>`` block.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from hepml_nb.calo import data, features, flow, flowmatching, gan, gflash, study, validation
from hepml_nb.course.runcard import source_version

#: Seed of each split (the reference and the generated showers); the floor sample uses seed + 1000, as the notebook.
SPLITS = {"test": 1, "held-out": 7}
MODELS = ("floor", "gan", "flow", "flowmatching")
FLOOR = "floor (GFlash vs GFlash)"


def _makers(models: list[str], checkpoints: list[str], floor: data.ShowerSet) -> dict[str, Callable]:
    """``{label: make(e_inc, seed) -> ShowerSet}`` for the asked models (the floor's sample is made beforehand)."""
    out: dict[str, Callable] = {}
    if "floor" in models:
        out[FLOOR] = lambda _e, _s: floor  # the second reference sample, as it is
    if "gan" in models:
        net, _ = gan.load_pretrained()
        out["GAN (shipped)"] = lambda e, s: gan.generate_showers(net, e, seed=s)
    if "flow" in models:
        flow_model, _ = flow.load_pretrained()
        out["flow (shipped)"] = lambda e, s: flow.generate_showers(flow_model, e, seed=s)
    if "flowmatching" in models:
        for path in checkpoints or [str(flowmatching.PRETRAINED_DIR / "calo_flow_matching.pt")]:
            model, _ = flowmatching.load_model(path, geometry="calogan")
            make = lambda e, s, m=model: flowmatching.generate_showers(m, e, seed=s)  # noqa: E731
            out[f"flow matching ({Path(path).name})"] = make
    return out


def score(
    make: Callable,
    reference: data.ShowerSet,
    *,
    seed: int,
    n_challenge: int,
    levels: tuple[str, ...],
    preset: str = "challenge",
) -> dict:
    """One row of the table: the classifier results with ``preset`` and the separation powers."""
    start = time.perf_counter()
    made = make(reference.e_inc, seed)
    rate = len(made) / max(time.perf_counter() - start, 1e-9)
    ref, gen = reference.subset(slice(0, n_challenge)), made.subset(slice(0, n_challenge))
    rep = study.validate_showers(ref, gen, levels=levels, preset=preset, distances=False, seed=seed, progress=False)
    sep = validation.feature_separation(features.shower_features(ref), features.shower_features(gen))
    row: dict = {"showers_per_s": round(rate, 1)}
    for level, res in rep.classifier.items():
        row[f"auc_{level}"], row[f"auc_err_{level}"] = round(res.auc, 4), round(res.auc_err, 4)
        row[f"jsd_{level}"], row[f"jsd_err_{level}"] = round(res.jsd, 4), round(res.jsd_err, 4)
    row["sep"] = {k: round(v, 4) for k, v in sep.items()}
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=tuple(SPLITS), default="test")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--flowmatching", nargs="+", default=[], help="flow-matching checkpoints (.pt)")
    parser.add_argument("--n-eval", type=int, default=20000, help="reference showers (the notebook's n_eval)")
    parser.add_argument("--n-challenge", type=int, default=2000, help="showers per sample in the classifier test")
    parser.add_argument("--levels", nargs="+", default=["high"], choices=("low", "high"))
    parser.add_argument("--preset", default="challenge", choices=("challenge", "tutorial"))
    parser.add_argument("--threads", type=int, default=2, help="torch threads while generating")
    parser.add_argument("--json", help="append the rows to this JSON-lines file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seed = SPLITS[args.split]
    reference, _ = gflash.reference_showers(args.n_eval, seed=seed, progress=False)
    floor, _ = gflash.reference_showers(args.n_eval, seed=seed + 1000, progress=False)
    print(
        f"split {args.split}: reference seed {seed}, floor seed {seed + 1000}, generation seed {seed}; "
        f"{args.n_challenge:,} vs {args.n_challenge:,} showers, {args.preset} preset"
    )
    rows = {}
    made_by = {
        "n": args.n_challenge,
        "command": "python benchmarks/score_calo_generators.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "commit": (source_version().get("commit") or "?")[:8],
        "date": _dt.date.today().isoformat(),
    }
    for name, make in _makers(args.models, args.flowmatching, floor).items():
        start = time.perf_counter()
        rows[name] = score(
            make, reference, seed=seed, n_challenge=args.n_challenge, levels=tuple(args.levels), preset=args.preset
        )
        print(f"  {name}: done in {time.perf_counter() - start:.0f} s", flush=True)
        if args.json:
            with open(args.json, "a") as fh:
                row = {"name": name, "split": args.split, "preset": args.preset, **made_by, **rows[name]}
                fh.write(json.dumps(row) + "\n")
    _print(rows, tuple(args.levels))


def _print(rows: dict[str, dict], levels: tuple[str, ...]) -> None:
    table = pd.DataFrame(
        {
            name: {
                **{f"AUC {lv}": f"{r[f'auc_{lv}']:.3f} ± {r[f'auc_err_{lv}']:.3f}" for lv in levels},
                **{f"JSD {lv}": f"{r[f'jsd_{lv}']:.3f} ± {r[f'jsd_err_{lv}']:.3f}" for lv in levels},
                "showers/s": "-" if name == FLOOR else f"{r['showers_per_s']:.0f}",
                "worst separation powers": ", ".join(
                    f"{k} {v:.3f}" for k, v in sorted(r["sep"].items(), key=lambda kv: -kv[1])[:4]
                ),
            }
            for name, r in rows.items()
        }
    ).T
    with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", 90):
        print(table)
    if rows:
        sums = {name: round(float(np.sum(list(r["sep"].values()))), 3) for name, r in rows.items()}
        print("sum of the 19 separation powers:", sums)


if __name__ == "__main__":
    main()
