"""Delphes' particle flow: where particles reach the calorimeter, and towers with track subtraction.

A transcription of three Delphes modules (Delphes 3.5.1-16, github.com/delphes/delphes, commit
0ee14ba7add6) used by :mod:`hepml_nb.jets.detector`:

- ``ParticlePropagator``: every particle is followed from its production vertex to the surface of
  the tracker cylinder (the card's ``Radius``, ``HalfLength``): neutral particles on straight
  lines, charged ones on helices in the solenoid field ``Bz`` (:func:`calorimeter_entry`). A
  charged particle whose helix never reaches the barrel (a "looper", pT below 0.3 Bz R / 2)
  leaves through an endcap. The calorimeter tower a particle deposits in, and the tower a track
  is matched to, are found from that point, not from the momentum direction.
- ``SimpleCalorimeter`` (the cards' ``ECal`` and ``HCal``): every particle deposits the card's
  ``EnergyFraction`` of its energy (:func:`energy_fraction`) in the tower it reaches, tracked or
  not; a tower's summed energy is smeared log-normally with the card's resolution, its
  resolution re-evaluated at the smeared energy, and it is zeroed below ``EnergyMin`` or
  ``EnergySignificanceMin`` x sigma. The tracks of particles that deposit in the calorimeter
  are subtracted (:func:`calorimeter_eflow`): the excess ``E_tower - sum E_track`` becomes a
  neutral E-flow candidate (a photon in the ECAL, a neutral hadron in the HCAL) when it is above
  ``EnergyMin`` and more significant than ``EnergySignificanceMin`` against
  ``sqrt(sigma_calo^2 + sum (sigma_pT/pT x E_track)^2)``; otherwise the tower's tracks are
  rescaled to the inverse-variance combination of the track and calorimeter energies.
- ``EFlowMerger``: the E-flow candidates are the tracks (rescaled or not), the ECAL's neutral
  excesses and the HCAL's.

So calorimeter fluctuations around charged hadrons make neutral candidates too, as in Delphes.
Units: GeV, mm for vertices, m and T for the detector.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np

__all__ = ["C_LIGHT_GEV", "TowerGrid", "EFlowTowers", "calorimeter_entry", "energy_fraction", "calorimeter_eflow"]

#: p_T [GeV] = C_LIGHT_GEV x |q| x B [T] x r [m] for a helix of radius r
C_LIGHT_GEV = 0.299792458
#: the cards' EnergyFraction entries other than the default, |PDG id| -> (ECAL, HCAL); the default is
#: (0, 1): hadrons deposit in the HCAL; neutrinos and muons deposit nothing
_FRACTIONS = {11: (1.0, 0.0), 22: (1.0, 0.0), 111: (1.0, 0.0), 12: (0.0, 0.0), 13: (0.0, 0.0), 14: (0.0, 0.0),
              16: (0.0, 0.0), 310: (0.3, 0.7), 3122: (0.3, 0.7)}  # fmt: skip
#: a tower key packs (event, eta bin, phi bin); 360 is the finest phi binning of the cards
_PHI_SLOTS = 360


class TowerGrid(NamedTuple):
    """One calorimeter: the card's ``EtaPhiBins`` (eta edges, phi bins per eta bin), its resolution
    ``sigma(E, |eta|)`` in GeV, ``EnergyMin``, ``EnergySignificanceMin``, and the PDG id of its neutral
    E-flow candidates (22 for the ECAL, 130 for the HCAL)."""

    eta_edges: np.ndarray
    n_phi: np.ndarray
    sigma: Callable[[np.ndarray, np.ndarray], np.ndarray]
    energy_min: float
    significance_min: float
    neutral_pid: int


class EFlowTowers(NamedTuple):
    """What one calorimeter gives the particle flow: neutral candidates (``px, py, pz, e`` in GeV, massless,
    at a uniform point inside their tower) with their event index, and a pT scale factor per track."""

    neutral: dict[str, np.ndarray]
    neutral_event: np.ndarray
    track_scale: np.ndarray


def energy_fraction(pid: np.ndarray, calo: int) -> np.ndarray:
    """Fraction of a particle's energy in the ECAL (``calo=0``) or HCAL (``calo=1``): the cards' ``EnergyFraction``."""
    apid = np.abs(np.asarray(pid))
    out = np.full(apid.shape, 0.0 if calo == 0 else 1.0)
    for code, fractions in _FRACTIONS.items():
        out[apid == code] = fractions[calo]
    return out


def _straight(x, y, z, px, py, pz, radius, half_length):
    """Points where straight lines from (x, y, z) along p leave the cylinder (ParticlePropagator, neutral case)."""
    pt2 = np.maximum(px**2 + py**2, 1e-18)
    tmp = px * y - py * x
    t_r = (np.sqrt(np.maximum(pt2 * radius**2 - tmp**2, 0.0)) - px * x - py * y) / pt2
    with np.errstate(divide="ignore", invalid="ignore"):
        t_z = np.where(pz != 0, (np.copysign(half_length, pz) - z) / pz, np.inf)
    t = np.minimum(t_r, t_z)
    return x + px * t, y + py * t, z + pz * t


def _helix(x, y, z, px, py, pz, q, bz, radius, half_length):
    """Points where helices leave the cylinder (ParticlePropagator, charged case), in terms of the turning
    angle ``u = omega t`` (the sign of the charge; the momentum's azimuth at ``u`` is ``phi_0 - u``)."""
    pt = np.maximum(np.hypot(px, py), 1e-9)
    r = pt / (C_LIGHT_GEV * q * bz)  # signed helix radius [m]
    phi0 = np.arctan2(py, px)
    xc, yc = x + r * np.sin(phi0), y - r * np.cos(phi0)
    rc = np.hypot(xc, yc)
    ud = phi0 + np.arctan2(xc, yc)  # omega x (time of closest approach), modulo pi
    ud = ud - np.pi * np.round(ud / np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        uz = np.where(pz != 0, (np.copysign(half_length, pz) - z) * pt / (pz * r), np.sign(q) * np.inf)
        cos_alpha = (r**2 + rc**2 - radius**2) / (2 * np.abs(r) * np.maximum(rc, 1e-12))
    ur = ud + np.sign(q) * np.arccos(np.clip(cos_alpha, -1.0, 1.0))
    barrel = (rc + np.abs(r) >= radius) & ((ur - uz) * np.sign(q) < 0)  # t_r < t_z
    u = np.where(barrel, ur, uz)
    phit = phi0 - u
    return xc - r * np.sin(phit), yc + r * np.cos(phit), z + u * r * pz / pt


def calorimeter_entry(
    columns: Mapping[str, np.ndarray], *, radius_m: float, half_length_m: float, bz_tesla: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pseudorapidity and azimuth of the point where each particle reaches the calorimeter.

    Parameters
    ----------
    columns
        Flat arrays ``px, py, pz`` (GeV), ``charge`` (e) and the production vertex ``vx, vy, vz`` (mm).
    radius_m, half_length_m, bz_tesla
        The tracker cylinder and the solenoid field of the card's ``ParticlePropagator``.

    Returns
    -------
    (eta, phi)
        Of the exit point as seen from the origin; for a neutral particle from the origin these are
        its momentum's, a positive particle in a field along +z turns to smaller phi.
    """
    x, y, z = (np.asarray(columns[k], dtype=float) * 1e-3 for k in ("vx", "vy", "vz"))
    px, py, pz = (np.asarray(columns[k], dtype=float) for k in ("px", "py", "pz"))
    q = np.asarray(columns["charge"], dtype=float)
    xt, yt, zt = _straight(x, y, z, px, py, pz, radius_m, half_length_m)
    charged = (q != 0) & (bz_tesla != 0)
    if charged.any():
        sel = [a[charged] for a in (x, y, z, px, py, pz, q)]
        hx, hy, hz = _helix(*sel, bz_tesla, radius_m, half_length_m)
        xt, yt, zt = (np.where(charged, 0.0, a) for a in (xt, yt, zt))
        xt[charged], yt[charged], zt[charged] = hx, hy, hz
    return np.arcsinh(zt / np.maximum(np.hypot(xt, yt), 1e-12)), np.arctan2(yt, xt)


def _tower_keys(grid: TowerGrid, eta: np.ndarray, phi: np.ndarray, event: np.ndarray):
    """Key of the tower of each point (Delphes' ``lower_bound``: bins are (low, high]) and whether it is inside."""
    ieta = np.searchsorted(grid.eta_edges, eta, side="left") - 1
    inside = (ieta >= 0) & (ieta < len(grid.n_phi))
    ieta = np.clip(ieta, 0, len(grid.n_phi) - 1)
    n = grid.n_phi[ieta]
    iphi = np.clip(np.ceil((phi + np.pi) / (2 * np.pi) * n).astype(np.int64) - 1, 0, n - 1)
    return (np.asarray(event, dtype=np.int64) * len(grid.n_phi) + ieta) * _PHI_SLOTS + iphi, inside


def _tower_energy(grid: TowerGrid, deposit: np.ndarray, center_aeta: np.ndarray, rng: np.random.Generator):
    """Smeared tower energies (zero below the thresholds) and the resolution at the smeared energy."""
    sigma = grid.sigma(deposit, center_aeta)
    b = np.sqrt(np.log1p((sigma / np.maximum(deposit, 1e-12)) ** 2))
    draw = rng.standard_normal(len(deposit))
    energy = np.where(deposit > 0, np.exp(np.log(np.maximum(deposit, 1e-12)) - 0.5 * b**2 + b * draw), 0.0)
    sigma = grid.sigma(energy, center_aeta)
    return np.where((energy < grid.energy_min) | (energy < grid.significance_min * sigma), 0.0, energy), sigma


def calorimeter_eflow(
    grid: TowerGrid,
    deposits: Mapping[str, np.ndarray],
    tracks: Mapping[str, np.ndarray],
    *,
    rng: np.random.Generator,
) -> EFlowTowers:
    """One calorimeter's towers and their particle flow (Delphes ``SimpleCalorimeter``).

    Parameters
    ----------
    grid
        The calorimeter (:class:`TowerGrid`).
    deposits
        ``energy`` (GeV, already times :func:`energy_fraction`), ``eta``, ``phi`` (of the calorimeter
        entry point) and ``event`` of every particle depositing here, tracked or not.
    tracks
        ``energy`` (GeV, of the measured track, times its energy fraction here), ``resolution``
        (sigma_pT / pT), ``eta``, ``phi`` (entry point) and ``event`` of the tracks whose particles
        deposit here; the other tracks pass through the calorimeter unchanged.
    rng
        Source of the smearing and of the candidates' positions inside their towers.

    Returns
    -------
    EFlowTowers
        Neutral candidates (the significant excesses) and the pT scale factor of each track (1 where its
        tower has a significant excess, the combined estimate over the track energy otherwise).
    """
    d_key, d_in = _tower_keys(grid, deposits["eta"], deposits["phi"], deposits["event"])
    t_key, t_in = _tower_keys(grid, tracks["eta"], tracks["phi"], tracks["event"])
    keys, inverse = np.unique(np.concatenate([d_key[d_in], t_key[t_in]]), return_inverse=True)
    d_of, t_of = inverse[: int(d_in.sum())], inverse[int(d_in.sum()) :]
    n = len(keys)
    deposit = np.bincount(d_of, weights=np.asarray(deposits["energy"])[d_in], minlength=n)
    e_track = np.bincount(t_of, weights=np.asarray(tracks["energy"])[t_in], minlength=n)
    var_track = np.bincount(t_of, weights=(np.asarray(tracks["resolution"]) * tracks["energy"])[t_in] ** 2, minlength=n)
    event, rest = np.divmod(keys, len(grid.n_phi) * _PHI_SLOTS)
    ieta, iphi = np.divmod(rest, _PHI_SLOTS)
    lo, hi = grid.eta_edges[ieta], grid.eta_edges[ieta + 1]
    energy, sigma = _tower_energy(grid, deposit, np.abs(0.5 * (lo + hi)), rng)
    neutral = np.maximum(energy - e_track, 0.0)
    make = (neutral > grid.energy_min) & (neutral / np.sqrt(var_track + sigma**2) > grid.significance_min)
    with np.errstate(divide="ignore", invalid="ignore"):
        w_track, w_calo = np.where(var_track > 0, 1 / var_track, 0.0), np.where(sigma > 0, 1 / sigma**2, 0.0)
        best = (w_track * e_track + w_calo * energy) / (w_track + w_calo)
        scale = np.where(make | (e_track <= 0), 1.0, best / e_track)
    track_scale = np.ones(len(t_key))
    track_scale[t_in] = scale[t_of]
    eta = lo[make] + (hi[make] - lo[make]) * rng.random(int(make.sum()))  # SmearTowerCenter
    phi = -np.pi + 2 * np.pi * (iphi[make] + rng.random(int(make.sum()))) / grid.n_phi[ieta[make]]
    e = neutral[make]
    pt = e / np.cosh(eta)
    out = {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "e": e}
    out["pid"] = np.full(len(e), grid.neutral_pid, dtype=np.int32)
    return EFlowTowers(out, event[make], track_scale)
