"""Parameter sweeps: a grid of independent runs executed on a Dask cluster.

A local cluster (one single-threaded worker process per run slot) is started by
default; ``scheduler`` connects to an existing cluster instead, e.g. one started
with ``dask scheduler`` / ``dask worker`` on a batch system. A failed run is
reported in its row and does not stop the others.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hepml_nb.core.errors import HepmlError, ParameterError
from hepml_nb.course.runner import RunPlan, default_run_dir, launch, prepare_run

__all__ = ["sweep_grid", "sweep_plans", "sweep", "format_rows"]


def sweep_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """All combinations of the values in ``grid`` ({name: [v1, v2, ...]}), as a list of dicts."""
    if not grid:
        raise ParameterError("a sweep needs at least one parameter with values: -p NAME V1 V2 ...")
    for name, values in grid.items():
        if len(values) == 0:
            raise ParameterError(f"parameter {name!r} of the sweep has no values; give -p {name} V1 V2 ...")
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(grid[n] for n in names))]


def _label(point: Mapping[str, Any]) -> str:
    text = "_".join(f"{k}={v}" for k, v in point.items())
    return "".join(c if c.isalnum() or c in "=._-" else "-" for c in text)[:120]


def sweep_plans(
    topic: str, points: Sequence[Mapping[str, Any]], *, profile: str = "default", out: Path | str | None = None
) -> list[RunPlan]:
    """One checked :class:`~hepml_nb.course.runner.RunPlan` per point (``{name: value}``, e.g. from
    :func:`sweep_grid`), each in its own folder under ``out``; the notebook is read once for all of them.

    Raises
    ------
    ParameterError
        A point's parameters do not fit the notebook or the topic's rules (nothing has started).
    """
    base = Path(out) if out is not None else default_run_dir(topic, f"{profile}-sweep")
    plans: list[RunPlan] = []
    for point in points:
        source = plans[0].source if plans else None  # the notebook node the first plan read
        plans.append(prepare_run(topic, profile, point, out=base / _label(point), source=source))
    return plans


def _run_point(plan: RunPlan, point: dict[str, Any]) -> dict[str, Any]:
    """Launch one grid point's plan; never raises (the error goes into the row)."""
    folder = str(plan.folder)
    try:
        result = launch(plan)
        return {"params": point, "status": "ok", "run_dir": folder, "metrics": result.metrics}
    except HepmlError as exc:
        return {"params": point, "status": "failed", "run_dir": folder, "error": str(exc).splitlines()[0]}
    except Exception as exc:  # noqa: BLE001 - a crash in one run must not stop the sweep
        return {"params": point, "status": "failed", "run_dir": folder, "error": f"{type(exc).__name__}: {exc}"}


def sweep(
    topic: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    profile: str = "default",
    out: Path | str | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
) -> list[dict[str, Any]]:
    """Run every point of ``grid`` on Dask; return one row per run (params, status, metrics or error).

    All points are validated before the cluster starts.
    """
    points = sweep_grid(grid)
    plans = sweep_plans(topic, points, profile=profile, out=out)
    from dask.distributed import Client, LocalCluster

    with _safe_path():  # the workers' Pythons never import from the working folder either
        if scheduler:
            client, cluster = Client(scheduler), None
        else:
            from hepml_nb.core.devices import cpu_threads

            workers = n_workers or max(1, min(len(points), cpu_threads()))
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        try:
            futures = [
                client.submit(_run_point, plan, point, pure=False) for plan, point in zip(plans, points, strict=True)
            ]
            return client.gather(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


@contextlib.contextmanager
def _safe_path() -> Iterator[None]:
    """``PYTHONSAFEPATH=1`` while the local cluster runs: the Pythons it starts keep the working folder off sys.path."""
    old = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = old


def format_rows(rows: Sequence[Mapping[str, Any]], *, max_metrics: int = 6) -> str:
    """One line per run: parameters, status and the first scalar metrics (or the error)."""
    lines = []
    for row in rows:
        params = " ".join(f"{k}={v}" for k, v in row["params"].items())
        if row["status"] == "ok":
            scalars = [(k, v) for k, v in row["metrics"].items() if isinstance(v, (int, float))]
            shown = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in scalars[:max_metrics])
            lines.append(f"{params}  ok  {shown}")
        else:
            lines.append(f"{params}  FAILED  {row['error']}")
    return "\n".join(lines)
