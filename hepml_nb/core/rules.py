"""Rules for a parameter's values: choices, ranges, sizes with their cost, windows, patterns, input files.

Each topic's spec module gives each restricted parameter a :class:`Rule`, built with the small
constructors here (:func:`one_of`, :func:`between`, :func:`size`, :func:`window`,
:func:`matching`, :func:`input_file`); :func:`hepml_nb.course.params.check_rules` checks the
values against them before any kernel starts. A size rule carries a :class:`Cost` (the memory
or time one unit takes), so that a value above its maximum is refused with what it would need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Cost", "Rule", "one_of", "at_least", "between", "each", "size", "window", "matching", "input_file"]

_BINARY = ((2.0**60, "EiB"), (2.0**50, "PiB"), (2.0**40, "TiB"), (2.0**30, "GiB"), (2.0**20, "MiB"), (2.0**10, "KiB"))
_DURATIONS = ((365.25 * 86400, "years"), (86400.0, "days"), (3600.0, "hours"), (60.0, "minutes"), (0.1, "s"))


def _bytes(amount: float) -> str:
    scale, unit = next(((s, u) for s, u in _BINARY if amount >= s), (1.0, "B"))
    return f"{amount / scale:.3g} {unit}"


def _duration(seconds: float) -> str:
    scale, unit = next(((s, u) for s, u in _DURATIONS if seconds >= s), (1e-3, "ms"))
    return f"{seconds / scale:.3g} {unit}" if unit != "s" else f"{seconds:.3g} s"


@dataclass(frozen=True)
class Cost:
    """What one unit of a size parameter costs, for the message when a value is above its maximum.

    Attributes
    ----------
    unit
        What the parameter counts, singular (``"jet"``, ``"epoch"``); ``plural`` defaults to ``unit + "s"``.
    bytes, seconds
        Memory and CPU time (one core) per unit, or per pair of units when ``power`` is 2; 0 when
        that resource does not grow with the value.
    power
        2 when the cost grows with the square of the value (kernel matrices, attention).
    basis
        Where the figures come from (a measurement, or the arrays the code allocates).
    """

    unit: str
    bytes: float = 0.0
    seconds: float = 0.0
    power: int = 1
    basis: str = ""
    plural: str = ""

    def estimate(self, value: float) -> str:
        """``"1e+12 jets would need about 186 PiB of memory (0.2 MiB per jet: basis)"``."""
        count = float(value) ** self.power
        need = [f"about {_bytes(self.bytes * count)} of memory"] * bool(self.bytes)
        need += [f"about {_duration(self.seconds * count)} of CPU time"] * bool(self.seconds)
        each = [_bytes(self.bytes)] * bool(self.bytes) + [_duration(self.seconds)] * bool(self.seconds)
        plural = self.plural or f"{self.unit}s"
        per = f"pair of {plural}" if self.power == 2 else self.unit
        basis = f": {self.basis}" if self.basis else ""
        return f"{float(value):.3g} {plural} would need {' and '.join(need)} ({' and '.join(each)} per {per}{basis})"


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
        True when the bounds/choices/pattern apply to every element of a list value.
    validator
        A function called with the value (not None) before the run, e.g. to check that an input file
        exists and has the right schema; it raises a :class:`HepmlError` naming the problem. A topic's
        spec module gives a function that imports the topic's heavy code only when called.
    needs
        Names of other parameters passed to ``validator`` as keywords (their given or default values).
    min_items, max_items
        Bounds on the number of elements of a list value, or None.
    increasing
        The elements of a list value must be strictly increasing (a window ``[low, high]``).
    pattern, form
        A regular expression a string value must match in full, and the form it describes in words.
    cost
        What a value costs (:class:`Cost`), named in the message when a value is above ``maximum``.
    why
        Why ``maximum`` is where it is, for a limit that is not a cost (a device's most shots).
    """

    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    items: bool = False
    validator: Callable[..., Any] | None = None
    needs: tuple[str, ...] = ()
    min_items: int | None = None
    max_items: int | None = None
    increasing: bool = False
    pattern: str | None = None
    form: str = ""
    cost: Cost | None = None
    why: str = ""

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
        if self.pattern is not None:
            parts.append(self.form or f"matching {self.pattern}")
        if self.validator:
            parts.append("checked before the run")
        text = "; ".join(parts)
        text = f"each {text}" if self.items and text else text
        shape = self._describe_list()
        return f"{text}; {shape}" if shape and text else shape or text

    def _describe_list(self) -> str:
        order = "increasing " if self.increasing else ""
        if self.min_items is not None and self.min_items == self.max_items:
            return f"{self.min_items} {order}numbers" if self.minimum is not None else f"{self.min_items} {order}items"
        if self.min_items is not None:
            return f"at least {self.min_items} item{'s' if self.min_items != 1 else ''}"
        return "increasing" if self.increasing else ""


def one_of(*choices: Any, items: bool = False, min_items: int | None = None) -> Rule:
    """A parameter taking one of ``choices`` (each element of a list with ``items=True``)."""
    return Rule(choices=tuple(choices), items=items, min_items=min_items)


def at_least(minimum: float, *, items: bool = False) -> Rule:
    """A number (or each element of a list) not below ``minimum``."""
    return Rule(minimum=minimum, items=items)


def between(minimum: float, maximum: float, *, items: bool = False, min_items: int | None = None) -> Rule:
    """A number (or each element of a list) within ``[minimum, maximum]``."""
    return Rule(minimum=minimum, maximum=maximum, items=items, min_items=min_items)


def each(rule: Rule) -> Rule:
    """``rule`` applied to every element of a list value."""
    return replace(rule, items=True)


def size(
    minimum: int,
    maximum: int,
    cost: Cost | None = None,
    *,
    why: str = "",
    items: bool = False,
    min_items: int | None = None,
) -> Rule:
    """A count (jets, events, epochs, ...) within ``[minimum, maximum]``.

    Above ``maximum`` the message gives what the value would cost (``cost``), or ``why`` the
    limit is there when it is not a cost; one of the two is required.
    """
    if cost is None and not why:
        raise ValueError("a size rule needs the cost of a value or why its maximum is there")
    return Rule(minimum=minimum, maximum=maximum, items=items, cost=cost, why=why, min_items=min_items)


def window(low: float, high: float, *, increasing: bool = True) -> Rule:
    """A list of two numbers within ``[low, high]``, strictly increasing unless ``increasing=False``."""
    return Rule(minimum=low, maximum=high, items=True, min_items=2, max_items=2, increasing=increasing)


def matching(pattern: str, form: str, *, validator: Callable[..., Any] | None = None) -> Rule:
    """A string matching ``pattern`` in full (``form`` says it in words), then checked by ``validator``."""
    re.compile(pattern)
    return Rule(pattern=pattern, form=form, validator=validator)


def input_file(validator: Callable[..., Any], *, needs: tuple[str, ...] = ()) -> Rule:
    """A path parameter checked by ``validator`` before the run when not None.

    ``needs`` names parameters passed on as keywords, e.g. the number of events the run reads.
    """
    return Rule(validator=validator, needs=tuple(needs))
