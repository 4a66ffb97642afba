"""A notebook's parameters: read from its ``parameters`` cell, validated before any kernel starts.

The cell holds one literal per knob with a one-line comment; papermill's
inspection gives the names, default sources and comments, and the literal's type
(or an annotation such as ``n: int = 10``) is the parameter's type. The catalog adds
a :class:`Rule` per parameter where its values are restricted (choices, a range, an
input file), so that every check runs before a kernel starts.

Values are restricted to what JSON can hold (str, int, float, bool, None, lists and
dicts of them): papermill writes values into the notebook as code, and only these
types are written back as plain literals. Tuples become lists; anything else (sets,
objects) is an error.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hepml_nb.core.errors import HepmlError, ParameterError

__all__ = [
    "Parameter",
    "Rule",
    "one_of",
    "at_least",
    "between",
    "each",
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


@dataclass(frozen=True)
class Parameter:
    """One knob of a notebook: name, default value, type name ('int', 'float', ..., 'any') and help."""

    name: str
    default: Any
    type_name: str
    help: str


@dataclass(frozen=True)
class Rule:
    """Allowed values of a parameter, checked before any kernel starts.

    Attributes
    ----------
    choices
        The allowed values (compared after type conversion), or None.
    minimum, maximum
        Inclusive bounds of a number, or None.
    items
        True when the bounds/choices apply to every element of a list value.
    validator
        ``"module:function"`` called with the value (not None) before the run, e.g. to check that
        an input file exists and has the right schema; it raises a :class:`HepmlError` naming the problem.
    needs
        Names of other parameters passed to ``validator`` as keywords (their given or default values).
    """

    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    items: bool = False
    validator: str | None = None
    needs: tuple[str, ...] = ()

    def describe(self) -> str:
        """The rule in words, for ``hepml-nb params`` and error messages."""
        parts = []
        if self.choices is not None:
            parts.append("one of: " + ", ".join(str(c) for c in self.choices))
        if self.minimum is not None and self.maximum is not None:
            parts.append(f"{self.minimum:g} to {self.maximum:g}")
        elif self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        elif self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        if self.validator:
            parts.append("checked before the run")
        text = "; ".join(parts)
        return f"each {text}" if self.items and text else text


def one_of(*choices: Any, items: bool = False) -> Rule:
    """A parameter taking one of ``choices`` (each element of a list with ``items=True``)."""
    return Rule(choices=tuple(choices), items=items)


def at_least(minimum: float, *, items: bool = False) -> Rule:
    """A number (or each element of a list) not below ``minimum``."""
    return Rule(minimum=minimum, items=items)


def between(minimum: float, maximum: float, *, items: bool = False) -> Rule:
    """A number (or each element of a list) within ``[minimum, maximum]``."""
    return Rule(minimum=minimum, maximum=maximum, items=items)


def each(rule: Rule) -> Rule:
    """``rule`` applied to every element of a list value."""
    return Rule(rule.choices, rule.minimum, rule.maximum, True, rule.validator, rule.needs)


def input_file(validator: str, *, needs: tuple[str, ...] = ()) -> Rule:
    """A path parameter checked by ``validator`` (``"module:function"``) before the run when not None.

    ``needs`` names parameters passed on as keywords, e.g. the number of events the run reads.
    """
    return Rule(validator=validator, needs=tuple(needs))


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
    (tuples become lists).
    """
    kind = param.type_name
    try:
        if isinstance(value, str) and kind != "str":
            value = _parse_text(kind, value)
        return _check_type(kind, _json_value(param.name, value))
    except ParameterError:
        raise
    except (ValueError, TypeError):
        raise ParameterError(
            f"parameter {param.name!r} expects {_describe(kind)} (default {param.default!r}), "
            f"got {value!r}; {param.name}: {param.help or 'no help text'}"
        ) from None


def _json_value(name: str, value: Any) -> Any:
    """``value`` with tuples as lists; ParameterError for anything JSON cannot hold."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"parameter {name!r} got {value!r}; give a finite number")
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(name, v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ParameterError(f"parameter {name!r}: dict keys must be strings, got {value!r}")
        return {k: _json_value(name, v) for k, v in value.items()}
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
    """Check every parameter's value (given, else its default) against its rule; ParameterError if not."""
    for name, rule in rules.items():
        if name not in params:
            raise ParameterError(f"the catalog has a rule for {name!r}, which is not a parameter of the notebook")
        value = values.get(name, params[name].default)
        if rule.validator is not None:
            if value is not None and name in values:
                extra = {key: values.get(key, params[key].default) for key in rule.needs}
                _run_validator(name, rule.validator, value, extra)
            continue
        elements = value if rule.items and isinstance(value, list) else [value]
        for element in elements:
            _check_element(params[name], rule, element)


def _check_element(param: Parameter, rule: Rule, value: Any) -> None:
    bad = rule.choices is not None and value not in rule.choices
    if rule.minimum is not None or rule.maximum is not None:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        bad = (
            bad
            or not number
            or (rule.minimum is not None and value < rule.minimum)
            or (rule.maximum is not None and value > rule.maximum)
        )
    if bad:
        raise ParameterError(
            f"parameter {param.name!r} got {value!r}; allowed: {rule.describe()} ({param.name}: {param.help})"
        )


def _run_validator(name: str, dotted: str, value: Any, extra: Mapping[str, Any]) -> None:
    module, _, function = dotted.partition(":")
    check = getattr(importlib.import_module(module), function)
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
            back = ast.literal_eval(tree.body[0].value) if len(tree.body) == 1 else object()
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
