"""Jets of many JetClass-schema files, read chunk by chunk for training: memory does not grow with the files.

JetClass (Qu, Li, Qian, arXiv:2202.03772) holds 100 million training jets in 100 ROOT files of one
class each (its test and validation sets add 100 more). :func:`~hepml_nb.jets.io.load_jets` reads
every jet into dense padded arrays, about 11 kB per jet at 100 particles with the ``full`` inputs,
which at that scale would need a terabyte. A :class:`JetStream` reads the files with uproot in
chunks of ``chunk_size`` jets instead, one group of ``chunks_at_once`` chunks at a time: shuffled,
the chunks are drawn in a random order over all files, so a group mixes several files (and classes),
and its jets are shuffled again before they are cut into batches; unshuffled, the jets come in file
order, exactly as :func:`~hepml_nb.jets.io.load_jets` concatenates them. Each batch is padded to its
own longest jet (at most ``max_particles``, highest pT first) with the inputs of
:func:`~hepml_nb.jets.features.padded_particles`, so a model sees the same numbers as from memory.
Memory holds one group of jagged jets and one padded batch, whatever the number of files.

:func:`fits_in_memory` says whether a data set fits a memory budget as dense arrays;
:func:`hepml_nb.jets.training.train_tagger` takes a :class:`JetStream` wherever it takes arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import awkward as ak
import numpy as np

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.jets.features import FEATURE_SETS, feature_set_branches, padded_particles
from hepml_nb.jets.io import (
    JETCLASS_LABELS,
    auto_feature_set,
    read_branches,
    read_labels,
    resolve_jet_files,
    write_jetclass,
)

__all__ = ["JetBatch", "JetStream", "dense_bytes_per_jet", "fits_in_memory", "write_toy_jetclass_files"]


class JetBatch(NamedTuple):
    """One padded batch of a :class:`JetStream`: the :class:`~hepml_nb.jets.io.JetData` arrays a model takes
    (``points`` (B, P, 2), ``features`` (B, P, F) float32, ``mask`` (B, P) bool, ``four_vectors`` (B, P, 4)
    float64 in GeV, P the batch's longest jet), ``labels`` (B,) class index and ``index`` (B,) the jets'
    positions in the stream's file order."""

    points: np.ndarray
    features: np.ndarray
    mask: np.ndarray
    four_vectors: np.ndarray
    labels: np.ndarray
    index: np.ndarray


class _Chunk(NamedTuple):
    file: int
    start: int
    stop: int


def _check_positive(name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_fraction(entry_fraction) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in entry_fraction)
    except (TypeError, ValueError):
        low, high = np.nan, np.nan
    if not 0.0 <= low < high <= 1.0:
        raise ParameterError(
            f"entry_fraction must be (low, high) with 0 <= low < high <= 1, got {entry_fraction!r}; "
            f"e.g. (0.0, 0.8) for the first 80 % of every file"
        )
    return low, high


class JetStream:
    """The jets of JetClass-schema files, read in chunks: an epoch at a time, never all at once.

    Parameters
    ----------
    paths
        A path, a glob or a list of them (as :func:`~hepml_nb.jets.io.load_jets`); each file is
        checked up front (:func:`~hepml_nb.jets.io.resolve_jet_files`) and its labels read.
    classes
        Label branches, in the order of the class indices (``("label_QCD", "label_Tbqq")``: 0 = QCD,
        1 = top); jets of other classes are skipped. None: every label branch set in the files,
        in JetClass order (as :func:`~hepml_nb.jets.io.load_jets`).
    max_particles
        Longest padding (highest-pT particles kept, as ``load_jets``); a batch is padded to its own
        longest jet up to this.
    feature_set
        ``kin``, ``kinpid``, ``full`` or ``auto`` (the largest set the first file has).
    chunk_size
        Jets read from a file at once.
    chunks_at_once
        Chunks mixed into one buffer: the memory held is about ``chunk_size x chunks_at_once`` jagged jets.
    entry_fraction
        The part of every file to use, ``(low, high)`` as fractions of its entries: training,
        validation and test streams take disjoint parts (:meth:`split`).

    Raises
    ------
    DataError
        A file fails the checks of ``resolve_jet_files``, lacks the ``feature_set``'s branches,
        or no jet of the files belongs to ``classes``.
    ParameterError
        A size is not a positive integer, ``entry_fraction`` is not an interval in [0, 1], or
        ``classes`` names something other than JetClass label branches.
    """

    def __init__(
        self,
        paths,
        *,
        classes: Sequence[str] | None = None,
        max_particles: int = 100,
        feature_set: str = "auto",
        chunk_size: int = 2000,
        chunks_at_once: int = 8,
        entry_fraction: tuple[float, float] = (0.0, 1.0),
    ):
        self.max_particles = _check_positive("max_particles", max_particles)
        self.chunk_size = _check_positive("chunk_size", chunk_size)
        self.chunks_at_once = _check_positive("chunks_at_once", chunks_at_once)
        self.entry_fraction = _check_fraction(entry_fraction)
        if classes is not None:
            unknown = [c for c in classes if c not in JETCLASS_LABELS]
            if unknown or not classes:
                raise ParameterError(
                    f"classes must be JetClass label branches, got {list(classes)!r}; choose from: "
                    f"{', '.join(JETCLASS_LABELS)}"
                )
        if feature_set != "auto":
            feature_set_branches(feature_set)  # an unknown name is an error before any file is read
        self.files = resolve_jet_files(paths)
        self._entries, counts = [], []  # per file: entries, jets per label branch in the stream's part
        for path in self.files:
            labels = read_labels(path)
            self._entries.append(len(next(iter(labels.values()))))
            part = slice(*self._range(len(self._entries) - 1))
            counts.append({name: int(np.count_nonzero(values[part])) for name, values in labels.items()})
        self.label_names = tuple(classes) if classes is not None else _labels_set(counts)
        self.feature_set = feature_set if feature_set != "auto" else self._first_file_set()
        for path in self.files[1:] if feature_set == "auto" else self.files:
            read_branches(path, feature_set=self.feature_set, entry_stop=1)  # the set's branches are there
        self.feature_names = FEATURE_SETS[self.feature_set]
        self._offsets = np.cumsum([0, *self._entries[:-1]])
        self._n_jets = sum(c.get(name, 0) for c in counts for name in self.label_names)  # one-hot: disjoint
        if self._n_jets == 0:
            raise DataError(
                f"no jet of the {len(self.files)} files (entries {self.entry_fraction[0]:.0%} to "
                f"{self.entry_fraction[1]:.0%} of each) has one of the labels {', '.join(self.label_names)}"
            )

    def _first_file_set(self) -> str:
        first = read_branches(self.files[0], entry_stop=1)
        return auto_feature_set([k[len("part_") :] for k in first if k.startswith("part_")])

    def __len__(self) -> int:
        """Jets of the classes in the stream's part of its files (one epoch)."""
        return self._n_jets

    def __repr__(self) -> str:
        return (
            f"JetStream({len(self)} jets of {len(self.files)} files, classes {self.label_names}, "
            f"{self.feature_set!r} inputs, chunks of {self.chunk_size} x {self.chunks_at_once})"
        )

    def split(self, fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> dict[str, JetStream]:
        """Streams ``train``, ``val``, ``test`` over consecutive, disjoint parts of every file."""
        fractions = tuple(float(f) for f in fractions)
        if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1.0) > 1e-6:
            raise ParameterError(f"fractions must be three positive numbers summing to 1, got {fractions!r}")
        low, high = self.entry_fraction
        edges = low + (high - low) * np.cumsum([0.0, *fractions])
        return {name: self._with_fraction((edges[i], edges[i + 1])) for i, name in enumerate(("train", "val", "test"))}

    def _with_fraction(self, fraction: tuple[float, float]) -> JetStream:
        return JetStream(
            self.files, classes=self.label_names, max_particles=self.max_particles, feature_set=self.feature_set,
            chunk_size=self.chunk_size, chunks_at_once=self.chunks_at_once, entry_fraction=fraction,
        )  # fmt: skip

    def _range(self, file: int) -> tuple[int, int]:
        n = self._entries[file]
        return int(np.floor(self.entry_fraction[0] * n)), int(np.floor(self.entry_fraction[1] * n))

    def _class_index(self, branches) -> np.ndarray:
        """(n,) index in ``label_names`` of each jet's label, -1 for other classes."""
        first = next(iter(branches.values()))
        index = np.full(len(first), -1, dtype=np.int64)
        for i, name in enumerate(self.label_names):
            if name in branches:
                index[np.asarray(branches[name]) != 0] = i
        return index

    def _chunks(self) -> list[_Chunk]:
        chunks = []
        for file in range(len(self.files)):
            start, stop = self._range(file)
            chunks += [_Chunk(file, s, min(s + self.chunk_size, stop)) for s in range(start, stop, self.chunk_size)]
        return chunks

    def _read(self, chunk: _Chunk) -> dict:
        """One chunk's jets of the classes: jagged particles, jet pT and energy, labels, global indices."""
        branches = read_branches(
            self.files[chunk.file], feature_set=self.feature_set, entry_start=chunk.start, entry_stop=chunk.stop
        )
        labels = self._class_index(branches)
        keep = labels >= 0
        fields = {k[len("part_") :]: branches[k][keep] for k in branches if k.startswith("part_")}
        return {
            "particles": ak.zip(fields),
            "pt": ak.to_numpy(branches["jet_pt"]).astype(float)[keep],
            "energy": ak.to_numpy(branches["jet_energy"]).astype(float)[keep],
            "labels": labels[keep],
            "index": self._offsets[chunk.file] + chunk.start + np.flatnonzero(keep),
        }

    def _batch(self, buffer: dict, start: int, stop: int) -> JetBatch:
        particles = buffer["particles"][start:stop]
        width = int(np.clip(ak.max(ak.num(particles), initial=1), 1, self.max_particles))
        jets = {"pt": buffer["pt"][start:stop], "energy": buffer["energy"][start:stop]}
        padded = padded_particles(particles, jets, max_particles=width, feature_set=self.feature_set)
        return JetBatch(
            padded["points"], padded["features"], padded["mask"], padded["four_vectors"],
            buffer["labels"][start:stop], buffer["index"][start:stop],
        )  # fmt: skip

    def batches(
        self, batch_size: int, *, shuffle: bool = False, rng: np.random.Generator | None = None
    ) -> Iterator[JetBatch]:
        """One epoch of padded batches of ``batch_size`` jets (the last one shorter).

        Unshuffled, the jets come in file order (the order of ``load_jets`` on the same files);
        shuffled (``rng`` required), the chunks are drawn in random order over all files and the
        jets of each group of ``chunks_at_once`` chunks are shuffled together. Every jet of the
        stream comes exactly once per epoch.
        """
        batch_size = _check_positive("batch_size", batch_size)
        if shuffle and rng is None:
            raise ParameterError("shuffle=True needs rng, a numpy Generator (e.g. np.random.default_rng(seed))")
        chunks = self._chunks()
        order = rng.permutation(len(chunks)) if shuffle else np.arange(len(chunks))
        carry: list[dict] = []
        for g in range(0, len(order), self.chunks_at_once):
            buffer = _concatenate(carry + [self._read(chunks[i]) for i in order[g : g + self.chunks_at_once]])
            if shuffle:
                buffer = _take(buffer, rng.permutation(len(buffer["labels"])))
            n_full = len(buffer["labels"]) // batch_size * batch_size
            for start in range(0, n_full, batch_size):
                yield self._batch(buffer, start, start + batch_size)
            carry = [_take(buffer, slice(n_full, None))]
        if carry and len(carry[0]["labels"]):
            yield self._batch(carry[0], 0, len(carry[0]["labels"]))


def _labels_set(counts: Iterable[dict]) -> tuple[str, ...]:
    """The label branches set for at least one jet of the files (their jet counts), in JetClass order."""
    seen = {name for per_file in counts for name, n in per_file.items() if n}
    return tuple(name for name in JETCLASS_LABELS if name in seen)


def _concatenate(parts: list[dict]) -> dict:
    if len(parts) == 1:
        return parts[0]
    out = {"particles": ak.concatenate([p["particles"] for p in parts])}
    out.update({k: np.concatenate([p[k] for p in parts]) for k in ("pt", "energy", "labels", "index")})
    return out


def _take(buffer: dict, index) -> dict:
    """The jets at ``index``, packed: an awkward slice or permutation is a view that keeps the whole buffer
    alive (and a later concatenation would copy all of it), so the carried-over jets are copied out."""
    out = {k: v[index] for k, v in buffer.items()}
    out["particles"] = ak.to_packed(out["particles"])
    return out


def dense_bytes_per_jet(max_particles: int = 100, feature_set: str = "full") -> int:
    """Bytes one jet takes in a :class:`~hepml_nb.jets.io.JetData`: the padded ``points`` (float32),
    ``features`` (float32), ``mask`` (bool) and ``four_vectors`` (float64), and the jagged particles (at
    most ``max_particles`` x the set's branches, float32) it is made from."""
    n_features = len(FEATURE_SETS[feature_set]) if feature_set in FEATURE_SETS else None
    if n_features is None:
        raise ParameterError(f"unknown feature_set {feature_set!r}; choose one of: {', '.join(FEATURE_SETS)}")
    n_branches = len(set(feature_set_branches(feature_set)) | {"part_px", "part_py", "part_pz", "part_energy"})
    return int(max_particles) * (2 * 4 + n_features * 4 + 1 + 4 * 8 + n_branches * 4) + 8


def fits_in_memory(
    n_jets: int, *, memory_budget_bytes: float, max_particles: int = 100, feature_set: str = "full"
) -> bool:
    """Whether ``n_jets`` jets, loaded whole (:func:`~hepml_nb.jets.io.load_jets`), fit in ``memory_budget_bytes``.

    Loading holds the jagged branches and the padded arrays together, so the estimate is
    ``n_jets x`` :func:`dense_bytes_per_jet`; a data set above the budget is for a :class:`JetStream`.
    ``len(JetStream(paths))`` counts the jets without reading any particle.
    """
    n_jets = _check_positive("n_jets", n_jets)
    if not memory_budget_bytes > 0:
        raise ParameterError(f"memory_budget_bytes must be positive, got {memory_budget_bytes!r}")
    return n_jets * dense_bytes_per_jet(max_particles, feature_set) <= memory_budget_bytes


def write_toy_jetclass_files(
    folder: Path | str, n_files: int, n_jets: int, *, seed: int, classes: Sequence[str] = ("label_QCD", "label_Tbqq")
) -> list[Path]:
    """Write ``n_files`` files of ``n_jets`` random jets each in the exact JetClass schema (one class per file,
    cycling through ``classes``, as JetClass's files are), to try readers and memory at scale offline.

    The jets are not physics (particles spread around a random axis, random particle types and impact
    parameters; the spread and the multiplicity grow with the class's position in ``classes``, so a
    tagger can learn them apart), but every branch, dtype and convention is JetClass's
    (:func:`~hepml_nb.jets.io.write_jetclass`).
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(_check_positive("n_files", n_files)):
        arrays = _toy_jets(rng, _check_positive("n_jets", n_jets), kind=i % len(classes))
        paths.append(write_jetclass(folder / f"toy_{i:03d}.root", arrays, label=classes[i % len(classes)]))
    return paths


def _toy_jets(rng: np.random.Generator, n_jets: int, *, kind: int) -> dict:
    counts = rng.integers(5, 60 + 20 * kind, n_jets)
    jet = np.repeat(np.arange(n_jets), counts)
    axis_eta, axis_phi = rng.uniform(-1.8, 1.8, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    pt = rng.exponential(12.0, len(jet)) + 0.5
    spread = 0.1 * (1 + kind)
    eta, phi = axis_eta[jet] + rng.normal(0, spread, len(jet)), axis_phi[jet] + rng.normal(0, spread, len(jet))
    kind = rng.integers(0, 5, len(jet))
    charge = np.where(np.isin(kind, (0, 3, 4)), rng.choice([-1.0, 1.0], len(jet)), 0.0)
    part = {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "energy": pt * np.cosh(eta)}
    part["deta"] = (eta - axis_eta[jet]) * np.where(axis_eta[jet] < 0, -1.0, 1.0)
    part["dphi"] = (phi - axis_phi[jet] + np.pi) % (2 * np.pi) - np.pi
    part["charge"] = charge
    for j, flag in enumerate(("isChargedHadron", "isNeutralHadron", "isPhoton", "isElectron", "isMuon")):
        part[flag] = (kind == j).astype(np.int32)
    for name, scale in (("d0val", 0.1), ("d0err", 0.05), ("dzval", 0.2), ("dzerr", 0.05)):
        part[name] = np.where(charge != 0, np.abs(rng.normal(0, scale, len(jet))), 0.0)
    sums = {k: np.bincount(jet, weights=part[k], minlength=n_jets) for k in ("px", "py", "pz", "energy")}
    return {
        "part": {k: ak.unflatten(v, counts) for k, v in part.items()},
        "jet_pt": np.hypot(sums["px"], sums["py"]),
        "jet_eta": axis_eta,
        "jet_phi": axis_phi,
        "jet_energy": sums["energy"],
        "jet_nparticles": counts.astype(float),
        "jet_sdmass": rng.uniform(10, 200, n_jets),
        **{f"jet_tau{k}": rng.uniform(0, 1, n_jets) for k in range(1, 5)},
    }
