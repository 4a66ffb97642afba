"""Delphes-like detector response: track smearing and efficiency, towers, impact parameters, errors."""

import math

import awkward as ak
import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets.detector import SPECS, apply_detector, detector_response, tower_grid, track_resolution
from hepml_nb.jets.particleflow import C_LIGHT_GEV, calorimeter_entry, energy_fraction


def _columns(n, **kw):
    base = {k: np.zeros(n) for k in ("px", "py", "pz", "e", "charge", "vx", "vy", "vz")}
    base["pid"] = np.full(n, 211, dtype=np.int32)
    base.update({k: np.asarray(v, dtype=float) if k != "pid" else np.asarray(v, np.int32) for k, v in kw.items()})
    return base


def test_detector_response_track_pt_resolution_matches_the_card(seed):
    # muons deposit nothing in the calorimeters, so their tracks keep the card's smearing (MuonMomentumSmearing)
    n = 40_000
    cols = _columns(n, px=np.full(n, 50.0), e=np.full(n, 50.0), charge=np.ones(n), pid=np.full(n, 13))  # eta = 0
    out, _ = detector_response(cols, np.arange(n), n_events=n, detector="cms-like", rng=np.random.default_rng(seed))
    track = out["charge"] != 0
    pt = np.hypot(out["px"], out["py"])[track]
    expected = float(track_resolution(SPECS["cms-like"], "muon", np.array([50.0]), np.array([0.0]))[0])
    assert expected == pytest.approx(np.hypot(0.01, 1.0e-4 * 50))
    assert np.std(pt) / 50.0 == pytest.approx(expected, rel=0.03)
    assert track.sum() / n == pytest.approx(0.99, abs=0.003)  # card efficiency, |eta| <= 1.5, 1 < pT <= 1000 GeV
    assert track.all()  # no calorimeter deposit, no neutral candidate


def _pions(n, pt, rng, charge=1.0):
    phi = rng.uniform(-np.pi, np.pi, n)
    return _columns(n, px=pt * np.cos(phi), py=pt * np.sin(phi), e=np.full(n, np.hypot(pt, 0.1396)),
                    charge=np.full(n, charge))  # fmt: skip


@pytest.mark.parametrize("detector, significance", [("cms-like", 1.0), ("atlas-like", 2.0)])
def test_detector_response_subtracts_tracks_from_towers_as_delphes(detector, significance, seed):
    # one 50 GeV pi+ per event at eta 0: its HCAL tower minus its track is a neutral candidate when the excess is
    # above EnergyMin and EnergySignificanceMin x sigma (CMS card 1.0, ATLAS 2.0); otherwise the track is rescaled
    # to the inverse-variance mean of track and tower, whose spread is below the track's own resolution. A pion
    # without a track (5 %, the card's efficiency) leaves all its energy as a neutral candidate.
    n, rng = 40_000, np.random.default_rng(seed)
    out, event = detector_response(_pions(n, 50.0, rng), np.arange(n), n_events=n, detector=detector, rng=rng)
    track, neutral = out["charge"] != 0, out["pid"] == 130
    assert set(np.unique(out["pid"])) <= {211, 130} and not np.any(out["pid"] == 22)
    with_neutral = np.isin(np.arange(n), event[neutral])
    fraction = with_neutral.mean()
    spec = SPECS[detector]
    sigma_track = float(track_resolution(spec, "hadron", np.array([50.0]), np.array([0.0]))[0]) * 50.0
    sigma_calo = float(tower_grid(detector, 1).sigma(np.array([50.0]), np.array([0.0]))[0])
    tail = 0.5 * math.erfc(significance / math.sqrt(2))  # excess > significance x sigma, a Gaussian guess
    assert 0.05 + 0.95 * 0.6 * tail < fraction < 0.05 + 0.95 * 1.4 * tail, (fraction, tail)
    assert np.all(out["e"][neutral] > 1.0)  # EnergyMin of the HCAL
    pt = np.hypot(out["px"], out["py"])[track & ~np.isin(event, event[neutral])]
    combined = 1 / np.hypot(1 / sigma_track, 1 / sigma_calo)
    assert np.std(pt) < 0.97 * sigma_track and np.std(pt) == pytest.approx(combined, rel=0.15)


def test_detector_response_finds_a_neutral_hadron_under_a_track(seed):
    # a 40 GeV K0L where a 50 GeV pi+ reaches the HCAL: the excess over the track is the K0L's energy
    n, rng = 5_000, np.random.default_rng(seed)
    pions = _pions(n, 50.0, rng)
    _, phi = calorimeter_entry(pions, radius_m=1.29, half_length_m=3.0, bz_tesla=3.8)
    k0l = _columns(n, px=40.0 * np.cos(phi), py=40.0 * np.sin(phi), e=np.full(n, 40.0), pid=np.full(n, 130))
    cols = {k: np.concatenate([pions[k], k0l[k]]) for k in pions}
    out, event = detector_response(cols, np.tile(np.arange(n), 2), n_events=n, detector="cms-like", rng=rng)
    neutral = out["pid"] == 130
    assert len(np.unique(event[neutral])) > 0.9 * n  # found in almost every event
    assert np.median(out["e"][neutral]) == pytest.approx(40.0, rel=0.1)
    assert np.all(np.bincount(event[out["charge"] != 0], minlength=n) <= 1)  # the pion stays one track


def test_calorimeter_entry_follows_helices_in_the_solenoid_field():
    # from the origin at eta 0: a 1 GeV pi+ in 3.8 T reaches R = 1.29 m at phi = -asin(0.3 B R / 2 pT),
    # a pi- at +asin(...), a photon where it points; a 0.5 GeV pion curls up (2 r < R) and leaves through
    # the endcap at |z| = 3 m; a photon from (10, 0, 0) mm along +y leaves at x = 10 mm
    cols = _columns(
        5, px=[1.0, 1.0, 1.0, 0.5, 0.0], py=[0.0, 0.0, 0.0, 0.0, 1.0], pz=[0.0, 0.0, 0.0, 0.3, 0.0],
        charge=[1.0, -1.0, 0.0, 1.0, 0.0], vx=[0.0, 0.0, 0.0, 0.0, 10.0],
    )  # fmt: skip
    eta, phi = calorimeter_entry(cols, radius_m=1.29, half_length_m=3.0, bz_tesla=3.8)
    bend = math.asin(C_LIGHT_GEV * 3.8 * 1.29 / 2)
    np.testing.assert_allclose(phi[:3], [-bend, bend, 0.0], atol=1e-9)
    np.testing.assert_allclose(eta[:3], 0.0, atol=1e-9)
    assert eta[3] > math.asinh(3.0 / 1.29)  # the endcap, beyond the barrel's corner
    assert phi[4] == pytest.approx(math.atan2(math.sqrt(1.29**2 - 0.01**2), 0.01))


@pytest.mark.parametrize(
    "pid, ecal, hcal", [(22, 1.0, 0.0), (-11, 1.0, 0.0), (211, 0.0, 1.0), (2112, 0.0, 1.0), (13, 0.0, 0.0),
                        (14, 0.0, 0.0), (310, 0.3, 0.7)],
)  # fmt: skip
def test_energy_fraction_follows_the_cards(pid, ecal, hcal):
    assert energy_fraction(np.array([pid]), 0)[0] == ecal and energy_fraction(np.array([pid]), 1)[0] == hcal


def test_detector_response_merges_photons_in_one_tower_only(seed):
    # two 20 GeV photons at eta 0.005: phi 0.001 and 0.002 share an ECAL tower (1 degree); phi 0.5 does not
    def photons(phis):
        pt = np.full(len(phis), 20.0)
        return _columns(len(phis), px=pt * np.cos(phis), py=pt * np.sin(phis), pz=pt * np.sinh(0.005),
                        e=pt * np.cosh(0.005), pid=np.full(len(phis), 22))  # fmt: skip

    rng = np.random.default_rng(seed)
    same, _ = detector_response(
        photons(np.array([0.001, 0.002])), np.zeros(2, int), n_events=1, detector="cms-like", rng=rng
    )
    apart, _ = detector_response(
        photons(np.array([0.001, 0.5])), np.zeros(2, int), n_events=1, detector="cms-like", rng=rng
    )
    assert len(same["e"]) == 1 and same["e"][0] == pytest.approx(40.0, rel=0.1) and same["pid"][0] == 22
    assert len(apart["e"]) == 2


def test_detector_none_keeps_particles_and_true_impact_parameters():
    # a pi+ of (px, py, pz) = (3, 4, 5) from the vertex (1, 0, 2) mm: d0 = (x py - y px) / pT = 0.8 mm,
    # dz = z - (x px + y py) / pT * pz / pT = 2 - 0.6 = 1.4 mm; a photon gets zeros
    particles = ak.Array([[
        {"px": 3.0, "py": 4.0, "pz": 5.0, "e": 7.2, "pid": 211, "charge": 1.0, "vx": 1.0, "vy": 0.0, "vz": 2.0},
        {"px": 1.0, "py": 0.0, "pz": 0.0, "e": 1.0, "pid": 22, "charge": 0.0, "vx": 1.0, "vy": 0.0, "vz": 2.0},
    ]])  # fmt: skip
    out = apply_detector(particles, "none", np.random.default_rng(0))
    assert out.px.tolist() == particles.px.tolist() and out.pid.tolist() == [[211, 22]]
    np.testing.assert_allclose(out.d0val.tolist()[0], [0.8, 0.0])
    np.testing.assert_allclose(out.dzval.tolist()[0], [1.4, 0.0])
    assert out.d0err.tolist() == [[0.0, 0.0]]
    smeared = apply_detector(particles, "cms-like", np.random.default_rng(0))
    track = smeared[smeared.charge != 0]
    assert ak.all(track.d0err > 0) and ak.all(track.pid == 211)


def test_apply_detector_rejects_unknown_names():
    with pytest.raises(ParameterError, match="unknown detector 'delphes'; choose one of: none, cms-like, atlas-like"):
        apply_detector(ak.Array([[]]), "delphes", np.random.default_rng(0))


@pytest.mark.parametrize(
    "pt,eta,expected",
    [
        (0.5, 0.3, 0.70),  # delphes_card_CMS.tcl ChargedHadronTrackingEfficiency: |eta| <= 1.5, 0.1 < pT <= 1
        (5.0, -1.2, 0.95),  # |eta| <= 1.5, pT > 1
        (0.5, 2.0, 0.60),  # 1.5 < |eta| <= 2.5, 0.1 < pT <= 1
        (5.0, -2.2, 0.85),  # 1.5 < |eta| <= 2.5, pT > 1
        (5.0, 2.8, 0.0),  # outside the tracker
    ],
)
def test_tracking_efficiency_per_eta_and_pt_bin_follows_the_cms_card(pt, eta, expected, seed):
    n = 20_000
    phi = np.random.default_rng(seed).uniform(-np.pi, np.pi, n)
    cols = _columns(
        n, px=pt * np.cos(phi), py=pt * np.sin(phi), pz=np.full(n, pt * np.sinh(eta)),
        e=np.full(n, pt * np.cosh(eta)), charge=np.ones(n),
    )  # fmt: skip
    # one pion per event, so untracked pions become neutral calorimeter deposits of their own
    out, _ = detector_response(cols, np.arange(n), n_events=n, detector="cms-like", rng=np.random.default_rng(seed))
    tracked = (out["charge"] != 0).sum() / n
    assert tracked == pytest.approx(expected, abs=4 * np.sqrt(max(expected * (1 - expected), 1e-4) / n))


def test_tower_grid_gives_the_cards_calorimeters_and_refuses_none():
    hcal = tower_grid("cms-like", 1)
    assert (hcal.energy_min, hcal.significance_min, hcal.neutral_pid) == (1.0, 1.0, 130)
    assert tower_grid("atlas-like", 1).significance_min == 2.0 and tower_grid("cms-like", 0).neutral_pid == 22
    with pytest.raises(ParameterError, match="detector 'none' has no calorimeter; choose one of: cms-like, atlas-like"):
        tower_grid("none", 0)
