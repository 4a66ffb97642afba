"""Read and write showers in the two public HDF5 formats, checking the files first.

CaloGAN (arXiv:1705.02355, data on Mendeley Data): ``energy`` (N, 1) [GeV],
``layer_0`` (N, 3, 96), ``layer_1`` (N, 12, 12), ``layer_2`` (N, 12, 6) [MeV] and an
optional ``overflow`` (N, 3).

Fast Calorimeter Simulation Challenge (arXiv:2410.21611, Zenodo): ``incident_energies``
(N, 1) and ``showers`` (N, n_voxels), both in MeV; voxels flattened radial bin fastest,
then angular bin, then layer, which is the flat cell order of the cylindrical geometries
here. A challenge file is matched to its geometry by its voxel count: 368
(``dataset1-photons``), 533 (``dataset1-pions``), 6480 (``dataset2``), 40500
(``dataset3``); 504 (``calogan``) for CaloGAN-geometry showers written in this format.

Every reader calls the checks of :func:`check_shower_file` (signature, keys, shapes,
values), so a bad file is reported as a problem of the file (NaN, negative cells,
wrong units) and not later as a failed physics check.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.geometry import GEOMETRIES, get_geometry, layer_images
from hepml_nb.core.errors import DataError
from hepml_nb.core.files import check_input_file
from hepml_nb.core.results import atomic_output

__all__ = [
    "KNOWN_LAYOUTS",
    "LAYOUT_GEOMETRIES",
    "geometry_for_voxels",
    "NEGATIVE_CELL_TOLERANCE_MEV",
    "RESPONSE_RANGE",
    "VALUE_CHECK_SHOWERS",
    "check_reference_file",
    "check_shower_file",
    "FileSamples",
    "file_samples",
    "read_calogan_h5",
    "read_challenge_h5",
    "read_showers",
    "write_calogan_h5",
    "write_challenge_h5",
]

_CALOGAN_KEYS = ("energy", "layer_0", "layer_1", "layer_2")
_CHALLENGE_KEYS = ("incident_energies", "showers")
_SCHEMA = "CaloGAN: energy [GeV], layer_0..2 [MeV]; or CaloChallenge: incident_energies, showers [MeV]"

#: Most negative cell energy accepted [MeV]. Geant4 deposits are never negative and neither
#: the CaloGAN nor the CaloChallenge files hold negative cells; 1 keV is 15x below the
#: challenge's 15.15 keV read-out threshold, so values above it are rounding noise, while
#: anything below is a processed file (noise- or pedestal-subtracted, standardised, log).
NEGATIVE_CELL_TOLERANCE_MEV = -1e-3
#: Accepted range of the median response E_tot / E_inc (both in MeV) over the checked showers.
#: Physical files lie between about 0.01 (a sampling calorimeter's sampling fraction) and 1.1
#: (full deposit plus fluctuation): CaloChallenge dataset 2 about 0.3-1.1, CaloGAN
#: about 0.5-1. One column in the wrong unit moves the median by 1000x, far outside.
RESPONSE_RANGE = (3e-3, 3.0)
#: Showers at the start of a file whose values :func:`check_shower_file` checks.
VALUE_CHECK_SHOWERS = 1000
#: Cells per shower of the public layouts, for messages when a file fits another geometry.
KNOWN_LAYOUTS = {
    368: "CaloChallenge dataset 1 (photons, geometry 'dataset1-photons')",
    504: "CaloGAN (geometry 'calogan')",
    533: "CaloChallenge dataset 1 (pions, geometry 'dataset1-pions')",
    6480: "CaloChallenge dataset 2 (geometry 'dataset2')",
    40500: "CaloChallenge dataset 3 (geometry 'dataset3')",
}
#: Geometry of a challenge-format file by its voxel count (every geometry's count is distinct).
LAYOUT_GEOMETRIES = {geo.n_cells: name for name, geo in GEOMETRIES.items()}


def _open(path: str | Path) -> h5py.File:
    """Check the file (exists, readable, HDF5 signature) and open it with h5py."""
    path = check_input_file(path, kind="hdf5", what="shower file", schema=_SCHEMA)
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        why = "it is truncated" if "truncated" in str(exc) else "it is probably truncated or corrupt"
        raise DataError(
            f"shower file {path} is not a readable HDF5 file ({exc}); {why}: copy or write it again"
        ) from None


def _require(fh: h5py.File, keys: tuple[str, ...], fmt: str) -> None:
    missing = [k for k in keys if k not in fh]
    if missing:
        raise DataError(
            f"{fh.filename} is not a {fmt} file: keys {missing} missing (found {sorted(fh.keys())}); "
            f"a {fmt} file needs {', '.join(keys)}"
        )
    for key in keys:
        item = fh[key]
        if not isinstance(item, h5py.Dataset) or not np.issubdtype(item.dtype, np.number):
            kind = "a group" if isinstance(item, h5py.Group) else f"of type {item.dtype}"
            raise DataError(
                f"{fh.filename}: {key!r} is {kind}, not a numeric dataset; a {fmt} file needs "
                f"numeric datasets {', '.join(keys)}"
            )


def _slice(n: int | None) -> slice:
    return slice(None) if n is None else slice(0, int(n))


def _format(fh: h5py.File) -> str:
    """``calogan`` or ``challenge`` from the keys; DataError naming the missing keys otherwise."""
    keys = set(fh.keys())
    if set(_CALOGAN_KEYS) <= keys:
        return "calogan"
    if set(_CHALLENGE_KEYS) <= keys:
        return "challenge"
    if keys & set(_CHALLENGE_KEYS):
        _require(fh, _CHALLENGE_KEYS, "CaloChallenge")
    if keys & set(_CALOGAN_KEYS):
        _require(fh, _CALOGAN_KEYS, "CaloGAN")
    raise DataError(
        f"{fh.filename} has keys {sorted(keys)}: neither CaloGAN ({', '.join(_CALOGAN_KEYS)}) nor "
        f"CaloChallenge ({', '.join(_CHALLENGE_KEYS)}); give a shower file in one of these formats"
    )


def _energy_count(fh: h5py.File, key: str) -> int:
    shape = fh[key].shape
    if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
        raise DataError(
            f"{fh.filename}: {key!r} has shape {shape}, expected (N, 1) or (N,): one incident energy per shower"
        )
    return int(shape[0])


def _calogan_layout(fh: h5py.File) -> int:
    """Number of showers of a CaloGAN file after checking the layer shapes (nothing is read)."""
    _require(fh, _CALOGAN_KEYS, "CaloGAN")
    count = _energy_count(fh, "energy")
    for i, shape in enumerate(get_geometry("calogan").layer_shapes):
        found = fh[f"layer_{i}"].shape
        if found != (count, *shape):
            raise DataError(
                f"{fh.filename}: layer_{i} has shape {found}, expected ({count}, "
                f"{shape[0]}, {shape[1]}) for the CaloGAN geometry"
            )
    return count


def _layout_hint(n_voxels: int) -> str:
    known = KNOWN_LAYOUTS.get(n_voxels)
    if known:
        return f"{n_voxels} voxels is the layout of {known}"
    listed = ", ".join(f"{k} ({v})" for k, v in KNOWN_LAYOUTS.items())
    return f"{n_voxels} voxels matches no known layout: {listed}"


def geometry_for_voxels(n_voxels: int, *, filename: str | Path = "the file") -> str:
    """Name of the geometry with ``n_voxels`` voxels per shower; DataError naming the known counts otherwise."""
    name = LAYOUT_GEOMETRIES.get(int(n_voxels))
    if name is None:
        listed = ", ".join(f"{k} ({v})" for k, v in KNOWN_LAYOUTS.items())
        raise DataError(
            f"{filename}: 'showers' has {int(n_voxels)} voxels per shower, which matches no known layout "
            f"(known voxel counts: {listed}); give a file of one of these datasets, or pass the geometry "
            f"explicitly (geometry=...) if the file was written for a Geometry of your own"
        )
    return name


def _challenge_geometry(fh: h5py.File, geometry: str | None) -> str:
    """The geometry of a CaloChallenge file: ``geometry``, or matched by the voxel count when None."""
    if geometry is not None:
        return get_geometry(geometry).name
    _require(fh, _CHALLENGE_KEYS, "CaloChallenge")
    shape = fh["showers"].shape
    if len(shape) != 2:
        raise DataError(
            f"{fh.filename}: 'showers' has shape {shape}, expected (N, n_voxels): one row of voxels per shower"
        )
    return geometry_for_voxels(shape[1], filename=fh.filename)


def _challenge_layout(fh: h5py.File, geometry: str | None) -> int:
    """Number of showers of a CaloChallenge file after checking its shapes against ``geometry``
    (matched by the voxel count when None)."""
    _require(fh, _CHALLENGE_KEYS, "CaloChallenge")
    geo = get_geometry(_challenge_geometry(fh, geometry))
    count = _energy_count(fh, "incident_energies")
    shape = fh["showers"].shape
    if len(shape) != 2 or shape != (count, geo.n_cells):
        hint = f" ({_layout_hint(shape[1])})" if len(shape) == 2 else ""
        raise DataError(
            f"{fh.filename}: 'showers' has shape {shape}, expected ({count}, {geo.n_cells}) for "
            f"geometry {geo.name!r}{hint}; pick the geometry of the file's dataset (one of: "
            f"{', '.join(GEOMETRIES)}; geometry=None matches it by the voxel count) or give a file with one "
            f"row of {geo.n_cells} voxels per incident energy"
        )
    return count


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_finite_positive(path, e_raw: np.ndarray, cells: np.ndarray, start: int, e_name: str) -> None:
    bad = ~np.isfinite(e_raw)
    if bad.any():
        i = _first(bad)
        raise DataError(
            f"shower file {path}: {e_name} is {e_raw[i]} (not finite) for {int(bad.sum())} of "
            f"{e_raw.size} showers checked (first: shower {start + i}); the file is damaged or "
            f"was written from bad values: drop these showers or write the file again"
        )
    bad = e_raw <= 0
    if bad.any():
        i = _first(bad)
        raise DataError(
            f"shower file {path}: {e_name} is {e_raw[i]} (not positive) for {int(bad.sum())} of "
            f"{e_raw.size} showers checked (first: shower {start + i}); incident energies must be "
            f"> 0: drop these showers or write the file again"
        )
    bad = ~np.isfinite(cells)
    if bad.any():
        rows = bad.any(axis=1)
        i = _first(rows)
        raise DataError(
            f"shower file {path}: {int(bad.sum())} cell energies are NaN or inf, in {int(rows.sum())} "
            f"of {len(cells)} showers checked (first: shower {start + i}, cell {_first(bad[i])}); "
            f"the file is damaged or was written from bad values: drop these showers or write the "
            f"file again"
        )


def _check_negative(path, cells: np.ndarray, start: int) -> None:
    low = cells < NEGATIVE_CELL_TOLERANCE_MEV
    if low.any():
        rows = low.any(axis=1)
        i = _first(rows)
        raise DataError(
            f"shower file {path}: {int(low.sum())} cells are negative, down to {float(cells.min()):.4g} MeV, in "
            f"{int(rows.sum())} of {len(cells)} showers checked (first: shower {start + i}); the tolerance is "
            f"{NEGATIVE_CELL_TOLERANCE_MEV} MeV. Simulated deposits are never negative: the file holds processed "
            f"values (noise- or pedestal-subtracted, standardised or log-transformed for training) rather than "
            f"cell energies in MeV; give the raw energies (clip rounding noise with np.clip(cells, 0, None))"
        )


def _unit_hint(fmt: str, ratio: float, e_raw: np.ndarray) -> str:
    """The likely unit mistake behind a median E_tot/E_inc ``ratio`` outside RESPONSE_RANGE."""
    lo, hi = RESPONSE_RANGE
    if lo <= ratio / 1000 <= hi:
        return (
            "'incident_energies' look like GeV, but the format stores MeV: multiply them by 1000"
            if fmt == "challenge"
            else "the layer cells look like keV, but CaloGAN stores MeV: divide them by 1000"
        )
    if lo <= ratio * 1000 <= hi:
        if fmt == "challenge":
            return "'showers' look like GeV, but the format stores MeV: multiply them by 1000"
        if np.median(e_raw) > 1000:
            return (
                f"'energy' looks like MeV (median {np.median(e_raw):.4g}, which would be "
                f"{np.median(e_raw) / 1000:.4g} TeV in GeV), but CaloGAN stores GeV: divide it by 1000"
            )
        return "the layer cells look like GeV, but CaloGAN stores MeV: multiply them by 1000"
    units = "incident_energies and showers in MeV" if fmt == "challenge" else "energy in GeV, layers in MeV"
    return f"check the units ({units}) and that the cells belong to these incident energies"


def _check_response(path, fmt: str, e_raw: np.ndarray, cells: np.ndarray) -> None:
    e_mev = e_raw * (1000.0 if fmt == "calogan" else 1.0)
    e_tot = cells.sum(axis=1, dtype=np.float64)
    hit = e_tot > 0
    if not hit.any():
        raise DataError(
            f"shower file {path}: all {len(cells)} showers checked are empty (no cell has energy); "
            f"give a file with the showers' cell energies in MeV"
        )
    ratio = float(np.median(e_tot[hit] / e_mev[hit]))
    lo, hi = RESPONSE_RANGE
    if not lo <= ratio <= hi:
        formula = "sum(showers) / incident_energies" if fmt == "challenge" else "sum(cells) / (1000 * energy)"
        raise DataError(
            f"shower file {path}: the median E_tot/E_inc = {formula} is {ratio:.4g}, outside the "
            f"physical range {lo:g} to {hi:g}: {_unit_hint(fmt, ratio, e_raw)}"
        )


def _check_values(path, fmt: str, e_raw: np.ndarray, cells: np.ndarray) -> None:
    """NaN/inf, non-positive incident energies, negative cells (all showers given, in blocks of
    VALUE_CHECK_SHOWERS) and the response / units (first block)."""
    e_name = "'incident_energies'" if fmt == "challenge" else "'energy'"
    for start in range(0, len(e_raw), VALUE_CHECK_SHOWERS):
        block = slice(start, start + VALUE_CHECK_SHOWERS)
        _check_finite_positive(path, e_raw[block], cells[block], start, e_name)
        _check_negative(path, cells[block], start)
    if len(e_raw):
        _check_response(path, fmt, e_raw[:VALUE_CHECK_SHOWERS], cells[:VALUE_CHECK_SHOWERS])


def _read_calogan(fh: h5py.File, index: slice) -> tuple[np.ndarray, np.ndarray]:
    energy = np.asarray(fh["energy"][index], dtype=float).reshape(-1)
    blocks = [np.asarray(fh[f"layer_{i}"][index], dtype=np.float32).reshape(energy.size, -1) for i in range(3)]
    return energy, np.concatenate(blocks, axis=1)


def _read_overflow(fh: h5py.File, index: slice, count: int) -> np.ndarray | None:
    """The CaloGAN ``overflow`` (N, 3) [MeV], or None when the file has none; DataError for a wrong shape."""
    if "overflow" not in fh:
        return None
    item = fh["overflow"]
    if not isinstance(item, h5py.Dataset) or item.shape != (count, 3):
        shape = item.shape if isinstance(item, h5py.Dataset) else "a group"
        raise DataError(
            f"{fh.filename}: 'overflow' is {shape}, expected ({count}, 3): the energy per layer outside the "
            f"cells; drop the dataset or write it with one row per shower"
        )
    return np.asarray(item[index], dtype=np.float32)


def _read_challenge(fh: h5py.File, index: slice) -> tuple[np.ndarray, np.ndarray]:
    e_mev = np.asarray(fh["incident_energies"][index], dtype=np.float64).reshape(-1)
    return e_mev, np.asarray(fh["showers"][index], dtype=np.float32)


def check_reference_file(path: str | Path, *, n_eval: int) -> str:
    """Check the ``data_path`` of the shower-validation notebook before the run.

    The notebook takes ``n_eval`` showers of the file as the reference, ``n_eval`` more
    for the reference-vs-reference floor and trains the generator on the rest, so the file
    needs more than ``2 * n_eval`` showers (at least :data:`MIN_TRAIN_SHOWERS` more). Any
    known layout is accepted (CaloGAN, or a CaloChallenge dataset matched by its voxel
    count). See :func:`check_shower_file`.
    """
    return check_shower_file(path, n=2 * int(n_eval) + MIN_TRAIN_SHOWERS)


#: Showers the notebook's ``data_path`` route needs beyond its two evaluation samples.
MIN_TRAIN_SHOWERS = 100


def check_shower_file(path: str | Path, *, n: int | None = None, geometry: str | None = None) -> str:
    """Check a CaloGAN or CaloChallenge HDF5 file before any work; return its format.

    Parameters
    ----------
    path
        The HDF5 file.
    n
        Showers the run needs; the file must hold at least this many (None: any number > 0).
    geometry
        Geometry a CaloChallenge file is read in (a key of GEOMETRIES); its voxel count must
        match. None (default): matched by the voxel count (LAYOUT_GEOMETRIES; DataError naming
        the known counts when none fits). CaloGAN files are always in the ``calogan`` geometry.

    Returns
    -------
    str
        ``"calogan"`` or ``"challenge"``.

    Raises
    ------
    DataError
        The file is missing, unreadable, empty, not HDF5 or truncated; its keys fit neither
        format; a shape does not fit (the voxel count is matched against the known
        layouts); it holds fewer than ``n`` showers; or, on its first VALUE_CHECK_SHOWERS
        showers, an energy or cell is NaN/inf, an incident energy is not positive, a cell is
        below NEGATIVE_CELL_TOLERANCE_MEV, or the median E_tot/E_inc lies outside
        RESPONSE_RANGE (the message names the unit the column seems to be in).
    """
    with _open(path) as fh:
        fmt = _format(fh)
        _read_open(fh, fmt, geometry, VALUE_CHECK_SHOWERS, need=0 if n is None else int(n))
    return fmt


def _check_count(fh: h5py.File, count: int, need: int) -> None:
    """DataError when the file holds no shower, or fewer than ``need``."""
    if count == 0:
        raise DataError(f"shower file {fh.filename} holds no showers (0 rows); give a file with showers")
    if count < need:
        raise DataError(
            f"shower file {fh.filename} holds {count} showers but {need} are needed (n={need}); "
            "ask for fewer showers (in the calogan notebook the file must hold "
            f"2 * n_eval + {MIN_TRAIN_SHOWERS}: two evaluation samples and showers to train on) "
            "or give a larger file"
        )


def _read_open(fh: h5py.File, fmt: str, geometry: str | None, n: int | None, *, need: int | None = None) -> ShowerSet:
    """The first ``n`` showers (all when None) of an open file of format ``fmt``, with every check on the way.

    The layout (keys, shapes; a challenge file's geometry is ``geometry``, matched by the voxel
    count when None), with ``need`` the number of showers the file must hold (None: no count
    check), then the values of the showers read (:func:`_check_values`). This is the one place a
    shower file is checked and read: every public reader opens the file once and calls it.
    """
    if fmt == "calogan":
        name, count = "calogan", _calogan_layout(fh)
    else:
        name = _challenge_geometry(fh, geometry)
        count = _challenge_layout(fh, name)
    if need is not None:
        _check_count(fh, count, need)
    index = _slice(n)
    if fmt == "calogan":
        e_raw, cells = _read_calogan(fh, index)
        overflow = _read_overflow(fh, index, count)
    else:
        (e_raw, cells), overflow = _read_challenge(fh, index), None
    _check_values(fh.filename, fmt, e_raw, cells)
    return ShowerSet(e_raw if fmt == "calogan" else e_raw / 1000.0, cells, name, overflow)


def write_calogan_h5(showers: ShowerSet, path: str | Path) -> Path:
    """Write CaloGAN-geometry showers as a CaloGAN HDF5 file.

    ``overflow`` (N, 3) [MeV] is the showers' per-layer energy outside the cells
    (``ShowerSet.overflow``, filled by GFlash), or zeros when the showers carry none.
    """
    if showers.geometry != "calogan":
        raise DataError(f"the CaloGAN format holds 'calogan' showers only, got geometry {showers.geometry!r}")
    path = Path(path)
    layers = layer_images(get_geometry("calogan"), showers.cells)
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as fh:
        fh.create_dataset("energy", data=np.asarray(showers.e_inc, np.float32)[:, None])
        for i, image in enumerate(layers):
            fh.create_dataset(f"layer_{i}", data=image.astype(np.float32), compression="gzip")
        overflow = showers.overflow
        if overflow is None:
            overflow = np.zeros((len(showers), 3), np.float32)
        elif np.shape(overflow) != (len(showers), 3):
            raise DataError(
                f"overflow of the showers has shape {np.shape(overflow)}, expected ({len(showers)}, 3): one energy "
                f"per CaloGAN layer and shower"
            )
        fh.create_dataset("overflow", data=np.asarray(overflow, np.float32))
    return path


def read_calogan_h5(path: str | Path, *, n: int | None = None) -> ShowerSet:
    """Read a CaloGAN HDF5 file (the first ``n`` showers, or all) into a ``calogan`` ShowerSet.

    The file's ``overflow`` (N, 3), when present, becomes ``ShowerSet.overflow``. The file and
    the showers read get the checks of :func:`check_shower_file` (DataError).
    """
    with _open(path) as fh:
        return _read_open(fh, "calogan", None, n)


def write_challenge_h5(showers: ShowerSet, path: str | Path) -> Path:
    """Write showers as a CaloChallenge HDF5 file (energies in MeV as float64, voxels in MeV as float32)."""
    path = Path(path)
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as fh:
        fh.create_dataset("incident_energies", data=(1000.0 * np.asarray(showers.e_inc, np.float64))[:, None])
        fh.create_dataset("showers", data=np.asarray(showers.cells, np.float32), compression="gzip")
    return path


def read_challenge_h5(path: str | Path, *, geometry: str | None = None, n: int | None = None) -> ShowerSet:
    """Read a CaloChallenge HDF5 file into a ShowerSet of ``geometry`` (energies converted to GeV).

    ``geometry`` None (default): the geometry whose voxel count the file has (368
    ``dataset1-photons``, 533 ``dataset1-pions``, 6480 ``dataset2``, 40500 ``dataset3``,
    504 ``calogan``). The file and the showers read get the checks of
    :func:`check_shower_file` (DataError).
    """
    with _open(path) as fh:
        return _read_open(fh, "challenge", geometry, n)


def read_showers(path: str | Path, *, n: int | None = None, geometry: str | None = None) -> ShowerSet:
    """Read either format, recognised by its keys (CaloGAN, or CaloChallenge in ``geometry``,
    matched by the voxel count when None).

    ``n`` is the most showers read (all when None). Raises the DataErrors of
    :func:`check_shower_file` (except the minimum count, which that function checks).
    """
    with _open(path) as fh:
        return _read_open(fh, _format(fh), geometry, n)


class FileSamples(NamedTuple):
    """A shower file split for validation (:func:`file_samples`): ``reference`` and ``floor``
    (two disjoint evaluation samples, in the file's geometry), ``train`` (the rest, up to
    ``n_train``) and the incident-energy range of the showers read, ``e_min``, ``e_max`` [GeV]."""

    reference: ShowerSet
    floor: ShowerSet
    train: ShowerSet
    e_min: float
    e_max: float


def file_samples(path: str | Path, *, n_eval: int, n_train: int, seed: int = 0) -> FileSamples:
    """Split a shower file (either format, any known layout) into reference, floor and training showers.

    Reads the first ``2 * n_eval + n_train`` showers, shuffles them with ``seed`` (public files
    are often sorted by energy), then takes ``n_eval`` as the reference, the next ``n_eval`` as
    the reference-vs-reference floor and the rest (at most ``n_train``) to train a generator
    on. Geometry and energy range come from the file.

    The file is opened once: its layout and size are checked as :func:`check_reference_file` does,
    and the values of every shower read as :func:`read_showers` does.

    Raises
    ------
    DataError
        The checks of :func:`check_reference_file` (keys, layout, values, units, and more than
        ``2 * n_eval`` showers: at least :data:`MIN_TRAIN_SHOWERS` are left to train on).
    """
    with _open(path) as fh:
        need = 2 * int(n_eval) + MIN_TRAIN_SHOWERS
        showers = _read_open(fh, _format(fh), None, 2 * int(n_eval) + int(n_train), need=need)
    showers = showers.subset(np.random.default_rng(seed).permutation(len(showers)))
    return FileSamples(
        showers.subset(slice(0, n_eval)),
        showers.subset(slice(n_eval, 2 * n_eval)),
        showers.subset(slice(2 * n_eval, None)),
        float(showers.e_inc.min()),
        float(showers.e_inc.max()),
    )
