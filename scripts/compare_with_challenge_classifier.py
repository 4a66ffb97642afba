"""Run the CaloChallenge's own classifier test and hepml_nb's ``challenge`` preset on the same pair of files.

Needs a clone of https://github.com/CaloChallenge/homepage: its ``code/`` folder holds ``evaluate.py``
(the published results of arXiv:2410.21611 come from its state at commit 57b3a57; the classifier code
is the same up to 9b41df7), ``HighLevelFeatures.py`` and the binning files. They run with numpy, h5py,
torch, scikit-learn and matplotlib, which hepml-nb installs. Nothing is downloaded and none of the
challenge's code is copied here: it runs from the clone you give.

For each level (``high``: ``evaluate.py -m cls-high``; ``low``: ``-m cls-low``) the script

1. checks that both codes build the same classifier inputs, on the first ``--check-showers`` showers
   of each file (the challenge's ``prepare_*_data_for_classifier``, run in a subprocess from the clone,
   against :mod:`hepml_nb.calo.classifier_inputs`);
2. runs ``evaluate.py`` on the pair (in a fresh folder per run, where it also writes its pickled
   reference features and its log);
3. runs the preset on the same pair (the steps of :func:`hepml_nb.calo.classifier.shower_classifier_test`:
   :func:`~hepml_nb.calo.classifier.preset_inputs` of each file, the challenge's split, the classifier test);

and prints AUC and JSD side by side, with the learning curves (BCE and accuracy of the raw output on
the selection set after each epoch: ``evaluate.py``'s "test" set, the preset's validation set).

``evaluate.py`` splits datasets 2 and 3 by fixed counts (60k/20k/20k showers per file), so each file
needs 100,000 showers; ``--write-pair`` makes such a pair of dataset-2 files with GFlash (log-uniform
1 GeV - 1 TeV, the challenge's spectrum): ``floor`` (seed s vs seed s + 1), ``scaled`` (the same with
every cell of the second file x 1.05). Cost on 100k-shower dataset-2 files: ``cls-high`` needs about
10 GB of memory, ``cls-low`` holds the voxels in float64 several times over (``evaluate.py`` about
36 GB; the preset about 15 GB); on 2 CPU cores one epoch of either code takes 1.5 (high) and 4 (low)
minutes.

    python scripts/compare_with_challenge_classifier.py CLONE/code --write-pair scaled --data pairs/ \\
        --levels high --epochs 10
    python scripts/compare_with_challenge_classifier.py CLONE/code --reference ref.hdf5 --generated gen.hdf5
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hepml_nb.calo.classifier import PRESETS, classifier_test, preset_inputs
from hepml_nb.calo.classifier_inputs import challenge_split, challenge_threshold_mev
from hepml_nb.calo.data import ShowerSet, sample_incident_energies
from hepml_nb.calo.gflash import simulate_showers
from hepml_nb.calo.io import read_challenge_h5, write_challenge_h5

#: evaluate.py's name of each hepml_nb geometry, and of each level.
DATASETS = {"dataset1-photons": "1-photons", "dataset1-pions": "1-pions", "dataset2": "2", "dataset3": "3"}
MODES = {"high": "cls-high", "low": "cls-low"}
#: Largest difference of an input (all are of order 1) still counted as the same: float32 rounding.
SAME_INPUTS = 1e-4

# Run from the clone's code/ folder: the challenge's own input builders on a small file (the main of
# evaluate.py does the same: voxels below its threshold set to 0, features of the thresholded showers).
_THEIR_INPUTS = """
import sys
import h5py
import numpy as np
import evaluate
import HighLevelFeatures
path, particle, binning, level, threshold, out = sys.argv[1:]
threshold = float(threshold)
with h5py.File(path, "r") as fh:
    showers = fh["showers"][:]
    showers = np.where(showers < threshold, np.zeros_like(showers), showers)
    hlf = HighLevelFeatures.HighLevelFeatures(particle, filename=binning)
    hlf.CalculateFeatures(showers)
    hlf.Einc = fh["incident_energies"][:]
    if level == "low":
        array = evaluate.prepare_low_data_for_classifier(fh, hlf, 0.0, normed=False, threshold=threshold)
    else:
        array = evaluate.prepare_high_data_for_classifier(fh, hlf, 0.0, threshold=threshold)
np.save(out, array[:, :-1])
"""


def write_pair(kind: str, folder: Path, n: int, seed: int) -> tuple[Path, Path]:
    """GFlash dataset-2 files: the reference (seed) and the second file (seed + 1, x 1.05 for ``scaled``)."""
    folder.mkdir(parents=True, exist_ok=True)
    scale = 1.05 if kind == "scaled" else 1.0
    paths = []
    for s, factor in ((seed, 1.0), (seed + 1, scale)):
        path = folder / f"gflash_ds2_n{n}_seed{s}{'' if factor == 1.0 else f'_x{factor:g}'}.hdf5"
        if not path.exists():
            e_inc = sample_incident_energies(n, e_min=1.0, e_max=1000.0, spectrum="log-uniform", seed=s)
            showers = simulate_showers(e_inc, geometry="dataset2", seed=s, progress=False)
            cells = showers.cells * np.float32(factor)
            write_challenge_h5(ShowerSet(showers.e_inc, cells, "dataset2"), path)
            print(f"wrote {path}")
        paths.append(path)
    return paths[0], paths[1]


def check_inputs(code: Path, files: dict[str, Path], level: str, n: int, work: Path) -> float:
    """Largest absolute difference between the challenge's and the preset's inputs on the first n showers."""
    worst = 0.0
    for name, path in files.items():
        showers = read_challenge_h5(path, n=n)
        small = write_challenge_h5(showers, work / f"first_{n}_{name}.hdf5")
        geo = showers.geometry
        threshold = challenge_threshold_mev(geo)
        out = work / f"their_{level}_{name}.npy"
        particle = {"dataset1-pions": "pion", "dataset1-photons": "photon"}.get(geo, "electron")
        binning = f"binning_dataset_{DATASETS[geo].replace('-', '_')}.xml"
        args = [str(small), particle, binning, level, repr(threshold), str(out)]
        done = subprocess.run([sys.executable, "-c", _THEIR_INPUTS, *args], cwd=code, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the challenge's input code failed on {small}:\n{done.stderr[-2000:]}")
        theirs = np.load(out, allow_pickle=False)
        ours = preset_inputs(read_challenge_h5(small), level=level, preset="challenge")
        if ours.shape != theirs.shape:
            raise SystemExit(f"{level}-level inputs differ in shape: challenge {theirs.shape}, hepml_nb {ours.shape}")
        worst = max(worst, float(np.max(np.abs(ours.astype(np.float64) - theirs))))
    return worst


def _floats(pattern: str, text: str) -> list[float]:
    return [float(v) for v in re.findall(pattern, text, flags=re.MULTILINE)]


def run_challenge(code: Path, files: dict[str, Path], level: str, epochs: int, work: Path, device: str) -> dict:
    """Run evaluate.py on the pair; parse the final AUC/JSD and the per-epoch selection-set curve."""
    run = work / f"evaluate_{MODES[level]}_{epochs}ep"
    run.mkdir(parents=True, exist_ok=False)
    (run / "reference.hdf5").symlink_to(files["reference"].resolve())  # its pickle goes beside this link
    dataset = DATASETS[read_challenge_h5(files["reference"], n=1).geometry]
    command = [sys.executable, "evaluate.py", "-i", str(files["generated"].resolve())]
    command += ["-r", str(run / "reference.hdf5"), "-m", MODES[level], "-d", dataset, "--output_dir", str(run)]
    command += ["--cls_n_epochs", str(epochs)] + (["--no_cuda"] if device == "cpu" else [])
    start = time.perf_counter()
    with open(run / "stdout.txt", "w") as log:  # written as it runs: follow it with tail -f
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        done = subprocess.run(command, cwd=code, stdout=log, stderr=subprocess.STDOUT, env=env)
    seconds = time.perf_counter() - start
    output = (run / "stdout.txt").read_text()
    final = re.search(r"Final result of classifier test \(AUC / JSD\):\s*([-\d.]+) / ([-\d.]+)", output)
    if done.returncode != 0 or final is None:
        raise SystemExit(f"evaluate.py failed (exit {done.returncode}); its output is in {run / 'stdout.txt'}")
    during = output.split("Now looking at independent dataset:")[0]
    accuracy = _floats(r"^Accuracy on test set is ([\d.]+)", during)
    return {
        "auc": float(final.group(1)),
        "jsd": float(final.group(2)),
        "bce": _floats(r"^BCE loss of test set is ([-\d.]+)", during),
        "accuracy": accuracy,
        "best_epoch": int(np.argmax(accuracy)) + 1,  # its selection: the first epoch of highest accuracy
        "seconds": seconds,
        "log": run / "stdout.txt",
    }


def run_preset(files: dict[str, Path], level: str, epochs: int, seed: int, device: str) -> dict:
    """The project's challenge preset on the pair: what shower_classifier_test does, each file's showers
    dropped once its inputs are built (two 100k dataset-2 files hold 5.2 GB of cells)."""
    inputs, n = {}, {}
    for name, path in files.items():
        showers = read_challenge_h5(path)
        geometry, n[name] = showers.geometry, len(showers)
        inputs[name] = preset_inputs(showers, level=level, preset="challenge")
        del showers
    split = challenge_split(geometry, min(n.values()))
    start = time.perf_counter()
    res = classifier_test(
        inputs["reference"], inputs["generated"], preset="challenge", epochs=epochs, split=split, seed=seed,
        threads=None, device=device, progress=False,
    )  # fmt: skip
    return {
        "auc": res.auc,
        "auc_err": res.auc_err,
        "jsd": res.jsd,
        "jsd_err": res.jsd_err,
        "bce": res.history["val_bce"],
        "accuracy": res.history["val_accuracy"],
        "best_epoch": res.best_epoch,
        "seconds": time.perf_counter() - start,
    }


def _curve(values: list[float]) -> str:
    return " ".join(f"{v:.4f}" for v in values)


def print_rows(level: str, epochs: int, theirs: dict | None, ours: dict | None) -> None:
    """One table row per level and epoch count, then both learning curves."""
    their_cell = f"{theirs['auc']:.4f} / {theirs['jsd']:.4f} (epoch {theirs['best_epoch']})" if theirs else "not run"
    our_cell = "not run"
    if ours:
        our_cell = (
            f"{ours['auc']:.4f} ± {ours['auc_err']:.4f} / {ours['jsd']:.4f} ± {ours['jsd_err']:.4f} "
            f"(epoch {ours['best_epoch']})"
        )
    diff = ""
    if theirs and ours:  # both test sets have the same size: the combined error is sqrt(2) x the preset's
        diff = f"{(ours['auc'] - theirs['auc']) / (np.sqrt(2) * max(ours['auc_err'], 1e-4)):+.1f}"
    print(f"| {MODES[level]} | {epochs} | {their_cell} | {our_cell} | {diff} |")
    for name, run in (("evaluate.py", theirs), ("preset", ours)):
        if run:
            print(f"|   {name} selection-set BCE by epoch: {_curve(run['bce'])}; {run['seconds'] / 60:.1f} min |")
            print(f"|   {name} selection-set accuracy by epoch: {_curve(run['accuracy'])} |")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("code", type=Path, help="the code/ folder of a CaloChallenge homepage clone")
    parser.add_argument("--reference", type=Path, help="reference file (CaloChallenge HDF5)")
    parser.add_argument("--generated", type=Path, help="generated file, compared with the reference")
    parser.add_argument("--write-pair", choices=("floor", "scaled"), help="write a GFlash dataset-2 pair and use it")
    parser.add_argument("--data", type=Path, default=Path("challenge_pairs"), help="folder of --write-pair files")
    parser.add_argument("-n", type=int, default=100000, help="showers per file of --write-pair (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="GFlash seed of --write-pair; the preset's seed")
    parser.add_argument("--levels", nargs="+", choices=tuple(MODES), default=["high", "low"])
    parser.add_argument("--epochs", type=int, nargs="+", default=[PRESETS["challenge"].epochs])
    parser.add_argument("--device", default="cpu", help="cpu or cuda, for both codes (default cpu)")
    parser.add_argument("--work", type=Path, help="folder for evaluate.py's runs and logs (default: a new one)")
    parser.add_argument("--check-showers", type=int, default=2000, help="showers per file in the input check")
    parser.add_argument("--skip", choices=("challenge", "preset"), nargs="*", default=[], help="run one side only")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not (args.code / "evaluate.py").is_file():
        parser.error(f"{args.code} has no evaluate.py; pass the code/ folder of the CaloChallenge homepage clone")
    if args.write_pair:
        reference, generated = write_pair(args.write_pair, args.data, args.n, args.seed)
        files = {"reference": reference, "generated": generated}
    elif args.reference and args.generated:
        files = {"reference": args.reference, "generated": args.generated}
    else:
        parser.error("give --reference and --generated, or --write-pair floor|scaled")
    work = args.work or Path(tempfile.mkdtemp(prefix="challenge_classifier_"))
    work.mkdir(parents=True, exist_ok=True)
    torch_threads = os.environ.get("OMP_NUM_THREADS", "torch's default")
    print(f"{files['reference']} vs {files['generated']}; evaluate.py runs in {work}; threads: {torch_threads}")
    for level in args.levels:
        worst = check_inputs(args.code, files, level, args.check_showers, work)
        verdict = "the same" if worst <= SAME_INPUTS else "DIFFERENT"
        print(f"{MODES[level]} inputs on the first {args.check_showers} showers of each file: {verdict} "
              f"(largest difference {worst:.1e})")  # fmt: skip
    columns = "evaluate.py AUC / JSD (kept epoch) | preset AUC / JSD (kept epoch) | (preset - evaluate.py) / err"
    print(f"\n| mode | epochs | {columns} |")
    print("|---|---|---|---|---|")
    for level in args.levels:
        for epochs in args.epochs:
            theirs = None if "challenge" in args.skip else run_challenge(
                args.code, files, level, epochs, work, args.device
            )  # fmt: skip
            ours = None if "preset" in args.skip else run_preset(files, level, epochs, args.seed, args.device)
            print_rows(level, epochs, theirs, ours)
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
