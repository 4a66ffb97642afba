"""One rule per concept: ap_fixed<W,I> types and reuse factors (hepml_nb.fpga.rules), used everywhere."""

import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.fpga import estimate, fixed, hls, rules, scans


@pytest.mark.parametrize(("width", "integer"), [(1, 1), (16, 6), (64, 64), (np.int64(18), 8), (16.0, 6)])
def test_check_fixed_point_accepts_valid_types(width, integer):
    assert rules.check_fixed_point(width, integer) == (int(width), int(integer))


@pytest.mark.parametrize(("width", "integer"), [(4, 6), (8, 0), (65, 6), (16.5, 6), (True, 1), ("16", 6)])
def test_check_fixed_point_rejects_with_the_rule(width, integer):
    with pytest.raises(
        ParameterError,
        match=rf"precision ap_fixed<{width},{integer}> is not a valid fixed-point "
        r"type: need whole numbers 1 <= I <= W <= 64 .*e.g. ap_fixed<16,6>",
    ):
        rules.check_fixed_point(width, integer)


def test_every_precision_check_uses_the_same_rule():
    """The hls4ml configuration, the emulation and the estimate refuse the same type with one message."""
    message = r"precision ap_fixed<4,6> is not a valid fixed-point type"
    for call in (
        lambda: hls.parse_precision("ap_fixed<4,6>"),
        lambda: hls.fixed_precision(4, 6),
        lambda: fixed.quantize_fixed(np.zeros(2), 4, 6),
        lambda: estimate.fpga_estimate([(16, 64)], precision=(4, 6)),
    ):
        with pytest.raises(ParameterError, match=message):
            call()
    assert hls.parse_precision("ap_fixed<1,1>") == (1, 1)  # the same limits everywhere (was W >= 2 here)


def test_check_widths_rejects_widths_below_the_integer_bits():
    assert rules.check_widths((8, 16.0), 6) == [8, 16]
    with pytest.raises(
        ParameterError,
        match=r"widths must be a non-empty list of integers in \[6, 64\] .*"
        r"integer_bits=6\); got \[4, 16\], bad: \[4\]; lower the integer bits",
    ):
        rules.check_widths([4, 16], 6)
    with pytest.raises(ParameterError, match=r"profiled_widths must be a non-empty list .*got \[\], bad: \[\]"):
        rules.check_widths([], 6, what="profiled_widths")


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "2", None])
def test_check_reuse_factor_rejects(value):
    with pytest.raises(ParameterError, match=r"reuse_factor must be an integer >= 1 \(1 = fully parallel"):
        rules.check_reuse_factor(value)


def test_every_reuse_factor_check_uses_the_same_rule():
    assert rules.check_reuse_factor(np.int32(4)) == 4 and rules.check_reuse_factors((2.0, 1)) == [2, 1]
    with pytest.raises(ParameterError, match="reuse_factor must be an integer >= 1"):
        estimate.fpga_estimate([(16, 64)], reuse_factor=0)
    for call in (lambda: scans.reuse_scan(None, reuse_factors=(0, 1)), lambda: rules.check_reuse_factors([])):
        with pytest.raises(
            ParameterError,
            match=r"reuse_factors must be a non-empty list of integers >= 1 "
            r"\(1 = fully parallel\), got",
        ):
            call()
