"""Delphes-like detector response: track smearing and efficiency, towers, impact parameters, errors."""

import awkward as ak
import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets.detector import SPECS, apply_detector, detector_response, track_resolution


def _columns(n, **kw):
    base = {k: np.zeros(n) for k in ("px", "py", "pz", "e", "charge", "vx", "vy", "vz")}
    base["pid"] = np.full(n, 211, dtype=np.int32)
    base.update({k: np.asarray(v, dtype=float) if k != "pid" else np.asarray(v, np.int32) for k, v in kw.items()})
    return base


def test_detector_response_track_pt_resolution_matches_the_card(seed):
    n = 40_000
    cols = _columns(n, px=np.full(n, 50.0), e=np.full(n, 50.0), charge=np.ones(n))  # eta = 0
    out, _ = detector_response(cols, np.arange(n), n_events=n, detector="cms-like", rng=np.random.default_rng(seed))
    track = out["charge"] != 0
    pt = np.hypot(out["px"], out["py"])[track]
    expected = float(track_resolution(SPECS["cms-like"], "hadron", np.array([50.0]), np.array([0.0]))[0])
    assert expected == pytest.approx(np.hypot(0.06, 1.3e-3 * 50))
    assert np.std(pt) / 50.0 == pytest.approx(expected, rel=0.03)
    assert track.mean() == pytest.approx(0.95, abs=0.005)  # card efficiency, |eta| <= 1.5, pT > 1 GeV


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
