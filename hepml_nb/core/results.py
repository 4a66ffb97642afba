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
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

__all__ = ["run_dir", "record_metrics", "load_metrics", "save_figure", "write_json_atomic", "atomic_output",
           "to_jsonable"]

RUN_DIR_ENV = "HEPML_NB_RUN_DIR"
METRICS_FILE = "metrics.json"


def run_dir() -> Path:
    """The folder this run writes its results to (created if needed)."""
    path = Path(os.environ.get(RUN_DIR_ENV) or Path.cwd() / "runs" / "interactive")
    path.mkdir(parents=True, exist_ok=True)
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


@contextlib.contextmanager
def atomic_output(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it becomes ``path`` only when the block succeeds.

    A failed or interrupted write leaves neither a half-written ``path`` nor the temporary
    file, and a reader never sees a partial file (the rename is atomic)::

        with atomic_output("showers.h5") as tmp:
            write_the_file(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def save_figure(fig, name: str, *, formats: tuple[str, ...] = ("png",), dpi: int = 110) -> list[Path]:
    """Save a matplotlib figure into the run folder as ``name.<format>``; return the paths."""
    paths = []
    for fmt in formats:
        path = run_dir() / f"{name}.{fmt}"
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        paths.append(path)
    return paths
