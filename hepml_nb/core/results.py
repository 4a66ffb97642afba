"""Results of a notebook run: ``metrics.json`` and figures in the run folder.

Inside a run started by :func:`hepml_nb.run` the folder comes from the
``HEPML_NB_RUN_DIR`` environment variable; a notebook opened by hand in
JupyterLab writes to ``runs/interactive`` under its working directory.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepml_nb.core.errors import OutputError
from hepml_nb.core.trust import is_private

__all__ = [
    "run_dir",
    "record_metrics",
    "load_metrics",
    "save_figure",
    "write_json_atomic",
    "atomic_output",
    "remove_stale_temporaries",
    "to_jsonable",
    "process_alive",
    "flatten_metrics",
    "publish_folder",
]

RUN_DIR_ENV = "HEPML_NB_RUN_DIR"
METRICS_FILE = "metrics.json"


def run_dir() -> Path:
    """The folder this run writes its results to (created if needed)."""
    path = Path(os.environ.get(RUN_DIR_ENV) or Path.cwd() / "runs" / "interactive")
    _make_folder(path)
    return path


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, paths and tuples to plain JSON types; NaN/inf to None."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


#: temporary files of :func:`atomic_output` are named ``.<name>.<TMP_TAG>-<host>-<pid>-<random>.tmp<suffix>``
TMP_TAG = "hepml-tmp"
_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask (read without changing it for longer than this call)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def publish_folder(staged: Path, path: Path) -> None:
    """Move the folder ``staged`` (e.g. a ``mkdtemp`` folder, mode 0700) to ``path`` with the umask's mode.

    A folder built privately and then published into a cache gets the mode ``mkdir`` would have given
    it (``0o777 & ~umask``: 0755 under the usual 022), so other users of a shared cache can read it
    (a school's read-only cache); ``os.replace``: atomic, and an existing empty ``path`` is replaced.
    """
    os.chmod(staged, 0o777 & ~_umask())
    os.replace(staged, path)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the folder {folder} ({type(exc).__name__}: {exc.strerror or exc}); "
            "choose a folder you can write to"
        ) from None


@contextlib.contextmanager
def atomic_output(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it becomes ``path`` only when the block succeeds.

    A failed or interrupted write leaves neither a half-written ``path`` nor the temporary
    file, and a reader never sees a partial file (the rename is atomic)::

        with atomic_output("showers.h5") as tmp:
            write_the_file(tmp)

    The file gets the mode a plain ``open()`` would give it (``0o666 & ~umask``), not the
    owner-only mode of temporary files, so that a cache or results folder shared with a
    group stays readable. The temporary name carries host and process id, so that
    :func:`remove_stale_temporaries` can tell the leftovers of a killed writer. It is
    created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (never an existing file or a link).
    Where another user could swap that name for a symbolic link while the block writes
    (the folder is not private, see :func:`hepml_nb.core.trust.why_not_private`), the block
    writes into a private staging folder instead and the result is copied in through the
    descriptor of the new temporary file, so nothing is ever written through a planted link.

    Raises
    ------
    OutputError
        The folder cannot be created or written to (names the folder).
    """
    _make_folder(Path(path).parent)
    path = Path(os.path.realpath(Path(path).parent)) / Path(path).name  # no link on the way can be re-pointed
    fd, tmp = _temporary(path)
    if is_private(path.parent):
        os.close(fd)
        try:
            yield tmp
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return
    staging = Path(tempfile.mkdtemp(prefix="hepml-nb-staging-"))
    try:
        with os.fdopen(fd, "wb") as out:
            staged = staging / path.name
            staged.touch()
            yield staged
            with staged.open("rb") as src:
                shutil.copyfileobj(src, out)
            _check_still_ours(tmp, out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_still_ours(tmp: Path, fd: int) -> None:
    """Raise OutputError when the name ``tmp`` no longer refers to the file open as ``fd`` (someone swapped it)."""
    mine = os.fstat(fd)
    try:
        now = os.lstat(tmp)
    except OSError:
        now = None
    if now is None or (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):
        raise OutputError(
            f"the temporary file {tmp} was replaced by someone else while it was written; nothing was written "
            f"through it. Other users can write in {tmp.parent}: choose a folder only you can write to"
        )


def _temporary(path: Path) -> tuple[int, Path]:
    """A new temporary file beside ``path`` (``mkstemp``: O_EXCL, O_NOFOLLOW) with the umask's mode, open."""
    prefix = f".{path.name}.{TMP_TAG}-{socket.gethostname()}-{os.getpid()}-"
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=f".tmp{path.suffix}")
    except OSError as exc:
        raise OutputError(
            f"cannot write in the folder {path.parent} ({type(exc).__name__}: "
            f"{exc.strerror or exc}); choose a folder you can write to"
        ) from None
    os.fchmod(fd, 0o666 & ~_umask())
    return fd, Path(tmp)


def remove_stale_temporaries(folder: Path | str) -> list[Path]:
    """Delete temporary files of :func:`atomic_output` in ``folder`` whose writer process is dead.

    Only files written on this host are judged (a process id means nothing on another host).
    Returns the removed paths; files that cannot be removed (another user's) are left alone.
    """
    host, removed = socket.gethostname(), []
    for tmp in Path(folder).glob(f".*.{TMP_TAG}-*"):
        match = re.search(rf"\.{TMP_TAG}-(?P<host>.+)-(?P<pid>\d+)-[^-]*$", tmp.name)
        if not match or match["host"] != host or process_alive(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def process_alive(pid: int) -> bool:
    """True when a process with this id runs on this host (whoever owns it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def write_json_atomic(path: Path | str, data: Any) -> Path:
    """Write ``data`` as JSON to ``path`` through a temporary file and an atomic rename."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(to_jsonable(data), indent=2, sort_keys=True) + "\n")
    return Path(path)


def load_metrics(folder: Path | str | None = None) -> dict[str, Any]:
    """Read ``metrics.json`` of a run folder (default: the current run); empty if absent."""
    path = Path(folder or run_dir()) / METRICS_FILE
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def record_metrics(metrics: Mapping[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
    """Merge metrics into the run's ``metrics.json`` and return the whole content.

    Values may be numbers, strings, lists or nested dicts; numpy types are converted.
    """
    merged = load_metrics()
    merged.update(to_jsonable(dict(metrics or {}, **more)))
    write_json_atomic(run_dir() / METRICS_FILE, merged)
    return merged


def save_figure(fig, name: str, *, formats: tuple[str, ...] = ("png",), dpi: int = 110) -> None:
    """Save a matplotlib figure into the run folder as ``name.<format>`` (atomically).

    Returns nothing, so that a notebook cell ending with it shows only the figure;
    the files are ``run_dir() / f"{name}.{fmt}"``.
    """
    for fmt in formats:
        with atomic_output(run_dir() / f"{name}.{fmt}") as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=fmt)


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "", *, lists: bool = False) -> dict[str, Any]:
    """Nested metrics as ``{"a.b": value}``: scalars (str, number, bool, None), and lists too with ``lists``."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, f"{name}.", lists=lists))
        elif isinstance(value, (int, float, str, bool)) or value is None or (lists and isinstance(value, list)):
            flat[name] = value
    return flat
