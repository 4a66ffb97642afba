"""Which files another user of the machine could have changed: the one rule for native code and temporaries.

A path is *private* when no other user (root aside) can change it or swap it for
something else: every component from it up to ``/`` is owned by you or by root and is
not writable by group or others, except that a folder above the ``root`` the path is
checked under may be writable by all when it is sticky like ``/tmp`` (no one else can
rename or remove what is yours in it).
Below a folder of yours that no one else may enter (no search permission for group and
others, e.g. mode 0700) the modes of what lies inside do not matter. Between the path and
the ``root`` it is checked under, no component may be a symbolic link.

Native code (compiled libraries, simulator executables, Verilog a simulator runs) is used
only from a private path; data files are read from anywhere they are found. A file that
is written into a folder that is not private goes through a private staging folder
(:func:`hepml_nb.core.results.atomic_output`), and a lock file is opened without
following a symbolic link (:func:`open_lock_file`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hepml_nb.core.errors import OutputError

__all__ = ["why_not_private", "is_private", "world_writable_folder", "open_lock_file"]


def _owner(uid: int) -> str:
    try:
        import pwd

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _problem(path: Path, st: os.stat_result, *, sealed: bool, above_root: bool) -> str | None:
    """Why another user could change ``path`` (its lstat ``st``), or None.

    ``sealed``: inside a folder of yours that no one else may enter. ``above_root``: a folder
    above the root, where the sticky bit suffices (others cannot rename or remove your entries);
    in the root and below it does not (others could create the entries you are about to use).
    """
    if st.st_uid not in (os.getuid(), 0):
        return f"{path} is owned by {_owner(st.st_uid)}"
    if sealed:
        return None
    if above_root and st.st_mode & stat.S_ISVTX:
        return None
    if st.st_mode & stat.S_IWOTH:
        return f"{path} is writable by everyone"
    if st.st_mode & stat.S_IWGRP:
        return f"{path} is writable by its group"
    return None


def _seals(st: os.stat_result) -> bool:
    """A folder of yours that group and others cannot enter: nobody else reaches what it holds."""
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o011


def why_not_private(path: Path | str, root: Path | str | None = None) -> str | None:
    """Why another user could change ``path``, naming the component; None when it is private.

    Parameters
    ----------
    path
        A file or folder inside ``root``.
    root
        The folder the path was looked up under (a cache folder; default: ``path`` itself).
        It may be reached through symbolic links (its real path is checked); between it and
        ``path`` none is allowed.
    """
    path = Path(path)
    root = Path(root) if root is not None else path
    try:
        relative = path.relative_to(root)
    except ValueError:
        return f"{path} is not inside {root}"
    real_root = Path(os.path.realpath(root))
    components = [*reversed(real_root.parents), real_root]
    for part in relative.parts:
        components.append(components[-1] / part)
    sealed = False
    for index, component in enumerate(components):
        try:
            st = os.lstat(component)
        except OSError:
            return f"{component} does not exist or cannot be read"
        if stat.S_ISLNK(st.st_mode) and index >= len(components) - len(relative.parts):
            return f"{component} is a symbolic link"
        problem = _problem(component, st, sealed=sealed, above_root=index < len(real_root.parents))
        if problem:
            return problem
        sealed = sealed or _seals(st)
    return None


def is_private(path: Path | str, root: Path | str | None = None) -> bool:
    """True when no other user (root aside) can change ``path`` (see :func:`why_not_private`)."""
    return why_not_private(path, root) is None


def world_writable_folder(folder: Path | str) -> Path | None:
    """The first folder on the way to ``folder`` through which any user could change what it holds, else None.

    That is a folder above it that every user can write and that lacks the sticky bit
    (anyone could rename it away), or ``folder`` itself when every user can write it
    (sticky or not: anyone could put entries into it). Only existing folders are looked
    at; none below a folder of yours that no one else may enter counts.
    """
    folder = Path(os.path.realpath(folder))
    for component in [*reversed(folder.parents), folder]:
        try:
            st = os.stat(component)
        except FileNotFoundError:
            return None
        if st.st_mode & stat.S_IWOTH and (component == folder or not st.st_mode & stat.S_ISVTX):
            return component
        if _seals(st):
            return None
    return None


def open_lock_file(path: Path) -> int:
    """Open (creating if needed) the lock file ``path`` for ``flock`` and return its descriptor.

    A symbolic link is never followed and nothing is truncated, so a link planted at
    ``path`` by another user cannot make you create or change a file elsewhere; a link or
    anything but a regular file (a fifo would block) is refused.

    Raises
    ------
    OutputError
        The folder cannot be written, or ``path`` is a symbolic link or not a regular file.
    """
    flags = os.O_RDONLY | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if os.path.islink(path):
            raise OutputError(
                f"the lock file {path} is a symbolic link (someone else may have planted it); it was not "
                "followed: remove it, and keep the cache in a folder only you or your instructor can write"
            ) from None
        raise OutputError(f"cannot write in the folder {path.parent} ({exc.strerror or exc})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(
            f"the lock file {path} is not a regular file (someone else may have planted it): remove it, and "
            "keep the cache in a folder only you or your instructor can write"
        )
    return fd
