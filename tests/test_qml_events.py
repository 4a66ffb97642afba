"""Pythia8 diphoton events: smearing, selection, ROOT ntuple and cache."""

import numpy as np
import pytest

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.qml import events as ev

SELECTION = dict(window=(115.0, 135.0), e_min=20.0, cos_max=0.9, iso_cone=0.2, iso_frac=0.1)


def _row(pid, e, direction, visible=1, charged=0):
    d = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    return (pid, e, *(e * d), visible, charged)


def test_smear_energies_has_the_requested_resolution(seed):
    rng = np.random.default_rng(seed)
    energy = np.full(200_000, 50.0)
    smeared = ev.smear_energies(energy, stochastic=0.17, constant=0.01, rng=rng)
    expected = np.sqrt(0.17**2 / 50 + 0.01**2)
    assert np.std(smeared / energy - 1) == pytest.approx(expected, rel=0.02)
    assert np.mean(smeared) == pytest.approx(50.0, rel=1e-3)
    assert np.array_equal(energy, np.full(200_000, 50.0))  # argument untouched


def test_select_diphoton_keeps_isolated_pair_in_window():
    final = np.array([_row(22, 62.5, (1, 0, 0.1)), _row(22, 62.5, (-1, 0, -0.1)), _row(211, 5.0, (0, 1, 0), charged=1)])
    photons = ev.select_diphoton(final, final[:, 1], **SELECTION)
    assert photons.shape == (2, 4)
    total = photons.sum(axis=0)
    assert np.sqrt(total[0] ** 2 - total[1:] @ total[1:]) == pytest.approx(125.0, rel=0.01)


def test_select_diphoton_rejects_non_isolated_and_out_of_window():
    pion_near = _row(211, 20.0, (1, 0.05, 0.1), charged=1)  # inside the cone of the first photon
    final = np.array([_row(22, 62.5, (1, 0, 0.1)), _row(22, 62.5, (-1, 0, -0.1)), pion_near])
    assert ev.select_diphoton(final, final[:, 1], **SELECTION) is None
    far = np.array([_row(22, 100.0, (1, 0, 0)), _row(22, 100.0, (-1, 0, 0))])  # m = 200 GeV
    assert ev.select_diphoton(far, far[:, 1], **SELECTION) is None
    forward = np.array([_row(22, 62.5, (0.1, 0, 1)), _row(22, 62.5, (-1, 0, 0))])  # |cos| > 0.9
    assert ev.select_diphoton(forward, forward[:, 1], **SELECTION) is None


@pytest.mark.slow  # Pythia8 generates the events
def test_event_file_writes_selected_events_and_caches(seed):
    path = ev.event_file(12, 6, seed=seed, backgrounds=("gammagamma",))
    data = ev.read_events(path)
    assert data["label"].sum() == 12 and (data["label"] == 0).sum() == 6
    e = data["g1_e"] + data["g2_e"]
    p2 = sum((data[f"g1_{c}"] + data[f"g2_{c}"]) ** 2 for c in ("px", "py", "pz"))
    assert np.all((np.sqrt(e**2 - p2) > 115) & (np.sqrt(e**2 - p2) < 135))
    assert np.all(data["g1_e"] >= data["g2_e"]) and np.all(data["g2_e"] > 20)
    assert set(np.unique(data["process"][data["label"] == 1])) <= {904}  # ffbar -> HZ
    assert set(np.unique(data["process"][data["label"] == 0])) <= {204}  # ffbar -> gamma gamma
    mtime = path.stat().st_mtime_ns
    assert ev.event_file(12, 6, seed=seed, backgrounds=("gammagamma",)) == path
    assert path.stat().st_mtime_ns == mtime


def test_read_events_rejects_missing_file_and_branches(tmp_path):
    import uproot

    with pytest.raises(DataError, match="not found"):
        ev.read_events(tmp_path / "nope.root")
    with uproot.recreate(tmp_path / "bad.root") as fh:
        fh["events"] = {"label": np.zeros(3, dtype=np.int32)}
    with pytest.raises(DataError, match="lacks branches"):
        ev.read_events(tmp_path / "bad.root")
    with uproot.recreate(tmp_path / "notree.root") as fh:
        fh["other"] = {"label": np.zeros(3, dtype=np.int32)}
    with pytest.raises(DataError, match="no tree 'events'"):
        ev.read_events(tmp_path / "notree.root")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_signal=0, n_background=5), "n_signal must be a positive integer"),
        (dict(n_signal=5, n_background=5, mass_window=(135.0, 115.0)), "mass_window must be"),
        (dict(n_signal=5, n_background=5, resolution=(-0.1, 0.01)), "resolution terms must be >= 0"),
        (dict(n_signal=5, n_background=5, cos_max=1.5), "cos_max must be in"),
        (dict(n_signal=5, n_background=5, backgrounds=("bhabha",)), "choose one or more of: gammagamma, zgamma"),
    ],
)
def test_event_file_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        ev.event_file(**kwargs)


@pytest.mark.slow  # Pythia8 generates the events
def test_event_file_gives_up_with_advice_when_nothing_passes(seed):
    with pytest.raises(DataError, match="widen mass_window"):
        ev.event_file(2, 1, seed=seed, mass_window=(30.0, 30.5), max_attempts_per_event=20, backgrounds=("gammagamma",))


def test_cut_flow_zgamma_keeps_full_energy_z_gamma_events(seed):
    """Z/gamma* gamma has its own cuts: no radiative-return mHat window (the old shared configuration)."""
    sample, m_hat = ev.cut_flow("zgamma", 300, seed=seed)
    assert sample.generated == 300 and sample.generator_cuts.startswith("pTHat")
    assert np.mean(m_hat > 200.0) > 0.5  # most events at the full 240 GeV (minus soft ISR)
    assert np.median(m_hat) == pytest.approx(240.0, abs=5.0)
    assert sample.sigma_fb > 5000.0  # ~20 pb, not the ~4 pb of the mHat-windowed corner
    rr_sample, rr_m_hat = ev.cut_flow("gammagamma", 100, seed=seed)
    assert np.all((rr_m_hat > 89.9) & (rr_m_hat < 160.1))  # gamma gamma keeps the radiative-return window
    assert rr_sample.luminosity_ifb == pytest.approx(100 / rr_sample.sigma_fb)


def test_event_file_records_composition_by_cross_section_times_efficiency(seed):
    path = ev.event_file(4, 10, seed=seed, backgrounds=("gammagamma", "zgamma"))
    table = ev.sample_composition(path)
    assert list(table.index) == ["zh", "gammagamma", "zgamma"]
    data = ev.read_events(path)
    assert table.loc["gammagamma", "selected"] + table.loc["zgamma", "selected"] == 10 == (data["label"] == 0).sum()
    assert np.all(table["sigma_selected_fb"] == table["sigma_fb"] * table["efficiency"])
    bkg = table.loc[["gammagamma", "zgamma"]]
    # generated side by side at equal luminosity (each step picks the process with the least N/sigma)
    assert bkg["luminosity_ifb"].max() / bkg["luminosity_ifb"].min() < 1.1
    assert bkg["fraction"].sum() == pytest.approx(1.0) and table.loc["zh", "fraction"] == 1.0
    assert set(np.unique(data["process"][data["label"] == 0])) <= {204, 243}
    assert "m_hat" in data and np.all(data["m_hat"] > 0)


def test_cut_flow_and_composition_reject_bad_input(tmp_path):
    import uproot

    with pytest.raises(ParameterError, match="unknown process 'bhabha'; choose one of: zh, gammagamma, zgamma"):
        ev.cut_flow("bhabha", 10)
    with uproot.recreate(tmp_path / "old.root") as fh:
        fh["events"] = {"label": np.zeros(3, dtype=np.int32)}
    with pytest.raises(DataError, match="no per-process 'generation' tree"):
        ev.sample_composition(tmp_path / "old.root")
