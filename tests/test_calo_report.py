"""The speed table: time per shower at each batch size and the speed-up over the reference."""

import pytest

from hepml_nb.calo import report
from hepml_nb.core.errors import ParameterError


def test_speed_table_times_per_shower_and_speedups(monkeypatch):
    clock = [0.0]  # a clock that advances only when a generator runs: exact timings
    monkeypatch.setattr(report.time, "perf_counter", lambda: clock[0])
    calls = []

    def maker(overhead_s, per_shower_s):
        def make(n):
            calls.append(n)
            clock[0] += overhead_s + per_shower_s * n

        return make

    makers = {"simulation": maker(0.0, 1e-2), "network": maker(1e-3, 1e-5)}
    table = report.speed_table(makers, batch_sizes=(1, 1000), reference="simulation", min_showers=10)
    assert table.loc["simulation", "ms_b1"] == pytest.approx(10.0)
    assert table.loc["network", "ms_b1"] == pytest.approx(1.01)  # the per-call overhead dominates
    assert table.loc["network", "ms_b1000"] == pytest.approx(0.011)
    assert table.loc["network", "speedup_b1000"] == pytest.approx(10.0 / 0.011)
    assert table.loc["simulation", "speedup_b1"] == pytest.approx(1.0)
    assert calls.count(1) == 20 and calls.count(1000) == 2  # 10 showers' worth of calls at batch 1


def test_speed_table_rejects_bad_arguments():
    with pytest.raises(ParameterError, match="reference 'geant4' is not one of the generators: a"):
        report.speed_table({"a": lambda n: None}, reference="geant4")
    with pytest.raises(ParameterError, match="batch sizes must be positive"):
        report.speed_table({"a": lambda n: None}, batch_sizes=(0,))
