"""Exercise answers as data: exported from a kernel, read back by the grader, never as pickles.

A graded notebook calls :func:`export` where a checker would run: it writes the checker's
arguments (the answer, and in the reference run every other argument too) to
``$HEPML_NB_ANSWERS/<key>.npz``: arrays as ``.npy`` members, everything else as one JSON member.
:func:`load` reads such a file back with ``allow_pickle=False``, after checking that it is a
regular file (not a link) within a size limit. Values a checker takes are plain data: None,
bool, int, float, str, lists, tuples, dicts with string keys, numpy arrays and scalars, pandas
DataFrames and Series; with ``objects=True`` (the instructor's reference run, trusted) also
NamedTuples and dataclasses defined in ``hepml_nb`` (``ShowerSet``, ``Material``).
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import math
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepml_nb.core.errors import DataError
from hepml_nb.core.files import read_regular_file
from hepml_nb.core.results import atomic_output

__all__ = ["ANSWERS_ENV", "MAX_ANSWER_BYTES", "export", "load"]

ANSWERS_ENV = "HEPML_NB_ANSWERS"
#: largest answer file (and largest sum of its uncompressed members) that :func:`load` reads
MAX_ANSWER_BYTES = 256 * 2**20
_JSON = "values.json"


def _encode(value: Any, arrays: dict[str, np.ndarray], objects: bool) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        return _encode(value.item(), arrays, objects)
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"a numpy array of Python objects (dtype {value.dtype})")
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"__array__": name}
    if type(value).__name__ in ("DataFrame", "Series") and type(value).__module__.startswith("pandas"):
        kind = type(value).__name__
        columns = {str(k): _encode(v.to_numpy(), arrays, objects) for k, v in value.items()}
        return {"__pandas__": kind, "name": getattr(value, "name", None), "columns": columns}
    if (isinstance(value, tuple) and hasattr(value, "_fields")) or dataclasses.is_dataclass(value):
        return _encode_object(value, arrays, objects)
    if isinstance(value, (list, tuple)):
        key = "__tuple__" if isinstance(value, tuple) else "__list__"
        return {key: [_encode(v, arrays, objects) for v in value]}
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a dict with keys that are not strings")
        return {"__dict__": {k: _encode(v, arrays, objects) for k, v in value.items()}}
    raise TypeError(f"a value of type {type(value).__name__}")


def _encode_object(value: Any, arrays: dict[str, np.ndarray], objects: bool) -> Any:
    cls = type(value)
    if not objects or not cls.__module__.startswith("hepml_nb."):
        raise TypeError(f"a {cls.__name__} object")
    fields = (
        value._asdict()
        if hasattr(value, "_asdict")
        else {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    )
    return {"__object__": f"{cls.__module__}:{cls.__qualname__}", "fields": _encode(dict(fields), arrays, objects)}


def export(key: str, *args: Any, strict: bool = False, **kwargs: Any) -> None:
    """Write ``args`` and ``kwargs`` to ``$HEPML_NB_ANSWERS/<key>.npz`` (see the module doc).

    A value that cannot be exported is recorded as such (the grader reports it) unless
    ``strict``, which raises TypeError instead (the reference run). Outside a graded run
    (no ``$HEPML_NB_ANSWERS``) this does nothing.
    """
    folder = os.environ.get(ANSWERS_ENV)
    if not folder:
        return
    arrays: dict[str, np.ndarray] = {}
    try:
        tree = {"args": _encode(list(args), arrays, strict), "kwargs": _encode(dict(kwargs), arrays, strict)}
    except TypeError as exc:
        if strict:
            raise
        arrays, tree = {}, {"unsupported": f"{exc}, which cannot be graded; give a number, an array or a list"}
    payload = np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8)
    with atomic_output(Path(folder) / f"{key}.npz") as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **{_JSON: payload}, **arrays)  # type: ignore[arg-type]  # numpy's stubs: allow_pickle


def _decode(node: Any, arrays: Mapping[str, np.ndarray], objects: bool) -> Any:
    if not isinstance(node, dict):
        return node
    if "__array__" in node:
        return arrays[node["__array__"]]
    if "__float__" in node:
        return float(node["__float__"])
    if "__list__" in node:
        return [_decode(v, arrays, objects) for v in node["__list__"]]
    if "__tuple__" in node:
        return tuple(_decode(v, arrays, objects) for v in node["__tuple__"])
    if "__dict__" in node:
        return {k: _decode(v, arrays, objects) for k, v in node["__dict__"].items()}
    if "__pandas__" in node:
        import pandas as pd

        columns = {k: _decode(v, arrays, objects) for k, v in node["columns"].items()}
        if node["__pandas__"] == "Series":
            return pd.Series(next(iter(columns.values())), name=node.get("name"))
        return pd.DataFrame(columns)
    if "__object__" in node and objects:
        return _decode_object(node, arrays)
    raise DataError(f"an answer file holds an entry that is not plain data: {sorted(node)[:3]}")


def _decode_object(node: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    module, _, name = str(node["__object__"]).partition(":")
    if not module.startswith("hepml_nb."):
        raise DataError(f"an answer file names the class {node['__object__']!r}, which is not one of hepml_nb's")
    cls = importlib.import_module(module)
    for part in name.split("."):
        cls = getattr(cls, part)
    if not (
        isinstance(cls, type)
        and ((issubclass(cls, tuple) and hasattr(cls, "_fields")) or dataclasses.is_dataclass(cls))
    ):
        raise DataError(f"{node['__object__']!r} is not a NamedTuple or dataclass")
    return cls(**_decode(node["fields"], arrays, True))


def load(path: Path | str, *, objects: bool = False, limit: int = MAX_ANSWER_BYTES) -> tuple[list, dict[str, Any]]:
    """Read an answer file written by :func:`export`: ``(args, kwargs)``.

    Raises
    ------
    DataError
        The file is a link or not a regular file, too large (also once uncompressed), not an
        answer file, holds pickled objects, a value :func:`export` declared unsupported, or
        (unless ``objects``) an object.
    """
    data = read_regular_file(path, limit=limit, what="the answer file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > limit:
                raise DataError(f"the answer file {Path(path).name} unpacks to more than {limit} bytes")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            tree = json.loads(npz[_JSON].tobytes().decode())
            arrays = {name: npz[name] for name in npz.files if name != _JSON}
        if not isinstance(tree, dict):
            raise ValueError("no values")
        if "unsupported" in tree:
            raise DataError(f"the answer is {tree['unsupported']}")
        args, kwargs = _decode(tree["args"], arrays, objects), _decode(tree["kwargs"], arrays, objects)
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ValueError("no argument list")
    except DataError:
        raise
    except (ValueError, KeyError, TypeError, OSError, RecursionError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise DataError(f"the answer file {Path(path).name} is not a readable answer file ({exc})") from None
    return args, kwargs
