"""The rules for fixed-point types and reuse factors, checked in one place for the whole topic.

``ap_fixed<W,I>`` (Vivado/Vitis HLS) holds W bits in total, I of them integer bits including
the sign: whole numbers with 1 <= I <= W <= 64. The reuse factor R (how many times each
multiplier is reused; 1 = fully parallel) is a whole number >= 1. The hls4ml configuration,
the fixed-point emulation, the resource estimate and the scans all call these functions, so
they accept and refuse the same values with the same messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real

from hepml_nb.core.errors import ParameterError

__all__ = ["MAX_WIDTH", "check_fixed_point", "check_reuse_factor", "check_reuse_factors", "check_widths"]

#: Widest ap_fixed type hls4ml's arithmetic and the emulation here support.
MAX_WIDTH = 64


def _whole(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and float(value).is_integer()


def check_fixed_point(width: int, integer: int, *, what: str = "precision") -> tuple[int, int]:
    """``(W, I)`` as ints when ``ap_fixed<width,integer>`` is a valid type, else a ParameterError.

    Raises
    ------
    ParameterError
        Unless W and I are whole numbers with 1 <= I <= W <= 64; the message names ``what``.
    """
    if not (_whole(width) and _whole(integer) and 1 <= integer <= width <= MAX_WIDTH):
        raise ParameterError(
            f"{what} ap_fixed<{width},{integer}> is not a valid fixed-point type: need whole numbers "
            f"1 <= I <= W <= {MAX_WIDTH} (W bits in total, I of them integer bits incl. the sign), "
            f"got W={width}, I={integer}; e.g. ap_fixed<16,6>"
        )
    return int(width), int(integer)


def check_widths(widths: Sequence[int], integer_bits: int, *, what: str = "widths") -> list[int]:
    """The total widths W of a precision scan as ints, each valid with ``integer_bits`` integer bits.

    Raises
    ------
    ParameterError
        When ``widths`` is empty or holds a value that is not a whole number in [integer_bits, 64].
    """
    values = list(widths)
    bad = [w for w in values if not (_whole(w) and integer_bits <= w <= MAX_WIDTH)]
    if bad or not values:
        raise ParameterError(
            f"{what} must be a non-empty list of integers in [{integer_bits}, {MAX_WIDTH}] (every "
            f"width at least the integer bits, integer_bits={integer_bits}); got {values}, bad: {bad}; "
            "lower the integer bits or drop those widths"
        )
    return [int(w) for w in values]


def check_reuse_factor(value: int, *, what: str = "reuse_factor") -> int:
    """The reuse factor as an int; ParameterError unless it is a whole number >= 1."""
    if not (_whole(value) and value >= 1):
        raise ParameterError(
            f"{what} must be an integer >= 1 (1 = fully parallel, R = each multiplier used R times), got {value!r}"
        )
    return int(value)


def check_reuse_factors(values: Sequence[int], *, what: str = "reuse_factors") -> list[int]:
    """A non-empty list of reuse factors as ints (see :func:`check_reuse_factor`)."""
    values = list(values)
    bad = [v for v in values if not (_whole(v) and v >= 1)]
    if bad or not values:
        raise ParameterError(
            f"{what} must be a non-empty list of integers >= 1 (1 = fully parallel), got {values}, bad: {bad}"
        )
    return [int(v) for v in values]
