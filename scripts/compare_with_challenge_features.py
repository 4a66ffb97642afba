"""Compare hepml_nb's high-level shower features with the CaloChallenge's own evaluation code.

Needs a clone of https://github.com/CaloChallenge/homepage (its ``code/`` folder holds
``HighLevelFeatures.py``, ``XMLHandler.py`` and the binning XML files); nothing is
downloaded. For every published layout (dataset 1 photons and pions, datasets 2 and 3) it
fills random sparse showers, computes the features with both codes and prints the largest
relative difference over every feature and layer.

    python scripts/compare_with_challenge_features.py /path/to/CaloChallenge-homepage/code
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from hepml_nb.calo.features import challenge_features
from hepml_nb.calo.geometry import get_geometry

LAYOUTS = (
    ("dataset1-photons", "photon", "binning_dataset_1_photons.xml"),
    ("dataset1-pions", "pion", "binning_dataset_1_pions.xml"),
    ("dataset2", "electron", "binning_dataset_2.xml"),
    ("dataset3", "electron", "binning_dataset_3.xml"),
)
KINDS = {
    "E_layer": "E_layers",
    "sparsity": "sparsity",
    "EC_r": "EC_r",
    "width_r": "width_r",
    "EC_eta": "EC_etas",
    "EC_phi": "EC_phis",
    "width_eta": "width_etas",
    "width_phi": "width_phis",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("code", type=Path, help="the code/ folder of a CaloChallenge homepage clone")
    parser.add_argument("-n", type=int, default=200, help="random showers per layout")
    args = parser.parse_args(argv)
    if not (args.code / "HighLevelFeatures.py").is_file():
        parser.error(f"{args.code} has no HighLevelFeatures.py; pass the code/ folder of the CaloChallenge homepage")
    sys.path.insert(0, str(args.code))
    from HighLevelFeatures import HighLevelFeatures  # the challenge's code, from the user's clone

    rng = np.random.default_rng(0)
    worst_all = 0.0
    for name, particle, xml in LAYOUTS:
        geo = get_geometry(name)
        cells = rng.exponential(size=(args.n, geo.n_cells)) * (rng.random((args.n, geo.n_cells)) < 0.3)
        theirs = HighLevelFeatures(particle, filename=str(args.code / xml))
        theirs.CalculateFeatures(cells)
        ours = challenge_features(cells, geo)
        worst, count = float(np.max(np.abs(ours["E_tot"] - theirs.E_tot) / theirs.E_tot)), 1
        for kind, attribute in KINDS.items():
            for layer, value in getattr(theirs, attribute).items():
                diff = np.abs(ours[f"{kind}_{layer}"] - value) / (np.abs(value) + 1e-12)
                worst, count = max(worst, float(diff.max())), count + 1
        worst_all = max(worst_all, worst)
        print(f"{name:17s} {geo.n_cells:6d} voxels: {count:4d} features, largest relative difference {worst:.1e}")
    return 0 if worst_all < 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
