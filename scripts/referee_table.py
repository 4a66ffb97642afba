"""The published JetClass ParticleNet as a referee of the project's jets, per QCD background and detector.

For each QCD recipe (``dijet``, ``znunu``) and detector (``none``, ``cms-like``, ``atlas-like``) the
script generates (or reads from the cache) top and QCD jets with :func:`hepml_nb.jets.generate_jets`,
runs the published model on them (:func:`hepml_nb.jets.jetclass.jetclass_probabilities`, one torch
thread, small batches) and reports, per true class, the mean 10-class output and the fraction of
jets whose largest output is the right JetClass class (:func:`hepml_nb.jets.study.referee_from_probabilities`),
the QCD argmax fraction for gluon- and quark-matched jets apart, and the top-vs-QCD rejection
``1/eps_B`` at eps_S = 50 % of JetClass's discriminant ``p_Tbqq / (p_Tbqq + p_QCD)`` with its 68 %
Clopper-Pearson interval (:func:`hepml_nb.core.metrics.rejection_interval`). Issue 24, item 5.

Usage (the guide's table; generation about 4 ms per event, run it niced)::

    nice -n 10 python scripts/referee_table.py --model ../shared/jetclass/ParticleNet_full.pt \\
        --n-top 5000 --n-qcd 5000 --qcd-for znunu:cms-like=30000 --json referee.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from hepml_nb.core.metrics import rejection_interval, tagging_summary
from hepml_nb.course.runcard import source_version
from hepml_nb.jets import BACKGROUNDS, DETECTORS, GENERATOR_VERSION, generate_jets, load_jets, parton_fractions
from hepml_nb.jets.jetclass import JETCLASS_MAX_PARTICLES, binary_score, jetclass_probabilities, load_jetclass
from hepml_nb.jets.study import referee_from_probabilities, referee_markdown


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a published JetClass model, e.g. ParticleNet_full.pt")
    parser.add_argument("--n-top", type=int, default=5000, help="top jets per detector")
    parser.add_argument("--n-qcd", type=int, default=5000, help="QCD jets per background and detector")
    parser.add_argument("--qcd-for", action="append", default=[], metavar="BACKGROUND:DETECTOR=N",
                        help="another number of QCD jets for one configuration (repeatable)")  # fmt: skip
    parser.add_argument("--backgrounds", nargs="+", default=list(BACKGROUNDS), choices=BACKGROUNDS)
    parser.add_argument("--detectors", nargs="+", default=list(DETECTORS), choices=DETECTORS)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--n-workers", type=int, default=2, help="generation worker processes")
    parser.add_argument("--batch-size", type=int, default=32, help="jets per forward pass (small: fewer page faults)")
    parser.add_argument("--json", type=Path, help="write the rows there")
    parser.add_argument("--outputs", type=Path, help="folder that keeps the model's outputs per file (resumable)")
    return parser.parse_args()


def _qcd_counts(args) -> dict[tuple[str, str], int]:
    counts = {}
    for item in args.qcd_for:
        config, _, n = item.partition("=")
        background, _, detector = config.partition(":")
        if background not in BACKGROUNDS or detector not in DETECTORS or not n.isdigit():
            raise SystemExit(f"--qcd-for takes BACKGROUND:DETECTOR=N (e.g. znunu:cms-like=30000), got {item!r}")
        counts[(background, detector)] = int(n)
    return counts


class _Outputs:
    """The model's outputs per generated file, computed once (top files serve both backgrounds) and, with
    ``folder``, kept there (``<file>.<model>.npz``) so that a rerun only computes what is new."""

    def __init__(self, model, batch_size: int, folder: Path | None):
        self.model, self.batch_size, self.folder, self.seen = model, batch_size, folder, {}

    def _compute(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        data = load_jets(path, feature_set=self.model.feature_set, max_particles=JETCLASS_MAX_PARTICLES)
        start = time.perf_counter()
        probabilities = jetclass_probabilities(self.model, data, batch_size=self.batch_size)
        print(f"  {len(data)} jets of {path.name}: {len(data) / (time.perf_counter() - start):.0f} jets/s", flush=True)
        return probabilities, np.abs(np.asarray(data.jets["parton"]))

    def __call__(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        if path not in self.seen:
            kept = self.folder / f"{path.stem}.{Path(self.model.source).stem}.npz" if self.folder else None
            if kept is not None and kept.exists():
                with np.load(kept, allow_pickle=False) as f:
                    self.seen[path] = (f["probabilities"], f["partons"])
            else:
                self.seen[path] = self._compute(path)
                if kept is not None:
                    np.savez(kept, probabilities=self.seen[path][0], partons=self.seen[path][1])
        return self.seen[path]


def _row(background: str, detector: str, top, qcd) -> dict:
    (p_top, _), (p_qcd, parton) = top, qcd
    p = np.concatenate([p_qcd, p_top])
    labels = np.concatenate([np.zeros(len(p_qcd), int), np.ones(len(p_top), int)])
    result = referee_from_probabilities(p, labels, ("qcd", "top"))
    y, score = labels, binary_score(p, "top")
    rej = rejection_interval(y, score, 0.5)
    qcd_right = p_qcd.argmax(axis=1) == 0
    gluon, quark = parton == 21, (parton >= 1) & (parton <= 5)
    row = {"background": background, "detector": detector, "n_top": len(p_top), "n_qcd": len(p_qcd)}
    row["qcd_gluon_fraction"] = parton_fractions(parton)["gluon"]
    row.update(result.metrics(prefix=""))
    row["qcd_right_gluon"], row["qcd_right_quark"] = float(qcd_right[gluon].mean()), float(qcd_right[quark].mean())
    row["qcd_argmax"] = dict(zip(result.output_names, result.argmax_fractions[0].tolist(), strict=True))
    row["auc"] = float(tagging_summary(y, score, working_points=(0.5,))["auc"])
    row.update(rej50=rej.value, rej50_low=rej.low, rej50_high=rej.high, rej50_n_pass=rej.n_background_pass,
               rej50_lower_limit=rej.is_lower_limit)  # fmt: skip
    return row


def main() -> None:
    args = _arguments()
    torch.set_num_threads(1)
    counts = _qcd_counts(args)
    model = load_jetclass(args.model)
    if args.outputs:
        args.outputs.mkdir(parents=True, exist_ok=True)
    outputs, rows = _Outputs(model, args.batch_size, args.outputs), []
    common = {"seed": args.seed, "n_workers": args.n_workers, "progress": False}
    for detector in args.detectors:
        top = generate_jets(args.n_top, process="top", detector=detector, **common)
        for background in args.backgrounds:
            n_qcd = counts.get((background, detector), args.n_qcd)
            print(f"{background} / {detector}: {args.n_top} top and {n_qcd} QCD jets", flush=True)
            qcd = generate_jets(n_qcd, process="qcd", background=background, detector=detector, **common)
            rows.append(_row(background, detector, outputs(top), outputs(qcd)))
    print(referee_markdown(rows))
    if args.json:  # a record for benchmarks/tables.py (the guide's table is generated from it)
        record = {
            "command": "python scripts/referee_table.py " + " ".join(sys.argv[1:]),
            "model": Path(args.model).name,
            "model_sha256": hashlib.sha256(Path(args.model).read_bytes()).hexdigest(),
            "generator_version": GENERATOR_VERSION,
            "commit": source_version(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": rows,
        }
        args.json.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
