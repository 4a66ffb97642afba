"""Tests of hepml_nb.fpga.fixed: ap_fixed quantisation, integer bits, numerical profiling."""

import numpy as np
import pytest

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.fpga.fixed import integer_bits_needed, numerical_profile, quantize_fixed


def test_quantize_fixed_truncates_towards_minus_infinity():
    # ap_fixed<8,3>: step 2**-5 = 0.03125
    got = quantize_fixed(np.array([0.3, -0.3, 0.03125, -0.01]), 8, 3)
    np.testing.assert_array_equal(got, [0.28125, -0.3125, 0.03125, -0.03125])


def test_quantize_fixed_wraps_on_overflow():
    # ap_fixed<8,3> holds [-4, 4 - 1/32]; 4.2 wraps to 4.1875 - 8
    got = quantize_fixed(np.array([4.2, -5.0, 33.0]), 8, 3)
    np.testing.assert_allclose(got, [4.1875 - 8, 3.0, 1.0])
    assert quantize_fixed(33.0, 16, 6) == -31.0


def test_quantize_fixed_rnd_sat_modes():
    got = quantize_fixed(np.array([0.3, 10.0, -10.0]), 8, 3, rounding="RND", overflow="SAT")
    np.testing.assert_allclose(got, [0.3125, 4 - 1 / 32, -4.0])


def test_quantize_fixed_keeps_representable_values_and_input():
    x = np.arange(-8, 8) / 4.0
    before = x.copy()
    np.testing.assert_array_equal(quantize_fixed(x, 6, 3), x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((1.0, 4, 6), {}, r"ap_fixed<4,6> is not a valid fixed-point type: need whole numbers 1 <= I <= W <= 64"),
        ((1.0, 8, 0), {}, r"ap_fixed<8,0> is not a valid"),
        ((1.0, 8, 3), {"rounding": "CEIL"}, "choose rounding from TRN, RND"),
        ((1.0, 8, 3), {"overflow": "CLIP"}, "overflow from WRAP, SAT"),
    ],
)
def test_quantize_fixed_rejects_bad_modes(args, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        quantize_fixed(*args, **kwargs)


@pytest.mark.parametrize("max_abs, bits", [(0.0, 1), (0.4, 1), (0.5, 1), (1.0, 2), (1.5, 2), (27.7, 6), (32.0, 7)])
def test_integer_bits_needed_values(max_abs, bits):
    assert integer_bits_needed(max_abs) == bits
    if max_abs > 0:  # the value fits, and one bit fewer would not
        assert max_abs < 2 ** (bits - 1)
        assert bits == 1 or max_abs >= 2 ** (bits - 2)


def test_integer_bits_needed_rejects_negative():
    with pytest.raises(ParameterError, match="finite number >= 0, got -1"):
        integer_bits_needed(-1.0)


def test_numerical_profile_rows_and_bits(seed):
    from hepml_nb.fpga.models import build_tagger

    model = build_tagger(4, 3, hidden=(8,), seed=seed)
    X = np.random.default_rng(seed).normal(scale=5.0, size=(200, 4)).astype(np.float32)
    prof = numerical_profile(model, X)
    assert list(prof["layer"])[:3] == ["input", "fc1", "fc1"]
    assert set(prof["kind"]) == {"input", "weight", "bias", "output"}
    row = prof.query("layer == 'input'").iloc[0]
    assert row["max_abs"] == pytest.approx(np.abs(X).max())
    assert row["integer_bits"] == integer_bits_needed(np.abs(X).max())
    assert prof.query("layer == 'softmax'")["max_abs"].iloc[0] <= 1.0


def test_numerical_profile_rejects_1d():
    from hepml_nb.fpga.models import build_tagger

    with pytest.raises(DataError, match=r"must be \(N, F\)"):
        numerical_profile(build_tagger(4, 2, hidden=(3,)), np.zeros(4))
