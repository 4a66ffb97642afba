"""ROOT ntuples in the JetClass schema: writing (uproot) and loading into arrays.

The JetClass schema (Qu, Li, Qian, arXiv:2202.03772) has one entry per jet in the
tree ``tree``: jagged particle branches ``part_px, part_py, part_pz, part_energy,
part_deta, part_dphi, part_charge, part_is*``, jet branches ``jet_pt, jet_eta,
jet_phi, jet_energy, jet_nparticles, jet_sdmass, jet_tau1..4`` and one-hot
``label_*`` branches. Locally generated jets are written in the same schema, so the
same loader reads both.

JetClass stores ``part_deta = (eta_part - eta_jet) * sign(eta_jet)`` (a particle ahead of
the jet axis, away from the beam line, has positive deta on both sides of the detector);
:func:`read_branches` checks it on the first jets of every file (:func:`check_deta_convention`).

Values are checked where they are read: every value of a particle or jet branch is finite,
energies are not negative and jet pT is positive, the labels are one-hot 0/1 values; the
message names the file, the branch and the first bad entry. :func:`resolve_jet_files`, the
check before a run, reads the label branches and the first :data:`CHECK_ENTRIES` jets of
each file for the same checks, in the one open it needs for the schema.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import awkward as ak
import numpy as np

from hepml_nb.core.errors import DataError
from hepml_nb.core.files import check_input_file
from hepml_nb.core.results import atomic_output
from hepml_nb.jets.checks import check_labels, check_values

__all__ = [
    "CHECK_ENTRIES",
    "auto_feature_set",
    "JETCLASS_LABELS",
    "REQUIRED_BRANCHES",
    "JetData",
    "check_deta_convention",
    "check_labels",
    "check_values",
    "find_jet_files",
    "load_jets",
    "read_branches",
    "read_labels",
    "resolve_jet_files",
    "select_classes",
    "take",
    "write_jetclass",
]

#: label branches of JetClass, in its order (QCD first)
JETCLASS_LABELS = (
    "label_QCD",
    "label_Hbb",
    "label_Hcc",
    "label_Hgg",
    "label_H4q",
    "label_Hqql",
    "label_Zqq",
    "label_Wqq",
    "label_Tbqq",
    "label_Tbl",
)
#: branches the loader needs in every file
REQUIRED_BRANCHES = (
    "part_px",
    "part_py",
    "part_pz",
    "part_energy",
    "part_deta",
    "part_dphi",
    "jet_pt",
    "jet_eta",
    "jet_phi",
    "jet_energy",
)
#: branches read when present
OPTIONAL_BRANCHES = (
    "part_charge",
    "part_isChargedHadron",
    "part_isNeutralHadron",
    "part_isPhoton",
    "part_isElectron",
    "part_isMuon",
    "jet_nparticles",
    "jet_sdmass",
    "jet_tau1",
    "jet_tau2",
    "jet_tau3",
    "jet_tau4",
    "aux_parton",
    "part_d0val",
    "part_d0err",
    "part_dzval",
    "part_dzerr",
)
#: dtypes of the branches of real JetClass files (uproot's view of a JetClass ROOT file; scalar
#: branches), the particle branches are float32 except the int32 ``part_is*`` flags
_LABEL_DTYPES = {
    "label_QCD": np.float32,
    **dict.fromkeys(("label_Hbb", "label_Hcc", "label_Hgg", "label_H4q", "label_Hqql"), np.bool_),
    **dict.fromkeys(("label_Zqq", "label_Wqq", "label_Tbqq", "label_Tbl"), np.int32),
}
_PARTONS = {"top": 6, "w": 24, "z": 23, "g": 21}  # fallback when the arrays carry no aux_parton
_DETA_ENTRIES = 20  # jets checked per file
_DETA_TOLERANCE = 0.01
#: jets of each file whose values :func:`resolve_jet_files` reads and checks before a run
CHECK_ENTRIES = 1000


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


def write_jetclass(
    path: Path | str, arrays: Mapping, *, label: str, parton: str | None = None, metadata: Mapping | None = None
) -> Path:
    """Write jets to a JetClass-schema ROOT file with uproot.

    Parameters
    ----------
    path
        Output file.
    arrays
        ``part`` (dict of jagged arrays without the ``part_`` prefix, ``deta`` in the JetClass
        convention ``(eta_part - eta_jet) * sign(eta_jet)``), ``jet_*`` arrays and optionally
        ``aux_parton`` (n_jets,) PDG ids of the matched partons. Every branch is written with
        JetClass's dtype (float32 particle and jet branches, including ``jet_nparticles``;
        int32 ``part_is*``; the label branches' mix of float32, bool and int32), so a reader of
        real JetClass files reads these unchanged. ``aux_genpart_pid`` (float32, as in JetClass)
        repeats the matched parton's PDG id; ``aux_parton`` (int32) is the project's own branch.
    label
        The JetClass label branch set to 1 for every jet (e.g. ``label_Tbqq``).
    parton
        Our process name; without ``arrays["aux_parton"]``, its PDG id (top 6, W 24, Z 23,
        gluon 21; 0 otherwise) is stored for every jet in ``aux_parton``.
    metadata
        JSON-serialisable description of how the jets were made, stored as the string
        ``hepml_nb_metadata`` (a TObjString) beside the tree.
    """
    import json

    import uproot

    if label not in JETCLASS_LABELS:
        raise DataError(f"unknown label branch {label!r}; choose one of: {', '.join(JETCLASS_LABELS)}")
    n = len(arrays["jet_pt"])
    part = {
        k: ak.values_astype(v, np.int32 if k.startswith("is") else np.float32) for k, v in dict(arrays["part"]).items()
    }
    branches = {"part": ak.zip(part)}
    for key, value in arrays.items():
        if key.startswith("jet_"):
            branches[key] = np.asarray(value, dtype=np.float32)
    for name in JETCLASS_LABELS:
        branches[name] = np.full(n, name == label).astype(_LABEL_DTYPES[name])
    if "aux_parton" in arrays:
        branches["aux_parton"] = np.asarray(arrays["aux_parton"], dtype=np.int32)
    else:
        branches["aux_parton"] = np.full(n, _PARTONS.get(parton, 0), dtype=np.int32)
    branches["aux_genpart_pid"] = branches["aux_parton"].astype(np.float32)
    with atomic_output(path) as tmp, uproot.recreate(tmp) as fout:
        types = {k: (v.type if isinstance(v, ak.Array) else v.dtype) for k, v in branches.items()}
        tree = fout.mktree("tree", types, field_name=lambda outer, inner: f"{outer}_{inner}")
        tree.extend(branches)
        if metadata is not None:
            fout["hepml_nb_metadata"] = json.dumps(dict(metadata), sort_keys=True)
    return Path(path)


_SCHEMA = "JetClass schema, tree 'tree'"
_TREE_CLASSES = ("TTree", "TNtuple", "TNtupleD", "ROOT::RNTuple")  # uproot 5.7 writes f[name] = {...} as RNTuple


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


@contextmanager
def _open_root(path: Path) -> Iterator:
    """Open a checked ROOT file with uproot; a file uproot cannot parse gives a DataError naming it."""
    import uproot

    try:
        fin = uproot.open(path)
    except Exception as exc:  # noqa: BLE001 - uproot raises OSError, ValueError, struct.error ... on corrupt files
        raise DataError(
            f"jet file {path} is a ROOT file that uproot cannot read ({_first_line(exc)}); "
            f"it is probably truncated or corrupt: copy or write it again"
        ) from None
    with fin:
        yield fin


def _branch_hint(branch: str, present: set[str]) -> str:
    """What the tree has instead of ``branch``: dotted names (``part.px``) or a few of its branches."""
    dotted = branch.replace("_", ".", 1)
    if dotted in present:
        return (
            f" but {dotted!r} is there: the file was written with file['tree'] = {{'part': ...}}; write it "
            f"with mktree(..., field_name=lambda outer, inner: f'{{outer}}_{{inner}}') or "
            f"hepml_nb.jets.write_jetclass"
        )
    names = sorted(present)
    return f" (the tree has {len(names)} branches: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''})"


def _jet_tree(fin, path: Path):
    """The tree ``tree`` of an open file, after checking its branches and entries (arrays are not read)."""
    trees = sorted({k.split(";")[0] for k, c in fin.classnames().items() if c in _TREE_CLASSES})
    if "tree" not in trees:
        found = f"its trees are: {', '.join(trees)}" if trees else "it holds no tree at all: is it complete?"
        raise DataError(
            f"{path} has no TTree 'tree' ({found}); expected the JetClass schema (tree 'tree' "
            f"with branches {', '.join(REQUIRED_BRANCHES)}, label_*)"
        )
    tree = fin["tree"]
    present = set(tree.keys())
    for branch in REQUIRED_BRANCHES:
        if branch not in present:
            raise DataError(
                f"{path}: branch {branch!r} is missing{_branch_hint(branch, present)}; a JetClass-schema file "
                f"needs the branches {', '.join(REQUIRED_BRANCHES)} and one-hot label_* branches "
                f"(e.g. {', '.join(JETCLASS_LABELS[:3])})"
            )
    if not any(b in present for b in JETCLASS_LABELS):
        raise DataError(
            f"{path}: no label_* branch found; expected one-hot branches such as {', '.join(JETCLASS_LABELS)}"
        )
    if tree.num_entries < 1:
        raise DataError(
            f"{path}: tree 'tree' has no entries (0 jets); give a file with jets in it "
            f"(was the file written before any jet was added?)"
        )
    return tree


def _read_arrays(tree, names, path: Path, **entries) -> dict[str, ak.Array]:
    """``tree.arrays(names)`` as a dict; a basket uproot cannot read gives a DataError naming the file."""
    try:
        return tree.arrays(list(names), how=dict, **entries)
    except Exception as exc:  # noqa: BLE001 - corrupt baskets raise ValueError, OSError, zlib.error ...
        raise DataError(
            f"jet file {path}: its branches cannot be read ({_first_line(exc)}); the file is "
            f"probably corrupt: copy or write it again"
        ) from None


def _check_content(tree, path: Path) -> None:
    """Labels of every jet and the values of the first CHECK_ENTRIES jets of an open file (the run's pre-check)."""
    labels = [b for b in JETCLASS_LABELS if b in tree.keys()]
    check_labels(_read_arrays(tree, labels, path), path)
    first = _read_arrays(tree, REQUIRED_BRANCHES, path, entry_stop=CHECK_ENTRIES)
    check_values(first, path)
    check_deta_convention(first, path)


def _expand(item, seen_as: str) -> list[Path]:
    """One data_path entry: an existing file as it is, otherwise a glob (sorted), otherwise a path."""
    if not isinstance(item, (str, os.PathLike)):
        raise DataError(
            f"data_path must be a path, a glob string or a list of them, got {item!r} "
            f'({type(item).__name__}) in {seen_as}; e.g. "/data/JetClass/*.root"'
        )
    text = os.path.expanduser(os.fspath(item))
    if not glob.has_magic(text) or Path(text).is_file():
        return [Path(text)]
    matches = sorted(glob.glob(text))
    if not matches:
        folder = Path(text).parent
        while glob.has_magic(str(folder)):
            folder = folder.parent
        if not folder.is_dir():
            why = f"the folder {folder} does not exist"
        else:
            names = sorted(p.name for p in folder.iterdir())[:5]
            why = (
                f"the folder {folder} holds {', '.join(names)}{' ...' if len(names) == 5 else ''}"
                if names
                else f"the folder {folder} is empty"
            )
        raise DataError(
            f"data_path {os.fspath(item)!r} matches no file ({why}); check the folder and the "
            f"pattern, e.g. '/data/JetClass/*.root'"
        )
    return [Path(m) for m in matches]


def find_jet_files(data_path) -> list[Path]:
    """The files named by ``data_path`` (globs expanded and sorted), each checked to be a ROOT file.

    Each file gets :func:`~hepml_nb.core.files.check_input_file` (exists, readable, a ROOT header,
    not shorter than the header says) but is not opened with uproot: :func:`load_jets` checks the
    schema and values as it reads, and :func:`resolve_jet_files` is the check before a run.

    Raises
    ------
    DataError
        Nothing is given, ``data_path`` is not a path, glob or list of them, a glob matches no
        file, or a file fails :func:`~hepml_nb.core.files.check_input_file`.
    """
    items = [data_path] if isinstance(data_path, (str, os.PathLike)) else data_path
    if isinstance(items, Iterable) and not isinstance(items, (bytes, Mapping)):
        items = list(items)
    else:
        raise DataError(
            f"data_path must be a path, a glob string or a list of them, got {data_path!r} "
            f'({type(data_path).__name__}); e.g. "/data/JetClass/*.root"'
        )
    if not items:
        raise DataError("no jet files given; pass a path, a glob or a list of paths to JetClass-schema ROOT files")
    return [
        check_input_file(p, kind="root", what="jet file", schema=_SCHEMA)
        for item in items
        for p in _expand(item, repr(data_path))
    ]


def resolve_jet_files(data_path) -> list[Path]:
    """The JetClass-schema ROOT files named by ``data_path``, each checked before any work.

    Each file is opened once: its schema is checked, its label branches are read whole
    (:func:`check_labels`) and its first :data:`CHECK_ENTRIES` jets are read for
    :func:`check_values` and :func:`check_deta_convention`, so a run with bad files stops
    before its kernel starts.

    Parameters
    ----------
    data_path
        A path, a glob string (``"/data/JetClass/*.root"``, expanded and sorted) or a list of
        them (the JSON values papermill passes). An existing file is taken literally even
        if its name contains glob characters.

    Returns
    -------
    list of Path
        The resolved files, in the given order (each glob sorted).

    Raises
    ------
    DataError
        Nothing is given, a glob matches no file, or a file is missing, unreadable, empty,
        not ROOT, truncated or corrupt (also in the baskets read), has no tree ``tree`` (the
        trees found are named), lacks a required branch or a ``label_*`` branch, has no
        entries, labels that are not one-hot, or a bad value in its first jets.
    """
    files = find_jet_files(data_path)
    for path in files:
        with _open_root(path) as fin:
            _check_content(_jet_tree(fin, path), path)
    return files


def check_deta_convention(branches: Mapping, path: Path | str = "the file", *, n_entries: int = _DETA_ENTRIES) -> None:
    """Check ``part_deta`` against ``(eta(part_px, part_py, part_pz) - jet_eta) * sign(jet_eta)``.

    Only the first ``n_entries`` jets are compared (tolerance 0.01).

    Raises
    ------
    DataError
        ``part_deta`` is the plain difference ``eta_part - eta_jet`` (seen on jets at
        eta < 0), or follows neither convention; the message says how to convert.
    """
    first = {k: branches[k][:n_entries] for k in ("part_px", "part_py", "part_pz", "part_deta", "jet_eta")}
    pt = np.hypot(first["part_px"], first["part_py"])
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(first["part_pz"] / pt)
    jet_eta = ak.to_numpy(first["jet_eta"]).astype(float)
    plain = ak.flatten(eta - jet_eta)
    sign = ak.flatten(ak.broadcast_arrays(np.where(jet_eta < 0, -1.0, 1.0), eta)[0])  # sign(0) taken as +1
    deta = ak.to_numpy(ak.flatten(first["part_deta"])).astype(float)
    plain, sign = ak.to_numpy(plain), ak.to_numpy(sign)
    finite = np.isfinite(plain)
    if not finite.any():
        return
    deta, plain, sign = deta[finite], plain[finite], sign[finite]

    def agrees(expected: np.ndarray) -> bool:
        return float(np.mean(np.abs(deta - expected) < _DETA_TOLERANCE)) >= 0.9

    if agrees(plain * sign):
        return
    fix = (
        "JetClass stores part_deta = (eta_part - eta_jet) * sign(eta_jet); convert with "
        "part_deta = (eta_part - jet_eta) * sign(jet_eta), e.g. "
        "branches['part_deta'] = branches['part_deta'] * np.sign(branches['jet_eta']) for a plain difference "
        "(hepml_nb.jets.write_jetclass expects the JetClass convention)"
    )
    if agrees(plain):
        raise DataError(
            f"{path}: part_deta is the plain difference eta_part - eta_jet (jets at eta < 0 have the wrong sign), "
            f"not the JetClass convention; {fix}"
        )
    raise DataError(
        f"{path}: part_deta does not follow the JetClass convention: on the first {len(jet_eta)} jets it differs "
        f"from (eta_part - eta_jet) * sign(eta_jet) computed from part_px, part_py, part_pz and jet_eta by up to "
        f"{np.max(np.abs(deta - plain * sign)):.3g}; {fix}"
    )


def read_branches(
    path: Path | str,
    *,
    feature_set: str | None = None,
    entry_start: int | None = None,
    entry_stop: int | None = None,
) -> dict[str, ak.Array]:
    """Read the branches the loader uses from one file; DataError names any missing one.

    The file gets the checks of :func:`resolve_jet_files` first (exists, ROOT, not
    truncated, tree ``tree``, branches, entries), then, on every jet read,
    :func:`check_values` and :func:`check_labels`, and :func:`check_deta_convention` on its
    first jets. ``feature_set`` (a key of :data:`~hepml_nb.jets.features.FEATURE_SETS`)
    also requires the branches of that input set. ``entry_start`` / ``entry_stop`` read one
    range of jets only (uproot's entry range; a streaming reader's chunk).
    """
    path = check_input_file(path, kind="root", what="jet file", schema=_SCHEMA)
    return _read_file(path, feature_set, entry_start=entry_start, entry_stop=entry_stop)


def read_labels(path: Path | str) -> dict[str, np.ndarray]:
    """The ``label_*`` branches of one file (checked one-hot), without reading any particle.

    The file gets the schema checks of :func:`resolve_jet_files`; the result maps each label
    branch the file has, in JetClass order, to an (n_jets,) int8 array.
    """
    path = check_input_file(path, kind="root", what="jet file", schema=_SCHEMA)
    with _open_root(path) as fin:
        tree = _jet_tree(fin, path)
        branches = _read_arrays(tree, [b for b in JETCLASS_LABELS if b in tree.keys()], path)
    check_labels(branches, path)
    return {k: np.asarray(ak.to_numpy(v), dtype=np.int8) for k, v in branches.items()}


def _check_feature_branches(path: Path, present: set[str], feature_set: str) -> None:
    from hepml_nb.jets.features import feature_set_branches

    missing = [b for b in feature_set_branches(feature_set) if b not in present]
    if missing:
        raise DataError(
            f"{path}: feature_set {feature_set!r} (JetClass's {feature_set} inputs) needs the branch"
            f"{'es' if len(missing) > 1 else ''} {', '.join(missing)}, which the file lacks; choose "
            f"feature_set='kin' (four-vectors only), 'kinpid' (adds part_charge and part_is*) or 'auto'"
        )


def _read_file(path: Path, feature_set: str | None, **entries) -> dict[str, ak.Array]:
    """The branches of one checked file (one open), with every value and label checked; ``entries``:
    uproot's ``entry_start`` / ``entry_stop``."""
    with _open_root(path) as fin:
        tree = _jet_tree(fin, path)
        present = set(tree.keys())
        if feature_set not in (None, "auto"):
            _check_feature_branches(path, present, feature_set)
        labels = [b for b in JETCLASS_LABELS if b in present]
        wanted = [*REQUIRED_BRANCHES, *(b for b in OPTIONAL_BRANCHES if b in present), *labels]
        branches = _read_arrays(tree, wanted, path, **entries)
    check_values(branches, path)
    check_labels(branches, path)
    check_deta_convention(branches, path)
    return branches


def _concatenate(parts: list[dict]) -> dict[str, ak.Array]:
    keys = [k for k in parts[0] if all(k in p for p in parts)]
    labels = sorted({k for p in parts for k in p if k.startswith("label_")}, key=JETCLASS_LABELS.index)
    merged = {k: ak.concatenate([p[k] for p in parts]) for k in keys if not k.startswith("label_")}
    for name in labels:
        merged[name] = np.concatenate(
            [np.asarray(p[name], dtype=np.int8) if name in p else np.zeros(len(p["jet_pt"]), np.int8) for p in parts]
        )
    return merged


def _labels(branches: dict) -> tuple[np.ndarray, tuple[str, ...]]:
    names = [k for k in JETCLASS_LABELS if k in branches and np.any(branches[k])]
    if not names:
        raise DataError("no jet has any label_* branch set; the label branches must be one-hot")
    onehot = np.stack([np.asarray(branches[k], dtype=np.int8) for k in names], axis=1)
    bad = np.flatnonzero(onehot.sum(axis=1) != 1)
    if bad.size:
        raise DataError(
            f"labels are not one-hot for {bad.size} jets (first: jet {bad[0]}); "
            f"each jet needs exactly one of {', '.join(names)} set"
        )
    return onehot.argmax(axis=1), tuple(names)


def auto_feature_set(fields) -> str:
    """The largest JetClass input set (``full``, ``kinpid``, else ``kin``) whose branches ``fields`` (particle
    field names without ``part_``) all have."""
    from hepml_nb.jets.features import FEATURE_SETS, feature_set_branches

    for name in ("full", "kinpid"):
        if all(b[len("part_") :] in fields for b in feature_set_branches(name)):
            return name
    return next(iter(FEATURE_SETS))


def load_jets(
    paths: Path | str | Iterable[Path | str], *, max_particles: int = 100, feature_set: str = "auto"
) -> JetData:
    """Read JetClass-schema ROOT files (ours or real JetClass files) into a :class:`JetData`.

    Parameters
    ----------
    paths
        One path or glob, or several; their jets are concatenated in the given order (each
        glob sorted). Each file is opened once, and checked as :func:`read_branches` does.
    max_particles
        Padding length of the dense arrays (ParticleNet uses 100); highest-pT particles kept.
    feature_set
        The particle inputs, one of JetClass's sets (:data:`~hepml_nb.jets.features.FEATURE_SETS`:
        ``kin`` 7, ``kinpid`` 13, ``full`` 17 inputs, names, order and standardisation of
        particle_transformer's ``data/JetClass/JetClass_*.yaml``), or ``auto``: the largest set
        every file supports (``full`` for JetClass files and the project's).

    Raises
    ------
    DataError
        A glob matches nothing; a file is missing, not a readable ROOT file, truncated, has
        no tree ``tree``, lacks a required branch (named in the message with the expected
        schema) or has no entries; a value is not finite, an energy negative or a jet pT not
        positive; the labels are not one-hot; or a file lacks a branch the ``feature_set``
        needs (the file, the branch and the first bad entry, or the set, are named).
    """
    from hepml_nb.jets.features import feature_set_branches, padded_particles

    if not isinstance(max_particles, (int, np.integer)) or max_particles < 1:
        raise DataError(f"max_particles must be a positive integer, got {max_particles!r}")
    if feature_set != "auto":
        feature_set_branches(feature_set)  # an unknown name is an error before any file is read
    branches = _concatenate([_read_file(p, feature_set) for p in find_jet_files(paths)])
    labels, label_names = _labels(branches)
    fields = {k[len("part_") :]: branches[k] for k in branches if k.startswith("part_")}
    particles = ak.zip(fields)
    jets = {k[len("jet_") :]: ak.to_numpy(branches[k]).astype(float) for k in branches if k.startswith("jet_")}
    if "aux_parton" in branches:
        jets["parton"] = ak.to_numpy(branches["aux_parton"])
    if feature_set == "auto":
        feature_set = auto_feature_set(particles.fields)
    padded = padded_particles(particles, jets, max_particles=int(max_particles), feature_set=feature_set)
    return JetData(particles=particles, jets=jets, labels=labels, label_names=label_names, **padded)


def take(data: JetData, index) -> JetData:
    """The jets of ``data`` at ``index`` (integer array or boolean mask), as a new JetData."""
    index = np.asarray(index)
    if index.dtype == bool:
        index = np.flatnonzero(index)
    return JetData(
        particles=data.particles[index],
        jets={k: v[index] for k, v in data.jets.items()},
        labels=data.labels[index],
        label_names=data.label_names,
        points=data.points[index],
        features=data.features[index],
        feature_names=data.feature_names,
        mask=data.mask[index],
        four_vectors=data.four_vectors[index],
    )


def select_classes(data: JetData, names) -> JetData:
    """Keep the jets whose label is one of ``names``; labels become positions in ``names``.

    ``select_classes(data, ("label_QCD", "label_Tbqq"))`` gives 0 = QCD, 1 = top.
    """
    names = tuple(names)
    missing = [n for n in names if n not in data.label_names]
    if missing:
        raise DataError(f"no jets with {', '.join(missing)} in the data; its labels are: {', '.join(data.label_names)}")
    lookup = np.array([names.index(n) if n in names else -1 for n in data.label_names])
    new = lookup[data.labels]
    subset = take(data, new >= 0)
    return replace(subset, labels=new[new >= 0], label_names=names)
