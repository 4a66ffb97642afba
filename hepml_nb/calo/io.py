"""Read and write showers in the two public HDF5 formats.

CaloGAN (arXiv:1705.02355, data on Mendeley Data): ``energy`` (N, 1) [GeV],
``layer_0`` (N, 3, 96), ``layer_1`` (N, 12, 12), ``layer_2`` (N, 12, 6) [MeV] and an
optional ``overflow`` (N, 3).

Fast Calorimeter Simulation Challenge (arXiv:2410.21611, Zenodo): ``incident_energies``
(N, 1) and ``showers`` (N, n_voxels), both in MeV; voxels flattened radial bin fastest,
then angular bin, then layer (dataset 2: 45 x 16 x 9 = 6480 voxels), which is the flat
cell order of the ``dataset2`` geometry here.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from hepml_nb.core.errors import DataError
from hepml_nb.core.results import atomic_output
from hepml_nb.calo.geometry import get_geometry, layer_images
from hepml_nb.calo.gflash import ShowerSet

__all__ = ["write_calogan_h5", "read_calogan_h5", "write_challenge_h5", "read_challenge_h5", "read_showers"]

_CALOGAN_KEYS = ("energy", "layer_0", "layer_1", "layer_2")
_CHALLENGE_KEYS = ("incident_energies", "showers")


def _open(path: str | Path) -> h5py.File:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"shower file {path} not found; give the path of a CaloGAN or CaloChallenge HDF5 file")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path} is not a readable HDF5 file ({exc})") from None


def _require(fh: h5py.File, keys: tuple[str, ...], fmt: str) -> None:
    missing = [k for k in keys if k not in fh]
    if missing:
        raise DataError(f"{fh.filename} is not a {fmt} file: keys {missing} missing (found {sorted(fh.keys())}); "
                        f"a {fmt} file needs {', '.join(keys)}")


def _slice(n: int | None) -> slice:
    return slice(None) if n is None else slice(0, int(n))


def write_calogan_h5(showers: ShowerSet, path: str | Path) -> Path:
    """Write CaloGAN-geometry showers as a CaloGAN HDF5 file (overflow set to 0)."""
    if showers.geometry != "calogan":
        raise DataError(f"the CaloGAN format holds 'calogan' showers only, got geometry {showers.geometry!r}")
    path = Path(path)
    layers = layer_images(get_geometry("calogan"), showers.cells)
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as fh:
        fh.create_dataset("energy", data=np.asarray(showers.e_inc, np.float32)[:, None])
        for i, image in enumerate(layers):
            fh.create_dataset(f"layer_{i}", data=image.astype(np.float32), compression="gzip")
        fh.create_dataset("overflow", data=np.zeros((len(showers), 3), np.float32))
    return path


def read_calogan_h5(path: str | Path, *, n: int | None = None) -> ShowerSet:
    """Read a CaloGAN HDF5 file (the first ``n`` showers, or all) into a ``calogan`` ShowerSet."""
    geo = get_geometry("calogan")
    with _open(path) as fh:
        _require(fh, _CALOGAN_KEYS, "CaloGAN")
        energy = np.asarray(fh["energy"][_slice(n)], dtype=float).reshape(-1)
        blocks = []
        for i, shape in enumerate(geo.layer_shapes):
            data = np.asarray(fh[f"layer_{i}"][_slice(n)], dtype=np.float32)
            if data.shape[1:] != shape or data.shape[0] != energy.size:
                raise DataError(f"{fh.filename}: layer_{i} has shape {data.shape}, expected ({energy.size}, "
                                f"{shape[0]}, {shape[1]}) for the CaloGAN geometry")
            blocks.append(data.reshape(energy.size, -1))
    return ShowerSet(energy, np.concatenate(blocks, axis=1), "calogan")


def write_challenge_h5(showers: ShowerSet, path: str | Path) -> Path:
    """Write showers as a CaloChallenge HDF5 file (energies in MeV as float64, voxels in MeV as float32)."""
    path = Path(path)
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as fh:
        fh.create_dataset("incident_energies", data=(1000.0 * np.asarray(showers.e_inc, np.float64))[:, None])
        fh.create_dataset("showers", data=np.asarray(showers.cells, np.float32), compression="gzip")
    return path


def read_challenge_h5(path: str | Path, *, geometry: str = "dataset2", n: int | None = None) -> ShowerSet:
    """Read a CaloChallenge HDF5 file into a ShowerSet of ``geometry`` (energies converted to GeV)."""
    geo = get_geometry(geometry)
    with _open(path) as fh:
        _require(fh, _CHALLENGE_KEYS, "CaloChallenge")
        e_inc = np.asarray(fh["incident_energies"][_slice(n)], dtype=np.float64).reshape(-1) / 1000.0
        cells = np.asarray(fh["showers"][_slice(n)], dtype=np.float32)
    if cells.ndim != 2 or cells.shape != (e_inc.size, geo.n_cells):
        raise DataError(f"{path}: 'showers' has shape {cells.shape}, expected ({e_inc.size}, {geo.n_cells}) for "
                        f"geometry {geo.name!r}; pick the geometry of the file's dataset")
    return ShowerSet(e_inc, cells, geo.name)


def read_showers(path: str | Path, *, n: int | None = None, geometry: str = "dataset2") -> ShowerSet:
    """Read either format, recognised by its keys (CaloGAN, or CaloChallenge in ``geometry``)."""
    with _open(path) as fh:
        keys = set(fh.keys())
    if set(_CALOGAN_KEYS) <= keys:
        return read_calogan_h5(path, n=n)
    if set(_CHALLENGE_KEYS) <= keys:
        return read_challenge_h5(path, geometry=geometry, n=n)
    raise DataError(f"{path} has keys {sorted(keys)}: neither CaloGAN ({', '.join(_CALOGAN_KEYS)}) nor "
                    f"CaloChallenge ({', '.join(_CHALLENGE_KEYS)})")
