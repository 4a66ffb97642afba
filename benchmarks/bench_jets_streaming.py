"""Peak memory of one training epoch: jets streamed from files (JetStream) against jets loaded whole.

Writes (once) toy jets in the exact JetClass schema, ``--jets-per-class`` per class over ``--files`` files
of one class each (:func:`hepml_nb.jets.streaming.write_toy_jetclass_files`), then trains the tagger for
one epoch and prints the peak resident memory of the process (``ru_maxrss``), the time and the jets per
second. ``--mode memory`` loads every jet with ``load_jets`` first (what training did before streaming);
``--mode stream`` reads them chunk by chunk. Issue 24, item 6: the ``full`` profile's scale is 100,000 jets
per class.

    nice -n 10 python benchmarks/bench_jets_streaming.py --folder /tmp/toy_jetclass --files 10 \\
        --jets-per-class 100000 --mode stream

Timings on a shared machine are inflated by the others' load; the memory is not.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch

from hepml_nb.jets import load_jets, select_classes
from hepml_nb.jets.models import build_tagger
from hepml_nb.jets.streaming import JetStream, write_toy_jetclass_files
from hepml_nb.jets.training import subset, train_tagger

CLASSES = ("label_QCD", "label_Tbqq")


def _files(folder: Path, n_files: int, jets_per_class: int) -> list[Path]:
    paths = sorted(folder.glob("toy_*.root"))
    if len(paths) != n_files:
        folder.mkdir(parents=True, exist_ok=True)
        per_file = jets_per_class * len(CLASSES) // n_files
        paths = write_toy_jetclass_files(folder, n_files, per_file, seed=24, classes=CLASSES)
    return paths


def _n(train) -> int:
    return len(train) if isinstance(train, JetStream) else len(train[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--jets-per-class", type=int, default=100_000)
    parser.add_argument("--mode", choices=("stream", "memory"), default="stream")
    parser.add_argument("--tagger", default="particlenet_lite")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-training", action="store_true", help="memory mode: stop once the arrays are built")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    paths = _files(args.folder, args.files, args.jets_per_class)
    start = time.perf_counter()
    stream = JetStream(paths, classes=CLASSES, feature_set="full")
    parts = stream.split((0.98, 0.01, 0.01))
    model = build_tagger(args.tagger, input_dims=len(stream.feature_names))
    if args.mode == "stream":
        train, val = parts["train"], parts["val"]
    else:
        data = select_classes(load_jets(paths, feature_set="full"), CLASSES)
        order = np.random.default_rng(0).permutation(len(data))
        train, val = subset(data, order[: len(parts["train"])], model), subset(data, order[-len(parts["val"]) :], model)
        del data
    loaded = time.perf_counter() - start
    if args.skip_training:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        report = {"mode": args.mode, "train_jets": _n(train), "peak_rss_gb": peak, "prepare_s": round(loaded, 1)}
        print(json.dumps(report))
        return
    result = train_tagger(model, train, val, epochs=1, batch_size=args.batch_size, device="cpu", progress=False)
    report = {
        "mode": args.mode,
        "files": len(paths),
        "train_jets": len(parts["train"]),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "prepare_s": round(loaded, 1),
        "epoch_s": round(result.seconds, 1),
        "jets_per_s": round(result.per_second, 1),
        "val_accuracy": result.history["val_accuracy"][0],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
