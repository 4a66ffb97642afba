"""A notebook's parameters: read from its ``parameters`` cell, validated before any kernel starts.

The cell holds one literal per knob with a one-line comment; papermill's
inspection gives the names, default sources and comments, and the literal's type
(or an annotation such as ``n: int = 10``) is the parameter's type. The catalog adds
a :class:`Rule` per parameter where its values are restricted (choices, a range, an
input file; :mod:`hepml_nb.core.rules`, re-exported here), so that every check runs before
a kernel starts.

Values are restricted to what JSON can hold (str, int, float, bool, None, lists and
dicts of them): papermill writes values into the notebook as code, and only these
types are written back as plain literals. Tuples become lists, numpy scalars and arrays
become Python numbers and lists; anything else (sets, objects) is an error, and so is a
string that is not UTF-8 text (a command-line byte that is not UTF-8). The elements of
a list parameter must have the type of its default's elements (``[115.0, 135.0]``
takes numbers).
"""

from __future__ import annotations

import ast
import difflib
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from hepml_nb.core.errors import HepmlError, ParameterError
from hepml_nb.core.rules import Cost, Rule, at_least, between, each, input_file, matching, one_of, size, window

__all__ = [
    "Parameter",
    "Cost",
    "Rule",
    "one_of",
    "at_least",
    "between",
    "each",
    "size",
    "window",
    "matching",
    "input_file",
    "read_parameters",
    "notebook_parameters",
    "validate_parameters",
    "coerce_value",
    "check_rules",
    "check_injection",
    "format_parameters",
]

_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "list": list, "tuple": tuple, "dict": dict}
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
_ELEMENTS = {"int": "integers", "float": "numbers", "bool": "true/false values", "str": "strings"}


@dataclass(frozen=True)
class Parameter:
    """One knob of a notebook: name, default value, type name ('int', 'float', ..., 'any') and help."""

    name: str
    default: Any
    type_name: str
    help: str


def read_parameters(notebook: Path | str) -> dict[str, Parameter]:
    """Parameters of the notebook file ``notebook`` in the order of its ``parameters`` cell."""
    import nbformat

    notebook = Path(notebook)
    if not notebook.is_file():
        raise ParameterError(f"notebook {notebook} not found")
    return notebook_parameters(nbformat.read(notebook, as_version=4), notebook.name)


def notebook_parameters(nb: Any, name: str = "the notebook") -> dict[str, Parameter]:
    """Parameters of a notebook node ``nb`` (named ``name`` in messages), in the order of its ``parameters`` cell."""
    from papermill.translators import PythonTranslator

    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    found = {p.name: p for p in PythonTranslator.inspect(cell)} if cell is not None else {}
    if not found:
        raise ParameterError(f"{name} has no cell tagged 'parameters' (or it is empty)")
    _check_all_parsed(cell, name, set(found))
    params = {}
    for key, info in found.items():
        try:
            default = ast.literal_eval(info.default)
        except (ValueError, SyntaxError):
            raise ParameterError(
                f"{name}: parameter {key!r} has default {info.default!r}, which is not a "
                "literal; the parameters cell must hold literals only"
            ) from None
        annotated = (info.inferred_type_name or "None").lower()
        type_name = annotated if annotated in _TYPES else ("any" if default is None else type(default).__name__)
        params[key] = Parameter(key, default, type_name, (info.help or "").strip())
    return params


def _check_all_parsed(cell: Any, name: str, found: set[str]) -> None:
    """Raise when papermill skipped an assignment of the parameters cell (it cannot parse some lines)."""
    for node in ast.parse(cell.source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if isinstance(target, ast.Name) and target.id not in found:
                line = cell.source.splitlines()[node.lineno - 1]
                raise ParameterError(
                    f"{name}: papermill cannot read parameter {target.id!r} from the line "
                    f"{line.strip()!r}; write one 'name = literal  # help' per line, with no '=' in the comment"
                )


def _bool(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(text)


def _parse_text(kind: str, value: str) -> Any:
    """A command-line string as a value of ``kind`` (raises ValueError when it does not parse)."""
    if kind == "bool":
        return _bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if value.lower() == "none":
        return None
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        if kind != "any":
            raise ValueError(value) from None
        return value


def coerce_value(param: Parameter, value: Any) -> Any:
    """Return ``value`` converted to the parameter's type; raise ParameterError when it does not fit.

    Strings (from the command line) are parsed: ``10`` for int, ``1e-3`` for float,
    ``true``/``false`` for bool, literals (``[1, 2]``) for lists; ``none`` gives None
    for a parameter whose default is None. The result holds JSON types only
    (tuples become lists, numpy scalars and arrays Python numbers and lists). The elements
    of a list must have the type of the default's elements (ints are taken for floats).
    """
    kind = param.type_name
    try:
        if isinstance(value, str) and kind != "str":
            value = _parse_text(kind, value)
        converted = _check_type(kind, _json_value(param.name, value))
    except ParameterError:
        raise
    except (ValueError, TypeError):
        raise ParameterError(
            f"parameter {param.name!r} expects {_describe(kind)} (default {param.default!r}), "
            f"got {value!r}; {param.name}: {param.help or 'no help text'}"
        ) from None
    return _check_elements(param, converted)


def _element_kind(default: Any) -> str | None:
    """The one type name (int, float, bool, str) of the elements of a list default, else None."""
    if not isinstance(default, list) or not default:
        return None
    kinds = {type(v).__name__ for v in default}
    kind = kinds.pop() if len(kinds) == 1 else "float" if kinds == {"int", "float"} else None
    return kind if kind in ("int", "float", "bool", "str") else None


def _check_elements(param: Parameter, value: Any) -> Any:
    """``value`` with every element converted to the type of the default's elements (list parameters)."""
    kind = _element_kind(param.default)
    if kind is None or not isinstance(value, list):
        return value
    converted = []
    for i, element in enumerate(value):
        try:
            converted.append(_check_type(kind, element))
        except TypeError:
            raise ParameterError(
                f"parameter {param.name!r} expects a list of {_ELEMENTS[kind]} such as {param.default!r}, got "
                f"{value!r} (element {i} is {element!r}); {param.name}: {param.help or 'no help text'}"
            ) from None
    return converted


def _utf8(name: str, text: str) -> str:
    """``text`` when it is UTF-8 text; ParameterError for lone surrogates (command-line bytes that are not UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParameterError(
            f"parameter {name!r} holds bytes that are not UTF-8 text ({text!r}); the notebook and params.json "
            "are UTF-8: give the value as UTF-8 text (check the terminal's encoding, LANG=C.UTF-8)"
        ) from None
    return text


def _numpy_value(value: Any) -> Any:
    """A numpy scalar or array as Python numbers and lists (``.tolist()``), anything else unchanged."""
    numpy = sys.modules.get("numpy")  # a numpy value can only exist when numpy is imported
    if numpy is not None and isinstance(value, (numpy.generic, numpy.ndarray)):
        return value.tolist()
    return value


def _json_value(name: str, value: Any) -> Any:
    """``value`` with tuples as lists and numpy values as Python ones; ParameterError for what JSON cannot hold."""
    value = _numpy_value(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return _utf8(name, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"parameter {name!r} got {value!r}; give a finite number")
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(name, v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ParameterError(f"parameter {name!r}: dict keys must be strings, got {value!r}")
        return {_utf8(name, k): _json_value(name, v) for k, v in value.items()}
    raise ParameterError(
        f"parameter {name!r} got a value of type {type(value).__name__} ({value!r}); parameter values must be "
        "strings, numbers, true/false, None, or lists and dicts of them (write a set or tuple as a list [a, b])"
    )


def _check_type(kind: str, value: Any) -> Any:
    if kind == "any":
        return value
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind in ("list", "tuple"):
        if not isinstance(value, list):
            raise TypeError(value)
        return value
    if isinstance(value, bool) and kind != "bool":
        raise TypeError(value)
    if not isinstance(value, _TYPES[kind]):
        raise TypeError(value)
    return value


def _describe(kind: str) -> str:
    return {
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
        "str": "a string",
        "list": "a list such as [1, 2]",
        "tuple": "a list such as [1, 2]",
        "dict": "a dict",
        "any": "a literal (string, number, list, true/false or none)",
    }[kind]


def validate_parameters(
    params: Mapping[str, Parameter],
    values: Mapping[str, Any],
    *,
    notebook: str = "the notebook",
    rules: Mapping[str, Rule] | None = None,
) -> dict[str, Any]:
    """Check names, types and ``rules`` of ``values`` against ``params``; return the converted values."""
    unknown = [name for name in values if name not in params]
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, list(params), n=1)
        maybe = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParameterError(f"unknown parameter {name!r} for {notebook}{maybe}; valid parameters: {', '.join(params)}")
    converted = {name: coerce_value(params[name], value) for name, value in values.items()}
    check_rules(params, converted, rules or {})
    check_injection(converted)
    return converted


def check_rules(params: Mapping[str, Parameter], values: Mapping[str, Any], rules: Mapping[str, Rule]) -> None:
    """Check every parameter's value (given, else its default) against its rule; ParameterError if not.

    Choices, bounds and patterns come first (on every element with ``items``), then the number and
    order of the elements of a list, then the rule's validator (only for a value that was given).
    """
    for name, rule in rules.items():
        if name not in params:
            raise ParameterError(f"the catalog has a rule for {name!r}, which is not a parameter of the notebook")
        value = values.get(name, params[name].default)
        if value is None and rule.validator is not None:
            continue
        elements = value if rule.items and isinstance(value, list) else [value]
        for element in elements:
            _check_element(params[name], rule, element)
        _check_list(params[name], rule, value)
        if rule.validator is not None and name in values:
            extra = {key: values.get(key, params[key].default) for key in rule.needs}
            _run_validator(name, rule.validator, value, extra)


def _refuse(param: Parameter, rule: Rule, value: Any, why: str = "") -> ParameterError:
    return ParameterError(
        f"parameter {param.name!r} got {value!r}; {why or 'allowed: ' + rule.describe()} ({param.name}: {param.help})"
    )


def _check_element(param: Parameter, rule: Rule, value: Any) -> None:
    bad = rule.choices is not None and value not in rule.choices
    if rule.pattern is not None:
        bad = bad or not isinstance(value, str) or re.fullmatch(rule.pattern, value) is None
    if rule.minimum is not None or rule.maximum is not None:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if number and rule.maximum is not None and value > rule.maximum and (rule.cost or rule.why):
            why = rule.cost.estimate(value) if rule.cost else rule.why
            raise _refuse(param, rule, value, f"at most {rule.maximum:g}: {why}")
        bad = (
            bad
            or not number
            or (rule.minimum is not None and value < rule.minimum)
            or (rule.maximum is not None and value > rule.maximum)
        )
    if bad:
        raise _refuse(param, rule, value)


def _check_list(param: Parameter, rule: Rule, value: Any) -> None:
    """The number of elements and their order (``min_items``, ``max_items``, ``increasing``) of a list value."""
    if not isinstance(value, list):
        return
    short = rule.min_items is not None and len(value) < rule.min_items
    long = rule.max_items is not None and len(value) > rule.max_items
    unordered = rule.increasing and any(b <= a for a, b in pairwise(value))
    if short or long or unordered:
        raise _refuse(param, rule, value)


def _run_validator(name: str, check: Callable[..., Any], value: Any, extra: Mapping[str, Any]) -> None:
    try:
        check(value, **extra)
    except HepmlError as exc:
        raise type(exc)(f"parameter {name!r}: {exc}") from None


def check_injection(values: Mapping[str, Any]) -> None:
    """Check that the code papermill writes for ``values`` is plain literals equal to the values.

    Guards against values that papermill would write as code other than a literal.
    """
    from papermill.translators import PythonTranslator

    for name, value in values.items():
        code = f"{name} = {PythonTranslator.translate(value)}"
        try:
            tree = ast.parse(code)
            single = tree.body[0] if len(tree.body) == 1 and isinstance(tree.body[0], ast.Assign) else None
            back = ast.literal_eval(single.value) if single is not None else object()
        except (SyntaxError, ValueError):
            back = object()
        if back != value or type(back) is not type(value):
            raise ParameterError(
                f"parameter {name!r}: the value {value!r} cannot be passed to the notebook "
                "safely; give a string, number, true/false, None, or a list or dict of them"
            )


def format_parameters(params: Mapping[str, Parameter], rules: Mapping[str, Rule] | None = None) -> str:
    """A table of the parameters: name, type, default, allowed values and help."""
    rules = rules or {}
    rows = [
        (p.name, p.type_name, repr(p.default), rules[p.name].describe() if p.name in rules else "", p.help)
        for p in params.values()
    ]
    header = ("name", "type", "default", "allowed", "help")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(4)]
    lines = [
        "  ".join(f"{cell:<{w}}" for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)
