"""Checks on the values read from a JetClass-schema file: finite, physical, one-hot labels.

:func:`check_values` and :func:`check_labels` take the branches of one file as read by uproot
(``{name: array}``, jagged particle branches and flat jet branches) and raise a DataError
naming the file, the branch and the first bad entry (and particle). ``hepml_nb.jets.io``
runs them on every file it reads, and on the first jets of every file before a run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import awkward as ak
import numpy as np

from hepml_nb.core.errors import DataError

__all__ = ["check_labels", "check_values"]

#: branches whose values may not be negative, and those that must be positive
_NON_NEGATIVE = ("part_energy", "jet_energy")
_POSITIVE = ("jet_pt",)
_DAMAGED = "the file is damaged or was written from bad values: drop these jets or write the file again"


def _flat(array) -> tuple[np.ndarray, np.ndarray | None]:
    """The values of a branch as one flat array and, for a jagged branch, the offsets of its entries."""
    if getattr(array, "ndim", 1) == 1:
        return np.asarray(ak.to_numpy(array) if isinstance(array, ak.Array) else array), None
    counts = ak.to_numpy(ak.num(array, axis=1))
    return ak.to_numpy(ak.flatten(array)), np.concatenate([[0], np.cumsum(counts)])


def _bad_value(
    path: Path | str, name: str, array, bad: Callable[[np.ndarray], np.ndarray], what: str, fix: str
) -> None:
    """Raise a DataError naming the first value of branch ``name`` where ``bad(values)`` holds (else None)."""
    values, offsets = _flat(array)
    flags = bad(values)
    if not flags.any():
        return
    first = int(np.flatnonzero(flags)[0])
    if offsets is None:
        where = f"entry {first}"
    else:
        entry = int(np.searchsorted(offsets, first, side="right") - 1)
        where = f"entry {entry}, particle {first - int(offsets[entry])}"
    raise DataError(
        f"jet file {path}: branch {name!r} is {float(values[first]):g} ({what}) at {where}; "
        f"{int(flags.sum())} of {values.size} values checked; {fix}"
    )


def check_values(branches: Mapping, path: Path | str = "the file") -> None:
    """Check the values of the particle and jet branches read from one file.

    Every value must be finite, ``part_energy`` and ``jet_energy`` not negative and ``jet_pt``
    positive. Entries are counted from the first jet given (the file's first when read from its start).

    Raises
    ------
    DataError
        Naming the file, the branch and the first bad entry (and particle), with the count.
    """
    for name in (k for k in branches if k.startswith(("part_", "jet_"))):
        _bad_value(path, name, branches[name], lambda v: ~np.isfinite(v), "not finite", _DAMAGED)
    for name in (b for b in _NON_NEGATIVE if b in branches):
        fix = "energies are >= 0 GeV: the file holds processed values (standardised, smeared below zero) or is damaged"
        _bad_value(path, name, branches[name], lambda v: v < 0, "negative", fix)
    for name in (b for b in _POSITIVE if b in branches):
        fix = "a jet's pT is > 0 GeV: the file holds processed values or is damaged"
        _bad_value(path, name, branches[name], lambda v: v <= 0, "not positive", fix)


def check_labels(branches: Mapping, path: Path | str = "the file") -> None:
    """Check that the ``label_*`` branches of one file hold 0 or 1 and exactly one 1 per jet.

    The label branches are those of ``branches`` whose name starts with ``label_``, in its order.

    Raises
    ------
    DataError
        Naming the file and the first jet (or branch and value) that is not one-hot.
    """
    names = [k for k in branches if k.startswith("label_")]
    hint = f"each jet needs exactly one of {', '.join(names)} set to 1"
    for name in names:
        fix = f"label branches hold 0 or 1 (one-hot): {hint}"
        _bad_value(path, name, branches[name], lambda v: (v != 0) & (v != 1), "not 0 or 1", fix)
    if not names:
        return
    onehot = np.stack([np.asarray(ak.to_numpy(branches[k]), dtype=np.int8) for k in names], axis=1)
    bad = np.flatnonzero(onehot.sum(axis=1) != 1)
    if bad.size:
        set_ = [n for n, on in zip(names, onehot[bad[0]], strict=True) if on]
        shown = f"{', '.join(set_)} set" if set_ else "none set"
        raise DataError(
            f"jet file {path}: the label_* branches are not one-hot at entry {int(bad[0])} ({shown}); "
            f"{bad.size} of {len(onehot)} jets; {hint}"
        )
