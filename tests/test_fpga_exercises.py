"""Each checker of the FPGA notebook with the right answer and a typical wrong one."""

import numpy as np

from hepml_nb.fpga import exercises


def test_check_quantize_right_and_rounded(capsys, verdict):
    x = np.array([0.3, -1.27, 3.9, 4.2, -5.0, 0.0625])
    step = 2.0**-5
    codes = (np.floor(x / step) + 128) % 256 - 128
    assert verdict(exercises.check_quantize, codes * step, x, 8, 3) == "correct"
    assert "Correct" in capsys.readouterr().out
    wrong = np.clip(np.round(x / step), -128, 127) * step
    assert verdict(exercises.check_quantize, wrong, x, 8, 3) == "incorrect"
    assert "AP_TRN and AP_WRAP" in capsys.readouterr().out


def test_check_integer_bits_right_and_missing_sign(capsys, verdict):
    assert verdict(exercises.check_integer_bits, 6, 27.7) == "correct"
    assert verdict(exercises.check_integer_bits, 5, 27.7) == "incorrect"
    assert "sign bit" in capsys.readouterr().out


def test_check_multiplications_right_and_layer_sum(capsys, verdict):
    assert verdict(exercises.check_multiplications, 1064, (16, 64, 32, 32, 5), reuse_factor=4) == "correct"
    assert verdict(exercises.check_multiplications, 4256) == "correct"
    assert verdict(exercises.check_multiplications, 149) == "incorrect"
    assert "added the layer widths" in capsys.readouterr().out


def test_check_latency_ns_right_and_times_frequency(capsys, verdict):
    assert verdict(exercises.check_latency_ns, 60.0, 12, 200.0) == "correct"
    assert verdict(exercises.check_latency_ns, 2400.0, 12, 200.0) == "incorrect"
    assert "multiplied cycles by the frequency" in capsys.readouterr().out


def test_checkers_never_raise_on_garbage(capsys, verdict):
    assert verdict(exercises.check_latency_ns, "abc", 12, 200.0) == "incorrect"
    assert verdict(exercises.check_quantize, "abc", [1.0, 2.0], 8, 3) == "incorrect"
    assert capsys.readouterr().out.count("Incorrect") == 2


def test_checkers_say_not_attempted_for_none(capsys, verdict):
    assert verdict(exercises.check_quantize, None, [1.0], 8, 3) == "not attempted"
    assert verdict(exercises.check_integer_bits, None, 3.0) == "not attempted"
    assert verdict(exercises.check_multiplications, None) == "not attempted"
    assert verdict(exercises.check_latency_ns, None, 12, 200.0) == "not attempted"
    out = capsys.readouterr().out
    assert out.count("Not attempted yet") == 4 and "Incorrect" not in out
