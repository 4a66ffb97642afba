"""Dataset cache: generated data stored under a cache folder, keyed by its recipe.

The key is a hash of the generating parameters and the generator's version, so a
change of either makes a new entry. Files are built under a temporary name in the
cache folder and renamed into place, so a killed or concurrent run never leaves a
half-written file that a later run reads. A second run asking for an entry that is
being built waits for it (a lock file per key) instead of building it again, and
temporary files of killed builders are removed. Entries get the permissions of the
umask, so a cache warmed by an instructor (``HEPML_NB_CACHE`` on a shared folder) can
be read by everyone, and a read-only cache keeps working for the entries it holds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from hepml_nb.core.errors import OutputError
from hepml_nb.core.results import atomic_output, remove_stale_temporaries, to_jsonable, write_json_atomic

__all__ = ["cache_dir", "cache_key", "cached_file", "cached_arrays"]

CACHE_ENV = "HEPML_NB_CACHE"


def cache_dir() -> Path:
    """The cache folder: ``$HEPML_NB_CACHE`` or the user cache dir (``~/.cache/hepml-nb``)."""
    path = Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("hepml-nb"))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the data cache folder {path} ({exc.strerror or exc}); "
            f"set {CACHE_ENV} to a folder you can write to"
        ) from None
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
    try:
        with _key_lock(folder, key):
            if final.exists():  # built by another run while this one waited
                return final
            remove_stale_temporaries(folder)
            with atomic_output(final) as tmp:
                build(tmp)
                write_json_atomic(folder / f"{key}.recipe.json", {"params": params, "version": version})
    except OutputError as exc:
        raise OutputError(
            f"the data cache cannot store {name!r} data: {exc}; the cache folder is {folder}: "
            f"make it writable, or set {CACHE_ENV} to another folder to move the cache"
        ) from None
    return final


@contextlib.contextmanager
def _key_lock(folder: Path, key: str):
    """Hold an exclusive lock on ``.<key>.lock`` in ``folder`` while an entry is built.

    The lock file is removed when the holder is done; a waiter that then holds the lock
    of a removed file tries again on the current one (no-op where fcntl is missing).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: atomic renames still protect readers
        yield
        return
    path = folder / f".{key}.lock"
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write in the folder {folder} ({exc.strerror or exc})") from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


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
