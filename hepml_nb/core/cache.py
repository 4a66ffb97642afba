"""Dataset cache: generated data stored under a cache folder, keyed by its recipe.

The key is a hash of the generating parameters and the generator's version, so a
change of either makes a new entry. Files are built under a temporary name in the
cache folder and renamed into place, so a killed or concurrent run never leaves a
half-written file that a later run reads.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import platformdirs

from hepml_nb.core.results import atomic_output, to_jsonable, write_json_atomic

__all__ = ["cache_dir", "cache_key", "cached_file", "cached_arrays"]

CACHE_ENV = "HEPML_NB_CACHE"


def cache_dir() -> Path:
    """The cache folder: ``$HEPML_NB_CACHE`` or the user cache dir (``~/.cache/hepml-nb``)."""
    path = Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("hepml-nb"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_key(params: Mapping[str, Any], version: str) -> str:
    """A short stable hash of the recipe (parameters and generator version)."""
    blob = json.dumps({"params": to_jsonable(dict(params)), "version": version}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cached_file(
    name: str,
    params: Mapping[str, Any],
    version: str,
    build: Callable[[Path], None],
    *,
    suffix: str = "",
) -> Path:
    """Return the cached file for this recipe, building it with ``build(tmp_path)`` if absent.

    Parameters
    ----------
    name
        Kind of data, used as a sub-folder (``"jets"``, ``"showers"``).
    params, version
        The recipe; together they form the key.
    build
        Writes the data to the path it is given (a temporary name in the cache folder).
    suffix
        File suffix, e.g. ``".root"`` or ``".h5"``.
    """
    folder = cache_dir() / name
    key = cache_key(params, version)
    final = folder / f"{key}{suffix}"
    if final.exists():
        return final
    with atomic_output(final) as tmp:
        build(tmp)
        write_json_atomic(folder / f"{key}.recipe.json", {"params": params, "version": version})
    return final


def cached_arrays(
    name: str,
    params: Mapping[str, Any],
    version: str,
    build: Callable[[], Mapping[str, np.ndarray]],
) -> dict[str, np.ndarray]:
    """Return a dict of numpy arrays for this recipe, computing it with ``build()`` if absent."""

    def _write(path: Path) -> None:
        with open(path, "wb") as fh:
            np.savez(fh, **build())

    path = cached_file(name, params, version, _write, suffix=".npz")
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
