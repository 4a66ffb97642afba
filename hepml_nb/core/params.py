"""A notebook's parameters: read from its ``parameters`` cell, validated before any kernel starts.

The cell holds one literal per knob with a one-line comment; papermill's
inspection gives the names, default sources and comments, and the literal's type
(or an annotation such as ``n: int = 10``) is the parameter's type.
"""
from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from hepml_nb.core.errors import ParameterError

__all__ = ["Parameter", "read_parameters", "validate_parameters", "coerce_value", "format_parameters"]

_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "list": list, "tuple": tuple, "dict": dict}
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Parameter:
    """One knob of a notebook: name, default value, type name ('int', 'float', ..., 'any') and help."""

    name: str
    default: Any
    type_name: str
    help: str


def read_parameters(notebook: Path | str) -> dict[str, Parameter]:
    """Parameters of ``notebook`` in the order of its ``parameters`` cell."""
    from papermill.inspection import inspect_notebook

    notebook = Path(notebook)
    if not notebook.is_file():
        raise ParameterError(f"notebook {notebook} not found")
    found = inspect_notebook(str(notebook))
    if not found:
        raise ParameterError(f"{notebook.name} has no cell tagged 'parameters' (or it is empty)")
    _check_all_parsed(notebook, set(found))
    params = {}
    for name, info in found.items():
        try:
            default = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            raise ParameterError(
                f"{notebook.name}: parameter {name!r} has default {info['default']!r}, which is not a "
                "literal; the parameters cell must hold literals only"
            ) from None
        annotated = (info.get("inferred_type_name") or "None").lower()
        type_name = annotated if annotated in _TYPES else (
            "any" if default is None else type(default).__name__
        )
        params[name] = Parameter(name, default, type_name, (info.get("help") or "").strip())
    return params


def _check_all_parsed(notebook: Path, found: set[str]) -> None:
    """Raise when papermill skipped an assignment of the parameters cell (it cannot parse some lines)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for node in ast.parse(cell.source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if isinstance(target, ast.Name) and target.id not in found:
                line = cell.source.splitlines()[node.lineno - 1]
                raise ParameterError(
                    f"{notebook.name}: papermill cannot read parameter {target.id!r} from the line "
                    f"{line.strip()!r}; write one 'name = literal  # help' per line, with no '=' in the comment"
                )


def _bool(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(text)


def coerce_value(param: Parameter, value: Any) -> Any:
    """Return ``value`` converted to the parameter's type; raise ParameterError when it does not fit.

    Strings (from the command line) are parsed: ``10`` for int, ``1e-3`` for float,
    ``true``/``false`` for bool, Python literals (``[1, 2]``) for lists; ``none`` gives None
    for a parameter whose default is None.
    """
    kind = param.type_name
    try:
        if isinstance(value, str) and kind not in ("str",):
            if kind == "bool":
                return _bool(value)
            if kind == "int":
                return int(value)
            if kind == "float":
                return float(value)
            if value.lower() == "none":
                return None
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                if kind != "any":
                    raise ValueError(value) from None
                return value
        return _check_type(kind, value)
    except (ValueError, TypeError):
        raise ParameterError(
            f"parameter {param.name!r} expects {_describe(kind)} (default {param.default!r}), "
            f"got {value!r}; {param.name}: {param.help or 'no help text'}"
        ) from None


def _check_type(kind: str, value: Any) -> Any:
    if kind == "any":
        return value
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind in ("list", "tuple") and isinstance(value, (list, tuple)):
        return _TYPES[kind](value)
    if isinstance(value, bool) and kind != "bool":
        raise TypeError(value)
    if not isinstance(value, _TYPES[kind]):
        raise TypeError(value)
    return value


def _describe(kind: str) -> str:
    return {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
            "list": "a list such as [1, 2]", "tuple": "a tuple such as (1, 2)", "dict": "a dict",
            "any": "a Python literal"}[kind]


def validate_parameters(params: Mapping[str, Parameter], values: Mapping[str, Any], *,
                        notebook: str = "the notebook") -> dict[str, Any]:
    """Check names and types of ``values`` against ``params``; return the converted values."""
    unknown = [name for name in values if name not in params]
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, list(params), n=1)
        maybe = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParameterError(
            f"unknown parameter {name!r} for {notebook}{maybe}; valid parameters: {', '.join(params)}"
        )
    return {name: coerce_value(params[name], value) for name, value in values.items()}


def format_parameters(params: Mapping[str, Parameter]) -> str:
    """A table of the parameters: name, type, default and help."""
    rows = [(p.name, p.type_name, repr(p.default), p.help) for p in params.values()]
    widths = [max(len(r[i]) for r in rows + [("name", "type", "default", "")]) for i in range(3)]
    lines = [f"{'name':<{widths[0]}}  {'type':<{widths[1]}}  {'default':<{widths[2]}}  help"]
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}" for a, b, c, d in rows]
    return "\n".join(lines)
