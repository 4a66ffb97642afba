"""ROOT ntuples in the JetClass schema: writing (uproot) and loading into arrays.

The JetClass schema (Qu, Li, Qian, arXiv:2202.03772) has one entry per jet in the
tree ``tree``: jagged particle branches ``part_px, part_py, part_pz, part_energy,
part_deta, part_dphi, part_charge, part_is*``, jet branches ``jet_pt, jet_eta,
jet_phi, jet_energy, jet_nparticles, jet_sdmass, jet_tau1..4`` and one-hot
``label_*`` branches. Locally generated jets are written in the same schema, so the
same loader reads both.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Mapping

import awkward as ak
import numpy as np

from hepml_nb.core.errors import DataError
from hepml_nb.core.results import atomic_output

__all__ = ["JETCLASS_LABELS", "REQUIRED_BRANCHES", "JetData", "write_jetclass", "load_jets", "read_branches",
           "take", "select_classes"]

#: label branches of JetClass, in its order (QCD first)
JETCLASS_LABELS = ("label_QCD", "label_Hbb", "label_Hcc", "label_Hgg", "label_H4q", "label_Hqql",
                   "label_Zqq", "label_Wqq", "label_Tbqq", "label_Tbl")
#: branches the loader needs in every file
REQUIRED_BRANCHES = ("part_px", "part_py", "part_pz", "part_energy", "part_deta", "part_dphi",
                     "jet_pt", "jet_eta", "jet_phi", "jet_energy")
#: branches read when present
OPTIONAL_BRANCHES = ("part_charge", "part_isChargedHadron", "part_isNeutralHadron", "part_isPhoton",
                     "part_isElectron", "part_isMuon", "jet_nparticles", "jet_sdmass",
                     "jet_tau1", "jet_tau2", "jet_tau3", "jet_tau4", "aux_parton")
_PARTONS = {"top": 6, "w": 24, "z": 23, "q": 1, "g": 21, "qcd": 0}


@dataclass(frozen=True)
class JetData:
    """Jets read from JetClass-schema files.

    Attributes
    ----------
    particles
        Jagged awkward records (n_jets, var): ``px, py, pz, energy`` (GeV), ``deta, dphi``
        and, when present, ``charge`` and the ``is*`` particle-type flags.
    jets
        Jet-level arrays by short name (``pt, eta, phi, energy, nparticles, sdmass, tau1..4``).
    labels
        (n_jets,) int index into ``label_names``.
    label_names
        The ``label_*`` branches set for at least one jet, in JetClass order.
    points
        (n_jets, max_particles, 2) float32 (delta-eta, delta-phi), zero for padding.
    features
        (n_jets, max_particles, n_features) float32 ParticleNet inputs, zero for padding.
    feature_names
        Names of the feature columns.
    mask
        (n_jets, max_particles) bool, True for real particles.
    four_vectors
        (n_jets, max_particles, 4) float64 ``px, py, pz, E`` (GeV), zero for padding.
    """

    particles: ak.Array
    jets: Mapping[str, np.ndarray]
    labels: np.ndarray
    label_names: tuple[str, ...]
    points: np.ndarray
    features: np.ndarray
    feature_names: tuple[str, ...]
    mask: np.ndarray
    four_vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def write_jetclass(path: Path | str, arrays: Mapping, *, label: str, parton: str | None = None) -> Path:
    """Write jets to a JetClass-schema ROOT file with uproot.

    Parameters
    ----------
    path
        Output file.
    arrays
        ``part`` (dict of jagged arrays without the ``part_`` prefix) and ``jet_*`` arrays.
    label
        The JetClass label branch set to 1 for every jet (e.g. ``label_Tbqq``).
    parton
        Our process name, stored as the PDG id of the matched parton in ``aux_parton``.
    """
    import uproot

    if label not in JETCLASS_LABELS:
        raise DataError(f"unknown label branch {label!r}; choose one of: {', '.join(JETCLASS_LABELS)}")
    n = len(arrays["jet_pt"])
    branches = {"part": ak.zip(dict(arrays["part"]))}
    for key, value in arrays.items():
        if key.startswith("jet_"):
            branches[key] = np.asarray(value, dtype=np.int32 if key == "jet_nparticles" else np.float32)
    for name in JETCLASS_LABELS:
        branches[name] = np.full(n, name == label)
    branches["aux_parton"] = np.full(n, _PARTONS.get(parton, 0), dtype=np.int32)
    with atomic_output(path) as tmp, uproot.recreate(tmp) as fout:
        types = {k: (v.type if isinstance(v, ak.Array) else v.dtype) for k, v in branches.items()}
        tree = fout.mktree("tree", types, field_name=lambda outer, inner: f"{outer}_{inner}")
        tree.extend(branches)
    return Path(path)


def read_branches(path: Path | str) -> dict[str, ak.Array]:
    """Read the branches the loader uses from one file; DataError names any missing one."""
    import uproot

    path = Path(path)
    if not path.is_file():
        raise DataError(f"jet file {path} not found; give the path of a JetClass-schema ROOT file")
    with uproot.open(path) as fin:
        if "tree" not in fin:
            raise DataError(f"{path} has no TTree 'tree'; expected the JetClass schema (tree 'tree' "
                            f"with branches {', '.join(REQUIRED_BRANCHES)}, label_*)")
        tree = fin["tree"]
        present = set(tree.keys())
        for branch in REQUIRED_BRANCHES:
            if branch not in present:
                raise DataError(
                    f"{path}: branch {branch!r} is missing; a JetClass-schema file needs the branches "
                    f"{', '.join(REQUIRED_BRANCHES)} and one-hot label_* branches "
                    f"(e.g. {', '.join(JETCLASS_LABELS[:3])})")
        labels = [b for b in JETCLASS_LABELS if b in present]
        if not labels:
            raise DataError(f"{path}: no label_* branch found; expected one-hot branches such as "
                            f"{', '.join(JETCLASS_LABELS)}")
        wanted = [*REQUIRED_BRANCHES, *(b for b in OPTIONAL_BRANCHES if b in present), *labels]
        return tree.arrays(wanted, how=dict)


def _concatenate(parts: list[dict]) -> dict[str, ak.Array]:
    keys = [k for k in parts[0] if all(k in p for p in parts)]
    labels = sorted({k for p in parts for k in p if k.startswith("label_")}, key=JETCLASS_LABELS.index)
    merged = {k: ak.concatenate([p[k] for p in parts]) for k in keys if not k.startswith("label_")}
    for name in labels:
        merged[name] = np.concatenate([np.asarray(p[name], dtype=np.int8) if name in p
                                       else np.zeros(len(p["jet_pt"]), np.int8) for p in parts])
    return merged


def _labels(branches: dict) -> tuple[np.ndarray, tuple[str, ...]]:
    names = [k for k in JETCLASS_LABELS if k in branches and np.any(branches[k])]
    if not names:
        raise DataError("no jet has any label_* branch set; the label branches must be one-hot")
    onehot = np.stack([np.asarray(branches[k], dtype=np.int8) for k in names], axis=1)
    bad = np.flatnonzero(onehot.sum(axis=1) != 1)
    if bad.size:
        raise DataError(f"labels are not one-hot for {bad.size} jets (first: jet {bad[0]}); "
                        f"each jet needs exactly one of {', '.join(names)} set")
    return onehot.argmax(axis=1), tuple(names)


def load_jets(paths: Path | str | Iterable[Path | str], *, max_particles: int = 100) -> JetData:
    """Read JetClass-schema ROOT files (ours or real JetClass files) into a :class:`JetData`.

    Parameters
    ----------
    paths
        One path or several; their jets are concatenated in the given order.
    max_particles
        Padding length of the dense arrays (ParticleNet uses 100); highest-pT particles kept.

    Raises
    ------
    DataError
        A file is missing, has no tree ``tree``, lacks a required branch (named in the
        message with the expected schema), or has labels that are not one-hot.
    """
    from hepml_nb.jets.features import padded_particles

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise DataError("no jet files given; pass a path or a list of paths to JetClass-schema ROOT files")
    if not isinstance(max_particles, (int, np.integer)) or max_particles < 1:
        raise DataError(f"max_particles must be a positive integer, got {max_particles!r}")
    branches = _concatenate([read_branches(p) for p in paths])
    labels, label_names = _labels(branches)
    fields = {k[len("part_"):]: branches[k] for k in branches if k.startswith("part_")}
    particles = ak.zip(fields)
    jets = {k[len("jet_"):]: ak.to_numpy(branches[k]).astype(float) for k in branches if k.startswith("jet_")}
    if "aux_parton" in branches:
        jets["parton"] = ak.to_numpy(branches["aux_parton"])
    padded = padded_particles(particles, jets, max_particles=int(max_particles))
    return JetData(particles=particles, jets=jets, labels=labels, label_names=label_names, **padded)


def take(data: JetData, index) -> JetData:
    """The jets of ``data`` at ``index`` (integer array or boolean mask), as a new JetData."""
    index = np.asarray(index)
    if index.dtype == bool:
        index = np.flatnonzero(index)
    return JetData(particles=data.particles[index], jets={k: v[index] for k, v in data.jets.items()},
                   labels=data.labels[index], label_names=data.label_names, points=data.points[index],
                   features=data.features[index], feature_names=data.feature_names, mask=data.mask[index],
                   four_vectors=data.four_vectors[index])


def select_classes(data: JetData, names) -> JetData:
    """Keep the jets whose label is one of ``names``; labels become positions in ``names``.

    ``select_classes(data, ("label_QCD", "label_Tbqq"))`` gives 0 = QCD, 1 = top.
    """
    names = tuple(names)
    missing = [n for n in names if n not in data.label_names]
    if missing:
        raise DataError(f"no jets with {', '.join(missing)} in the data; its labels are: "
                        f"{', '.join(data.label_names)}")
    lookup = np.array([names.index(n) if n in names else -1 for n in data.label_names])
    new = lookup[data.labels]
    subset = take(data, new >= 0)
    return replace(subset, labels=new[new >= 0], label_names=names)
