"""A parametrised, Delphes-like detector response between Pythia8 and jet clustering.

The response follows the Delphes cards ``delphes_card_CMS.tcl`` and ``delphes_card_ATLAS.tcl``
with the track impact-parameter resolutions of ``trackResolutionCMS.tcl`` and
``trackResolutionATLAS.tcl`` (Delphes 3.5.1-16, commit 0ee14ba7add6, github.com/delphes/delphes):

- particles produced outside the tracker cylinder (``ParticlePropagator`` Radius, HalfLength)
  are dropped, as Delphes does; the others are followed to the cylinder's surface, charged
  ones on helices in the solenoid field (``Bz``: 3.8 T CMS, 2 T ATLAS), and deposit where they
  arrive (:func:`hepml_nb.jets.particleflow.calorimeter_entry`);
- charged particles are tracks with the card's efficiency (``*TrackingEfficiency``) and
  log-normal pT smearing (``*MomentumSmearing``, relative resolution capped at 1);
- every particle, tracked or not, deposits the card's ``EnergyFraction`` of its energy in the
  ECAL (photons, electrons) or the HCAL (hadrons; muons and neutrinos deposit nothing); the
  deposits of one tower (the card's eta x phi grid) are summed and smeared log-normally with
  the card's resolution, and the tower is kept above ``EnergyMin`` and
  ``EnergySignificanceMin`` (``SimpleCalorimeter`` ``ECal`` and ``HCal``);
- particle flow as the cards' calorimeters do it (:func:`hepml_nb.jets.particleflow.calorimeter_eflow`):
  the tracks pointing to a tower are subtracted from it; a significant excess is a massless
  neutral candidate (a photon in the ECAL, a neutral hadron, id 130, in the HCAL) at a uniform
  point of the tower (``SmearTowerCenter``), otherwise the tracks are rescaled to the combined
  track-calorimeter energy. Untracked charged hadrons thus become neutral hadrons, and
  calorimeter fluctuations above a track make neutral candidates too (``EFlowMerger``);
- tracks carry transverse and longitudinal impact parameters from the production vertex,
  ``d0 = (x py - y px) / pT`` and ``dz = z - (x px + y py) / pT * pz / pT`` (straight
  lines: the helix curvature over a few mm is negligible at these momenta), smeared with
  Gaussians of the card's resolution, which is stored as ``d0err`` / ``dzerr`` (mm).

Simplifications: K0S and Lambda are decayed by Pythia, so the cards' fractional ECAL/HCAL
sharing for them does not arise; the efficiency and resolution formulas take the momentum's
eta (Delphes takes the calorimeter entry point's, which differs for bent low-pT tracks); no
pile-up. With ``detector="none"`` the particles pass unchanged, tracks with their true
impact parameters and zero errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets.names import DETECTORS
from hepml_nb.jets.particleflow import TowerGrid, calorimeter_eflow, calorimeter_entry, energy_fraction

__all__ = ["DETECTORS", "DetectorSpec", "SPECS", "check_detector", "detector_response", "apply_detector", "tower_grid"]

CARDS_VERSION = "Delphes 3.5.1-16 (commit 0ee14ba7add6)"
#: columns of a particle batch (flat numpy arrays); v* is the production vertex in mm
COLUMNS = ("px", "py", "pz", "e", "pid", "charge", "vx", "vy", "vz")
OUT_COLUMNS = ("px", "py", "pz", "e", "pid", "charge", "d0val", "d0err", "dzval", "dzerr")


@dataclass(frozen=True)
class DetectorSpec:
    """Parameters of one detector, transcribed from its Delphes card (units: GeV, m, mm).

    Efficiencies are tables ``(pt_edges, values[eta_bin, pt_bin])`` in |eta| bins
    ``eff_eta_edges``; pT resolutions ``sigma/pT = sqrt(a^2 + (b pT)^2)`` per |eta| bin
    ``res_eta_edges``; impact-parameter resolutions are (|eta| edges, pT lower edges, mm table).
    Calorimeters: ``(eta_edges, n_phi per eta bin)`` grids and thresholds (``EnergyMin``,
    ``EnergySignificanceMin``).
    """

    card: str
    radius_m: float
    half_length_m: float
    bz_tesla: float
    eff_eta_edges: tuple[float, ...]
    eff: dict  # species -> (pt_edges, table)
    muon_falloff: bool  # CMS: muon efficiency x exp(0.5 - pT 5e-4) above 1 TeV
    res_eta_edges: tuple[float, ...]
    res: dict  # species -> ((a, b) per |eta| bin)
    ip_eta_edges: tuple[float, ...]
    ip_pt_edges: tuple[float, ...]
    d0_table: tuple[tuple[float, ...], ...]
    dz_table: tuple[tuple[float, ...], ...]
    ecal_grid: tuple[tuple[float, ...], tuple[int, ...]]
    hcal_grid: tuple[tuple[float, ...], tuple[int, ...]]
    ecal_thresholds: tuple[float, float]
    hcal_thresholds: tuple[float, float]


def _grid(*groups: tuple[list[float], int]) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """Delphes ``EtaPhiBins``: each eta edge carries the phi binning of the tower that ends at it."""
    nphi: dict[float, int] = {}
    for edges, n in groups:
        for eta in edges:
            nphi[round(eta, 4)] = n
    eta = sorted(nphi)
    return tuple(eta), tuple(nphi[e] for e in eta[1:])


_ECAL_HF = [-5, -4.7, -4.525, -4.35, -4.175, -4, -3.825, -3.65, -3.475, -3.3, -3.125, -2.958]
_ECAL_HF += [3.125, 3.3, 3.475, 3.65, 3.825, 4, 4.175, 4.35, 4.525, 4.7, 5]
#: ECAL of both cards: 0.0174 in eta, 1 degree in phi to |eta| = 3, HF beyond
_ECAL = _grid(
    ([i * 0.0174 for i in range(-85, 87)], 360),
    ([-2.958 + i * 0.0174 for i in range(1, 85)] + [1.4964 + i * 0.0174 for i in range(1, 85)], 360),
    (_ECAL_HF, 36),
)
_CMS_HCAL = _grid(
    ([round(0.087 * i, 3) for i in range(-18, 20)], 72),  # -1.566 .. 1.653, 5 degrees
    (
        [-4.35, -4.175, -4, -3.825, -3.65, -3.475, -3.3, -3.125, -2.95, -2.868, -2.65, -2.5, -2.322, -2.172]
        + [-2.043, -1.93, -1.83, -1.74, -1.653, 1.74, 1.83, 1.93, 2.043, 2.172, 2.322, 2.5, 2.65, 2.868]
        + [2.95, 3.125, 3.3, 3.475, 3.65, 3.825, 4, 4.175, 4.35, 4.525],
        36,
    ),
    ([-5, -4.7, -4.525, 4.7, 5], 18),
)
_ATLAS_HCAL = _grid(
    ([-3.2] + [round(0.1 * i, 1) for i in range(-25, 27)] + [3.3], 36),  # 0.1 x 10 degrees
    ([-4.9, -4.7, -4.5, -4.3, -4.1, -3.9, -3.7, -3.5, -3.3, -3, -2.8, -2.6, 2.8, 3, 3.2, 3.5, 3.7, 3.9, 4.1]
     + [4.3, 4.5, 4.7, 4.9], 18),
)  # fmt: skip

#: tracking efficiencies, |eta| <= 1.5 and 1.5 < |eta| <= 2.5 (zero for pT <= 0.1 GeV and |eta| > 2.5)
_EFF_CMS = {
    "hadron": ((0.1, 1.0, np.inf), ((0.70, 0.95), (0.60, 0.85))),
    "electron": ((0.1, 1.0, 100.0, np.inf), ((0.73, 0.95, 0.99), (0.50, 0.83, 0.90))),
    "muon": ((0.1, 1.0, np.inf), ((0.75, 0.99), (0.70, 0.98))),
}
#: sigma(pT)/pT = sqrt(a^2 + (b pT)^2) in |eta| bins 0-0.5, 0.5-1.5, 1.5-2.5 (both cards)
_RES = {
    "hadron": ((0.06, 1.3e-3), (0.10, 1.7e-3), (0.25, 3.1e-3)),
    "electron": ((0.03, 1.3e-3), (0.05, 1.7e-3), (0.15, 3.1e-3)),
    "muon": ((0.01, 1.0e-4), (0.015, 1.5e-4), (0.025, 3.5e-4)),
}
#: trackResolutionCMS.tcl (from arXiv:1405.6569 fig. 15): pT lower edges; below the first, the first bin
_CMS_IP_PT = (0.0, 0.2227, 0.2720, 0.3323, 0.4060, 0.4959, 0.6058, 0.7401, 0.9041, 1.1044, 1.3492, 1.6481,
              2.0134, 2.4595, 3.0045, 3.6703, 4.4837, 5.4772, 6.6910, 8.1737, 9.9849, 12.1976, 14.9005,
              18.2024, 22.2360, 27.1635, 33.1828, 40.5360, 49.5187, 60.4919, 73.8967, 90.2720, 110.2760,
              134.7130)  # fmt: skip
_CMS_D0 = (
    (0.3543, 0.2809, 0.2304, 0.1917, 0.1737, 0.1434, 0.106, 0.0893, 0.0753, 0.067, 0.0577, 0.0524, 0.0452,
     0.0376, 0.035, 0.0324, 0.0283, 0.0258, 0.0237, 0.0211, 0.0191, 0.0164, 0.015, 0.0143, 0.013, 0.013,
     0.0116, 0.0116, 0.011, 0.011, 0.011, 0.0104, 0.0109, 0.011),
    (0.4564, 0.358, 0.301, 0.2353, 0.2026, 0.1595, 0.1383, 0.1119, 0.0926, 0.0816, 0.0663, 0.0553, 0.0488,
     0.0431, 0.0399, 0.0357, 0.0313, 0.0277, 0.0233, 0.0221, 0.0214, 0.018, 0.0155, 0.0141, 0.0128, 0.0134,
     0.0121, 0.0108, 0.0101, 0.0101, 0.0101, 0.0102, 0.0088, 0.0095),
    (0.697, 0.6046, 0.5315, 0.4306, 0.3398, 0.2788, 0.2387, 0.1814, 0.1557, 0.123, 0.1009, 0.0914, 0.0767,
     0.0638, 0.0544, 0.0468, 0.0425, 0.0385, 0.0331, 0.0278, 0.0256, 0.0236, 0.0217, 0.0196, 0.0176, 0.0165,
     0.0157, 0.015, 0.0144, 0.0144, 0.0137, 0.013, 0.0137, 0.0137),
)  # fmt: skip
_CMS_DZ = (
    (0.3693, 0.3135, 0.3125, 0.2578, 0.2221, 0.1936, 0.1686, 0.1351, 0.1113, 0.0983, 0.0882, 0.0786, 0.0684,
     0.0615, 0.0551, 0.0516, 0.0484, 0.045, 0.0416, 0.0416, 0.0382, 0.035, 0.0317, 0.0316, 0.0316, 0.0316,
     0.0348, 0.0316, 0.0316, 0.0316, 0.0284, 0.0283, 0.0315, 0.0318),
    (0.7062, 0.601, 0.5992, 0.4959, 0.3877, 0.3199, 0.2649, 0.2518, 0.1982, 0.1587, 0.1399, 0.1199, 0.1031,
     0.0967, 0.0805, 0.0736, 0.0707, 0.0603, 0.0609, 0.0541, 0.0511, 0.0443, 0.0409, 0.0408, 0.0409, 0.0377,
     0.0375, 0.0377, 0.0342, 0.0342, 0.0343, 0.0343, 0.0309, 0.031),
    (2.1717, 2.0715, 2.0679, 1.7679, 1.4393, 1.1997, 0.98, 0.8251, 0.6695, 0.5545, 0.4366, 0.3711, 0.3319,
     0.2721, 0.2443, 0.2085, 0.1816, 0.1641, 0.1451, 0.1317, 0.1117, 0.102, 0.1017, 0.0983, 0.0882, 0.0847,
     0.0814, 0.0784, 0.0817, 0.075, 0.0816, 0.082, 0.0814, 0.085),
)  # fmt: skip

SPECS: dict[str, DetectorSpec] = {
    "cms-like": DetectorSpec(
        card="delphes_card_CMS.tcl + trackResolutionCMS.tcl",
        radius_m=1.29,
        half_length_m=3.00,
        bz_tesla=3.8,
        eff_eta_edges=(1.5, 2.5),
        eff=_EFF_CMS,
        muon_falloff=True,
        res_eta_edges=(0.5, 1.5, 2.5),
        res=_RES,
        ip_eta_edges=(0.9, 1.4, 2.5),
        ip_pt_edges=_CMS_IP_PT,
        d0_table=_CMS_D0,
        dz_table=_CMS_DZ,
        ecal_grid=_ECAL,
        hcal_grid=_CMS_HCAL,
        ecal_thresholds=(0.5, 2.0),
        hcal_thresholds=(1.0, 1.0),
    ),
    "atlas-like": DetectorSpec(
        card="delphes_card_ATLAS.tcl + trackResolutionATLAS.tcl",
        radius_m=1.15,
        half_length_m=3.51,
        bz_tesla=2.0,
        eff_eta_edges=(1.5, 2.5),
        eff={**_EFF_CMS, "muon": ((0.1, 1.0, np.inf), ((0.75, 0.99), (0.70, 0.98)))},
        muon_falloff=False,
        res_eta_edges=(0.5, 1.5, 2.5),
        res=_RES,
        ip_eta_edges=(2.5,),
        ip_pt_edges=(0.0, 1.0, 2.0, 4.0, 6.0, 10.0, 30.0),  # trackResolutionATLAS.tcl: first bin 0.5-1 GeV
        d0_table=((0.08, 0.045, 0.028, 0.020, 0.016, 0.014, 0.0115),),
        dz_table=((0.140, 0.096, 0.075, 0.058, 0.055, 0.050, 0.047),),  # DZ pT edges differ: see below
        ecal_grid=_ECAL,
        hcal_grid=_ATLAS_HCAL,
        ecal_thresholds=(0.5, 2.0),
        hcal_thresholds=(1.0, 2.0),
    ),
}


def _cms_ecal_sigma(e, aeta):
    stoch = np.sqrt(e**2 * 0.008**2 + e * 0.11**2 + 0.40**2)  # hep-ex/1306.2016, arXiv:1502.02701
    barrel = (1 + 0.64 * aeta**2) * stoch
    endcap = (2.16 + 5.6 * (aeta - 2) ** 2) * stoch
    return np.where(aeta <= 1.5, barrel, np.where(aeta <= 2.5, endcap, np.sqrt(e**2 * 0.107**2 + e * 2.08**2)))


def _cms_hcal_sigma(e, aeta):
    return np.where(aeta <= 3.0, np.sqrt(e**2 * 0.050**2 + e * 1.50**2), np.sqrt(e**2 * 0.130**2 + e * 2.70**2))


def _atlas_ecal_sigma(e, aeta):
    return np.where(aeta <= 3.2, np.sqrt(e**2 * 0.0017**2 + e * 0.101**2), np.sqrt(e**2 * 0.035**2 + e * 0.285**2))


def _atlas_hcal_sigma(e, aeta):
    central = np.sqrt(e**2 * 0.0302**2 + e * 0.5205**2 + 1.59**2)
    forward = np.where(aeta <= 3.2, np.sqrt(e**2 * 0.05**2 + e * 0.706**2), np.sqrt(e**2 * 0.0942**2 + e * 1.0**2))
    return np.where(aeta <= 1.7, central, forward)


#: calorimeter energy resolutions sigma(E) in GeV, (ECAL, HCAL), from the cards' ResolutionFormula
CALO_RESOLUTION = {"cms-like": (_cms_ecal_sigma, _cms_hcal_sigma), "atlas-like": (_atlas_ecal_sigma, _atlas_hcal_sigma)}
#: trackResolutionATLAS.tcl: DZ has its own pT bins (6-15-30 instead of 6-10-30)
_ATLAS_DZ_PT = (0.0, 1.0, 2.0, 4.0, 6.0, 15.0, 30.0)


def check_detector(detector: str) -> str:
    """Return ``detector`` if it is one of :data:`DETECTORS`, else raise a ParameterError naming them."""
    if detector not in DETECTORS:
        raise ParameterError(f"unknown detector {detector!r}; choose one of: {', '.join(DETECTORS)}")
    return detector


def _lognormal(mean: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Log-normal with the given mean and standard deviation (Delphes' ``LogNormal``)."""
    b = np.sqrt(np.log1p((sigma / np.maximum(mean, 1e-12)) ** 2))
    return np.exp(np.log(np.maximum(mean, 1e-12)) - 0.5 * b**2 + b * rng.standard_normal(mean.shape))


def track_efficiency(spec: DetectorSpec, species: str, pt: np.ndarray, aeta: np.ndarray) -> np.ndarray:
    """Tracking efficiency per particle (card ``*TrackingEfficiency``)."""
    pt_edges, table = spec.eff[species]
    ie = np.searchsorted(np.asarray(spec.eff_eta_edges), aeta, side="left")  # |eta| <= edge: bin below
    ip = np.searchsorted(np.asarray(pt_edges), pt, side="left") - 1  # pt > edge
    ok = (ie < len(spec.eff_eta_edges)) & (ip >= 0)
    eff = np.where(ok, np.asarray(table)[np.minimum(ie, len(table) - 1), np.clip(ip, 0, None)], 0.0)
    if species == "muon" and spec.muon_falloff:
        eff = np.where(pt > 1e3, eff * np.exp(0.5 - pt * 5e-4), eff)
    return eff


def track_resolution(spec: DetectorSpec, species: str, pt: np.ndarray, aeta: np.ndarray) -> np.ndarray:
    """Relative pT resolution sigma(pT)/pT per particle (card ``*MomentumSmearing``), capped at 1."""
    ab = np.asarray(spec.res[species])
    ie = np.minimum(np.searchsorted(np.asarray(spec.res_eta_edges), aeta, side="left"), len(ab) - 1)
    return np.minimum(np.hypot(ab[ie, 0], ab[ie, 1] * pt), 1.0)


def impact_resolution(spec: DetectorSpec, pt: np.ndarray, aeta: np.ndarray, *, dz: bool = False) -> np.ndarray:
    """d0 (or dz) resolution in mm per track (``trackResolution*.tcl``)."""
    table = np.asarray(spec.dz_table if dz else spec.d0_table)
    pt_edges = _ATLAS_DZ_PT if (dz and spec is SPECS["atlas-like"]) else spec.ip_pt_edges
    ie = np.minimum(np.searchsorted(np.asarray(spec.ip_eta_edges), aeta, side="left"), len(table) - 1)
    ip = np.clip(np.searchsorted(np.asarray(pt_edges), pt, side="right") - 1, 0, table.shape[1] - 1)
    return table[ie, ip]


def _impact(c: dict) -> tuple[np.ndarray, np.ndarray]:
    """True (d0, dz) in mm from the production vertex, straight-line extrapolation."""
    pt = np.maximum(np.hypot(c["px"], c["py"]), 1e-12)
    d0 = (c["vx"] * c["py"] - c["vy"] * c["px"]) / pt
    dz = c["vz"] - (c["vx"] * c["px"] + c["vy"] * c["py"]) / pt * c["pz"] / pt
    return d0, dz


def tower_grid(detector: str, calo: int) -> TowerGrid:
    """The ECAL (``calo=0``) or HCAL (``calo=1``) of ``detector``, a :class:`~hepml_nb.jets.particleflow.TowerGrid`."""
    spec = SPECS[check_detector(detector)] if detector != "none" else None
    if spec is None:
        raise ParameterError("detector 'none' has no calorimeter; choose one of: cms-like, atlas-like")
    eta, nphi = spec.ecal_grid if calo == 0 else spec.hcal_grid
    e_min, significance = spec.ecal_thresholds if calo == 0 else spec.hcal_thresholds
    return TowerGrid(np.asarray(eta), np.asarray(nphi), CALO_RESOLUTION[detector][calo], e_min, significance,
                     22 if calo == 0 else 130)  # fmt: skip


def _tracks(c, charged, spec, rng):
    """Tracks of the charged particles: which are found, their smeared momenta, resolution and impact parameters."""
    apid = np.abs(c["pid"])
    pt = np.hypot(c["px"], c["py"])
    aeta = np.abs(np.arcsinh(c["pz"] / np.maximum(pt, 1e-12)))
    species = np.where(apid == 11, 1, np.where(apid == 13, 2, 0))
    eff, res = np.zeros(len(pt)), np.zeros(len(pt))
    for i, name in enumerate(("hadron", "electron", "muon")):
        sel = charged & (species == i)
        eff[sel] = track_efficiency(spec, name, pt[sel], aeta[sel])
        res[sel] = track_resolution(spec, name, pt[sel], aeta[sel])
    tracked = charged & (rng.random(len(pt)) < eff)
    scale = _lognormal(pt[tracked], res[tracked] * pt[tracked], rng) / np.maximum(pt[tracked], 1e-12)
    tr = {k: c[k][tracked] * scale for k in ("px", "py", "pz")}
    tr["m2"] = np.maximum(c["e"][tracked] ** 2 - pt[tracked] ** 2 - c["pz"][tracked] ** 2, 0.0)
    tr["charge"], tr["resolution"] = c["charge"][tracked], res[tracked]
    hadron = species[tracked] == 0  # a charged-hadron candidate is a pion, as in particle flow
    tr["pid"] = np.where(hadron, 211 * np.sign(tr["charge"]), c["pid"][tracked]).astype(np.int32)
    d0, dz = _impact({k: v[tracked] for k, v in c.items()})
    d0err = impact_resolution(spec, pt[tracked], aeta[tracked])
    dzerr = impact_resolution(spec, pt[tracked], aeta[tracked], dz=True)
    tr.update(d0val=rng.normal(d0, d0err), d0err=d0err, dzval=rng.normal(dz, dzerr), dzerr=dzerr)
    return tracked, tr


def _particle_flow(c, event, tracked, tr, detector, spec, rng):
    """ECAL then HCAL with track subtraction: neutral candidates per calorimeter and the tracks' pT scale."""
    entry = calorimeter_entry(c, radius_m=spec.radius_m, half_length_m=spec.half_length_m, bz_tesla=spec.bz_tesla)
    track_scale, neutrals = np.ones(int(tracked.sum())), []
    for calo in (0, 1):
        fraction = energy_fraction(c["pid"], calo)
        dep, on_track = fraction > 0, fraction[tracked] > 0
        deposits = {"energy": (c["e"] * fraction)[dep], "eta": entry[0][dep], "phi": entry[1][dep], "event": event[dep]}
        e_track = np.sqrt(tr["px"] ** 2 + tr["py"] ** 2 + tr["pz"] ** 2 + tr["m2"]) * track_scale * fraction[tracked]
        tracks = {"energy": e_track[on_track], "resolution": tr["resolution"][on_track],
                  "eta": entry[0][tracked][on_track], "phi": entry[1][tracked][on_track],
                  "event": event[tracked][on_track]}  # fmt: skip
        flow = calorimeter_eflow(tower_grid(detector, calo), deposits, tracks, rng=rng)
        track_scale[on_track] *= flow.track_scale
        neutrals.append(flow)
    return neutrals, track_scale


def detector_response(
    columns: dict[str, np.ndarray],
    event: np.ndarray,
    *,
    n_events: int,  # noqa: ARG001 - kept for the callers (see below)
    detector: str,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The detector response on flat particle columns (:data:`COLUMNS`) with their event index.

    Returns particle-flow candidates as flat columns (:data:`OUT_COLUMNS`, impact parameters
    in mm) and their event index, ordered by event (tracks first, then the ECAL's and the HCAL's
    neutral candidates). ``n_events`` is the number of events of the batch (kept for the callers;
    the event index alone locates the particles).
    """
    detector = check_detector(detector)
    c = {k: np.asarray(columns[k]) for k in COLUMNS}
    event = np.asarray(event)
    charged = c["charge"] != 0
    if detector == "none":
        d0, dz = _impact(c)
        out = {k: c[k] for k in ("px", "py", "pz", "e", "pid", "charge")}
        zero = np.zeros(len(event))
        out.update(d0val=np.where(charged, d0, 0.0), d0err=zero, dzval=np.where(charged, dz, 0.0), dzerr=zero)
        return out, event
    spec = SPECS[detector]
    inside = (np.hypot(c["vx"], c["vy"]) <= 1e3 * spec.radius_m) & (np.abs(c["vz"]) <= 1e3 * spec.half_length_m)
    c, event, charged = {k: v[inside] for k, v in c.items()}, event[inside], charged[inside]
    tracked, tr = _tracks(c, charged, spec, rng)
    neutrals, track_scale = _particle_flow(c, event, tracked, tr, detector, spec, rng)
    for k in ("px", "py", "pz"):
        tr[k] = tr[k] * track_scale  # Delphes rescales pT at fixed direction and mass
    tr["e"] = np.sqrt(tr["px"] ** 2 + tr["py"] ** 2 + tr["pz"] ** 2 + tr["m2"])
    parts, events = [tr], [event[tracked]]
    for flow in neutrals:
        zero = np.zeros(len(flow.neutral_event))
        parts.append({**flow.neutral, "charge": zero, "d0val": zero, "d0err": zero, "dzval": zero, "dzerr": zero})
        events.append(flow.neutral_event)
    all_events = np.concatenate(events)
    order = np.argsort(all_events, kind="stable")
    out = {k: np.concatenate([p[k] for p in parts])[order] for k in OUT_COLUMNS}
    return out, all_events[order]


def apply_detector(particles: ak.Array, detector: str, rng: np.random.Generator) -> ak.Array:
    """Particle-flow candidates of a batch of events (jagged records) through ``detector``.

    Parameters
    ----------
    particles
        (n_events, var) records with ``px, py, pz, e`` (GeV), ``pid`` (PDG id), ``charge`` and
        the production vertex ``vx, vy, vz`` (mm).
    detector
        One of :data:`DETECTORS`.
    rng
        Source of the random smearing.

    Returns
    -------
    ak.Array
        (n_events, var) records with ``px, py, pz, e, pid`` (211/-211 charged hadrons, +-11, +-13,
        22 photons and ECAL towers, 130 HCAL towers), ``charge``, ``d0val, d0err, dzval, dzerr`` (mm).

    References
    ----------
    de Favereau et al. (DELPHES 3), arXiv:1307.6346; CMS tracking, arXiv:1405.6569.
    """
    check_detector(detector)
    counts = np.asarray(ak.num(particles))
    flat = ak.flatten(particles)
    columns = {k: np.asarray(flat[k], dtype=np.int32 if k == "pid" else np.float64) for k in COLUMNS}
    event = np.repeat(np.arange(len(counts)), counts)
    out, out_event = detector_response(columns, event, n_events=len(counts), detector=detector, rng=rng)
    return ak.unflatten(ak.zip(out), np.bincount(out_event, minlength=len(counts)))
