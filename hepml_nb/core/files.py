"""Checks on input files the user names, done before any work starts.

``check_input_file`` is the one place both topics test that a path is an existing,
readable, non-empty regular file with the right signature (magic bytes) and, for
ROOT files, not shorter than its header says. The run validator calls it (through
``hepml_nb.jets.io.resolve_jet_files`` and ``hepml_nb.calo.io.check_shower_file``)
before a kernel starts, and the readers call it again, so a library user and the
command line get the same message.

Messages name the file (and, for a symbolic link, its target) and say what kind of file
it looks like; they never echo the file's content, which may be anything the path
points at.
"""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

from hepml_nb.core.errors import DataError

__all__ = [
    "FILE_KINDS",
    "HDF5_MAGIC",
    "ROOT_MAGIC",
    "ROOT_BEGIN",
    "check_input_file",
    "describe_start",
    "read_regular_file",
]

#: first bytes of every ROOT file
ROOT_MAGIC = b"root"
#: ``fBEGIN`` of a ROOT file header (bytes 8-11, big-endian): ROOT's ``kBEGIN``, the first data record,
#: always 100 (uproot writes it too); with the magic it tells a ROOT file from text that starts with "root"
ROOT_BEGIN = 100
#: the HDF5 signature; found at byte 0 or, after a user block, at byte 512, 1024, 2048, ...
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: what each ``kind`` is called in messages, what identifies it, and how such a file is made
FILE_KINDS = {
    "root": ("a ROOT", "no ROOT file header", "a ROOT file written by uproot or ROOT"),
    "hdf5": ("an HDF5", "no HDF5 signature", "an HDF5 file written by h5py"),
}
_OTHER_FORMATS = (
    (b"\x1f\x8b", "a gzip archive; decompress it first (gunzip)"),
    (b"PK\x03\x04", "a zip archive; unpack it first (unzip)"),
    (b"version https://git-lfs", "a Git LFS pointer, not the data; fetch the data (git lfs pull)"),
    (b"<!DOCTYPE", "an HTML page (a failed download?); download the file again"),
    (b"<html", "an HTML page (a failed download?); download the file again"),
    (HDF5_MAGIC, "an HDF5 file"),
)
_TEXT_CONTROLS = frozenset(b"\t\n\r\f")


def _is_root_header(head: bytes) -> bool:
    """True for the start of a ROOT file: the magic ``root``, then a version and ``fBEGIN`` = 100."""
    return len(head) >= 12 and head.startswith(ROOT_MAGIC) and struct.unpack(">i", head[8:12])[0] == ROOT_BEGIN


def _looks_like_text(head: bytes) -> bool:
    """True when the first bytes are UTF-8 text (no NUL, no control character but blanks)."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # a character cut at the end of the block is still text
            return False
    return all(byte >= 32 or byte in _TEXT_CONTROLS for byte in head)


def describe_start(head: bytes) -> str:
    """What the first bytes of a file say it is (used in messages), e.g. ``"a gzip archive; ..."``.

    Never quotes the bytes: ``"a text file"`` or ``"binary data of an unknown format"`` when
    no known signature matches.
    """
    if _is_root_header(head):
        return "a ROOT file"
    for magic, text in _OTHER_FORMATS:
        if head.startswith(magic):
            return text
    return "a text file" if _looks_like_text(head) else "binary data of an unknown format"


def _shown(path: Path) -> str:
    """The path for messages: a symbolic link with the file it points at."""
    return f"{path} (a symbolic link to {os.path.realpath(path)})" if path.is_symlink() else str(path)


def _missing(path: Path, what: str) -> DataError:
    if path.is_symlink():
        return DataError(
            f"{what} {path} is a symbolic link to {os.readlink(path)}, which does not exist; point the link at "
            "the file or give the file's own path"
        )
    where = "" if path.parent.is_dir() else f" (the folder {path.parent} does not exist either)"
    return DataError(
        f"{what} {path} not found{where}; check the path (it is taken relative to the "
        f"working folder {Path.cwd()} unless absolute)"
    )


def _hdf5_signature_at(fh, size: int) -> bool:
    """True when the HDF5 signature is at byte 0, 512, 1024, 2048, ... (HDF5 user blocks)."""
    offset = 0
    while offset + len(HDF5_MAGIC) <= size:
        fh.seek(offset)
        if fh.read(len(HDF5_MAGIC)) == HDF5_MAGIC:
            return True
        offset = 512 if offset == 0 else 2 * offset
    return False


def _root_declared_size(head: bytes) -> int | None:
    """``fEND`` of a ROOT file header: the file's length when it was closed (None if unreadable)."""
    if len(head) < 12:
        return None
    version = struct.unpack(">i", head[4:8])[0]
    if version >= 1000000:  # large-file header: 8-byte fEND
        return struct.unpack(">q", head[12:20])[0] if len(head) >= 20 else None
    return struct.unpack(">i", head[12:16])[0]


def check_input_file(path: str | os.PathLike, *, kind: str, what: str, schema: str | None = None) -> Path:
    """Check that ``path`` is a readable, non-empty ROOT or HDF5 file; return it resolved.

    Parameters
    ----------
    path
        The file the user named.
    kind
        ``"root"`` or ``"hdf5"``: the signature expected at the start of the file.
    what
        What the file is, for messages (``"jet file"``, ``"shower file"``).
    schema
        Optional description of the expected content, added to the fix in messages
        (e.g. ``"JetClass schema, tree 'tree'"``).

    Returns
    -------
    Path
        The resolved (absolute) path.

    Raises
    ------
    DataError
        The path does not exist (or is a dangling symbolic link), is a folder or another
        non-regular file, cannot be read, is empty, does not start with the signature of
        ``kind`` (the message says what kind of file it looks like instead, without quoting
        it), or (ROOT) is shorter than its header says (truncated).
    """
    if kind not in FILE_KINDS:
        raise DataError(f"unknown file kind {kind!r}; choose one of: {', '.join(FILE_KINDS)}")
    name, signature, how = FILE_KINDS[kind]
    fix = f"give {how}" + (f" ({schema})" if schema else "")
    path = Path(os.path.expanduser(os.fspath(path)))
    if not path.exists():
        raise _missing(path, what)
    shown = _shown(path)
    if path.is_dir():
        raise DataError(
            f"{what} {shown} is a folder, not a file; give a file inside it, or a glob such as "
            f"'{path}/*.{'root' if kind == 'root' else 'h5'}' where a glob is accepted"
        )
    if not path.is_file():
        raise DataError(f"{what} {shown} is not a regular file (a device, socket or pipe); {fix}")
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(64)
            signed = _is_root_header(head) if kind == "root" else _hdf5_signature_at(fh, size)
    except OSError as exc:
        raise DataError(
            f"{what} {shown} cannot be read ({exc.strerror or exc}); check its permissions "
            f"(chmod u+r) or copy it somewhere readable"
        ) from None
    if size == 0:
        raise DataError(f"{what} {shown} is empty (0 bytes), perhaps an interrupted download or copy; {fix}")
    if not signed:
        other = describe_start(head)
        verb = "looks like" if other == "a text file" else "holds" if other.startswith("binary") else "is"
        raise DataError(f"{what} {shown} is not {name} file ({signature}): it {verb} {other}; {fix}")
    declared = _root_declared_size(head) if kind == "root" else None
    if declared is not None and size < declared:
        raise DataError(
            f"{what} {shown} is truncated: its header says {declared} bytes but it has {size} "
            f"(an interrupted download or copy?); copy or write it again"
        )
    return path.resolve()


def read_regular_file(path: str | os.PathLike, *, limit: int, what: str) -> bytes:
    """The bytes of ``path``, opened without following a link: a regular file of at most ``limit`` bytes.

    For files another user may have planted (answers a kernel exported, submitted notebooks).

    Raises
    ------
    DataError
        ``path`` is a link, cannot be opened, is not a regular file or is larger than ``limit``
        (the message names ``what`` and the file).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise DataError(
            f"{what} {path} cannot be opened ({exc.strerror or exc}): a link or an unreadable file"
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(fd)
        raise DataError(f"{what} {path} is not a regular file of at most {limit:,} bytes")
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit + 1)
