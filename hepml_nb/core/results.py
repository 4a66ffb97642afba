"""Results of a notebook run: ``metrics.json`` and figures in the run folder.

Inside a run started by :func:`hepml_nb.run` the folder comes from the
``HEPML_NB_RUN_DIR`` environment variable; a notebook opened by hand in
JupyterLab writes to ``runs/interactive`` under its working directory.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = ["run_dir", "record_metrics", "load_metrics", "save_figure", "write_json_atomic", "to_jsonable"]

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


def write_json_atomic(path: Path | str, data: Any) -> Path:
    """Write ``data`` as JSON to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(to_jsonable(data), fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
