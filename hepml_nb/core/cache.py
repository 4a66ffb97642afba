"""Dataset cache: generated data stored under a cache folder, keyed by its recipe.

The key is a hash of the generating parameters and the generator's version, so a
change of either makes a new entry. Files are built under a temporary name in the
cache folder and renamed into place, so a killed or concurrent run never leaves a
half-written file that a later run reads. A second run asking for an entry that is
being built waits for it (a lock file per key) instead of building it again, and
temporary files of killed builders are removed. Entries get the permissions of the
umask, so a cache warmed by an instructor (``HEPML_NB_CACHE`` on a shared folder) can
be read by everyone, and a read-only cache keeps working for the entries it holds.

Data files are read from such a shared cache; native code and executables are not:
:func:`native_dir` gives the folder to build and load them in, which is the cache's own
sub-folder only when no other user can change it (:mod:`hepml_nb.core.trust`), else one
of the user's own. A cache folder that every user can replace (a world-writable folder
without the sticky bit on its way) is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from hepml_nb.core.errors import OutputError
from hepml_nb.core.results import atomic_output, remove_stale_temporaries, to_jsonable, write_json_atomic
from hepml_nb.core.trust import open_lock_file, why_not_private, world_writable_folder

__all__ = ["cache_dir", "cache_key", "cached_file", "cached_arrays", "native_dir", "key_lock"]

CACHE_ENV = "HEPML_NB_CACHE"


def cache_dir() -> Path:
    """The cache folder: ``$HEPML_NB_CACHE`` or the user cache dir (``~/.cache/hepml-nb``).

    Raises
    ------
    OutputError
        The folder cannot be created, or it or a folder above it is writable by every user
        without the sticky bit (anyone could replace the cache); the message names that folder.
    """
    path = Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("hepml-nb"))
    _refuse_replaceable(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the data cache folder {path} ({exc.strerror or exc}); "
            f"set {CACHE_ENV} to a folder you can write to"
        ) from None
    _refuse_replaceable(path)
    return path


def _refuse_replaceable(path: Path) -> None:
    folder = world_writable_folder(path)
    if folder is not None:
        fix = f"`chmod o-w {folder}`" + ("" if folder == Path(os.path.realpath(path)) else f" (or `chmod +t {folder}`)")
        raise OutputError(
            f"the data cache folder {path} is not used: every user can write {folder}, so anyone could replace "
            f"what the cache holds. Run {fix}, or set {CACHE_ENV} to a folder only you or your instructor can write"
        )


_NOTICES: set[tuple[Path, Path]] = set()
_SCRATCH: dict[str, Path] = {}


def native_dir(kind: str, folder: Path | str | None = None) -> Path:
    """The folder to build, load and run native code and executables of ``kind`` in (real path, created).

    It is ``folder`` (default: ``cache_dir() / kind``) when no other user can change it
    (:func:`hepml_nb.core.trust.is_private`). Otherwise (a cache warmed by someone else,
    a group-writable folder) it is a private folder of the user's own: ``kind`` in the
    user cache dir (``~/.cache/hepml-nb``), else ``hepml-nb-<uid>/<kind>`` in the temporary
    folder, else a fresh ``mkdtemp`` folder; a one-line notice on stderr says why.

    Parameters
    ----------
    kind
        Sub-folder name (``"hls4ml"``, ``"rtl"``).
    folder
        A folder chosen by the caller (e.g. ``project_root=``) instead of the cache's.
    """
    if folder is None:
        root = cache_dir()
        wanted = root / kind
    else:
        root = wanted = Path(folder)
    with contextlib.suppress(OSError):  # a read-only or missing folder is simply not private
        wanted.mkdir(parents=True, exist_ok=True)
    reason = why_not_private(wanted, root)
    if reason is None:
        return Path(os.path.realpath(wanted))
    private = _private_dir(kind)
    if (wanted, private) not in _NOTICES:
        _NOTICES.add((wanted, private))
        print(
            f"notice: {kind} native code is not taken from {wanted} ({reason}); it is built in your private "
            f"folder {private}",
            file=sys.stderr,
        )
    return private


def _private_dir(kind: str) -> Path:
    """``kind`` in the user's own cache, else in ``<tmp>/hepml-nb-<uid>``, else in a fresh mkdtemp folder."""
    user = Path(platformdirs.user_cache_dir("hepml-nb"))
    scratch = Path(tempfile.gettempdir()) / f"hepml-nb-{os.getuid()}"
    for root in (user, scratch):
        with contextlib.suppress(OSError):
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            (root / kind).mkdir(mode=0o700, exist_ok=True)
            if why_not_private(root / kind) is None:
                return Path(os.path.realpath(root / kind))
    if kind not in _SCRATCH:  # one per process, so a process reuses what it built
        _SCRATCH[kind] = Path(os.path.realpath(tempfile.mkdtemp(prefix=f"hepml-nb-{kind}-")))
    return _SCRATCH[kind]


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
        with key_lock(folder, key):
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
def key_lock(folder: Path, key: str):
    """Hold an exclusive lock on ``.<key>.lock`` in ``folder`` while entry ``key`` is built.

    The lock file is opened without following a symbolic link and without truncating
    (:func:`hepml_nb.core.trust.open_lock_file`) and removed when the holder is done; a
    waiter that then holds the lock of a removed file tries again on the current one
    (no-op where fcntl is missing).

    Raises
    ------
    OutputError
        The folder cannot be written, or the lock file is a symbolic link or not a regular file.
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
        except OSError as exc:
            raise OutputError(f"cannot write in the folder {folder} ({exc.strerror or exc})") from None
        fd = open_lock_file(path)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            st = os.lstat(path)
            current = (st.st_dev, st.st_ino) == (os.fstat(fd).st_dev, os.fstat(fd).st_ino)
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
            np.savez(fh, **build())  # type: ignore[arg-type]  # numpy's stubs take **kwds for allow_pickle

    path = cached_file(name, params, version, _write, suffix=".npz")
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
