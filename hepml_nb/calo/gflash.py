"""Reference electromagnetic showers from the Grindhammer-Peters (GFlash) parametrisation.

Per shower, the depth of the maximum ``T`` and the shape ``alpha`` of the gamma-function
longitudinal profile are drawn with correlated log-normal fluctuations; the energy is
split into spots whose depths follow the spot profile and whose radii follow the
two-component (core + tail) radial profile at that depth; each spot's energy carries
a sampling fluctuation so that the total follows a stochastic term ``a / sqrt(E)``.
Everything is vectorised over showers and spots with numpy.

References: G. Grindhammer, M. Rudowicz, S. Peters, NIM A290 (1990) 469;
G. Grindhammer, S. Peters, arXiv:hep-ex/0001020.
"""

from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

from hepml_nb.calo.data import ShowerSet, check_energy_range, sample_incident_energies
from hepml_nb.calo.geometry import Geometry, Material, get_geometry, locate
from hepml_nb.calo.names import Spectrum
from hepml_nb.core.cache import cached_arrays
from hepml_nb.core.errors import ParameterError

__all__ = [
    "GENERATOR_VERSION",
    "profile_parameters",
    "simulate_showers",
    "reference_showers",
    "PARTICLES",
]

# gflash-2: CaloGAN depths from the Geant4 boundaries, the challenge's dataset-2 radii, overflow per layer
GENERATOR_VERSION = "gflash-2"
PARTICLES = ("electron", "photon")


def profile_parameters(
    e_gev: np.ndarray, material: Material, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Fluctuated longitudinal profile ``(T, alpha)`` per shower (Grindhammer-Peters).

    Parameters
    ----------
    e_gev : array (N,)
        Incident energies [GeV].
    material : Material
        Absorber (its ``z`` and critical energy).
    rng : numpy.random.Generator

    Returns
    -------
    T, alpha : arrays (N,)
        Depth of the maximum [X0] and shape parameter of the gamma profile.
    """
    ln_y = np.log(np.asarray(e_gev, dtype=float) * 1000.0 / material.ec_mev)
    mean_ln_t = np.log(ln_y - 0.812)
    sig_ln_t = 1.0 / (-1.4 + 1.26 * ln_y)
    mean_ln_a = np.log(0.81 + (0.458 + 2.26 / material.z) * ln_y)
    sig_ln_a = 1.0 / (-0.58 + 0.86 * ln_y)
    rho = 0.705 - 0.023 * ln_y
    z1, z2 = rng.standard_normal((2, ln_y.size))
    a, b = np.sqrt((1 + rho) / 2), np.sqrt((1 - rho) / 2)
    big_t = np.exp(mean_ln_t + sig_ln_t * (a * z1 + b * z2))
    alpha = np.exp(mean_ln_a + sig_ln_a * (a * z1 - b * z2))
    return big_t, np.maximum(alpha, 1.05)


def _radial_radius(tau: np.ndarray, ln_e: np.ndarray, z: float, rng: np.random.Generator) -> np.ndarray:
    """Radius [Moliere radii] of each spot from the core + tail radial profile at ``tau = t/T``."""
    rc = (0.0251 + 0.00319 * ln_e) + (0.1162 - 0.000381 * z) * tau
    k1, k2, k3, k4 = 0.659 - 0.00309 * z, 0.645, -2.59, 0.3585 + 0.0412 * ln_e
    rt = k1 * (np.exp(k3 * (tau - k2)) + np.exp(k4 * (tau - k2)))
    p1, p2, p3 = 2.632 - 0.00094 * z, 0.401 + 0.00187 * z, 1.313 - 0.0686 * ln_e
    arg = (p2 - tau) / p3
    p = np.clip(p1 * np.exp(arg - np.exp(arg)), 0.0, 1.0)
    radius = np.where(rng.random(tau.size) < p, rc, rt)
    u = rng.uniform(0.0, 0.999, tau.size)
    return radius * np.sqrt(u / (1.0 - u))


def _check_options(particle: str, spectrum: str, e_min: float, e_max: float, n: int) -> None:
    if particle not in PARTICLES:
        raise ParameterError(f"unknown particle {particle!r}; choose one of: {', '.join(PARTICLES)}")
    check_energy_range(spectrum, e_min, e_max, n)


def _spot_counts(e_gev: np.ndarray, material: Material, spot_scale: float) -> np.ndarray:
    """Spots per shower: ``spot_scale * 93 ln(Z) E^0.876`` (at least 4)."""
    full = 93.0 * np.log(material.z) * np.asarray(e_gev) ** 0.876
    return np.maximum(np.ceil(spot_scale * full), 4).astype(np.int64)


def _simulate_chunk(
    e_gev: np.ndarray,
    geo: Geometry,
    rng: np.random.Generator,
    *,
    particle: str,
    spot_scale: float,
    stochastic: float,
    sampling_fraction: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Cell energies [MeV] (len(e_gev), n_cells) and overflow [MeV] (len(e_gev), n_layers) of one chunk."""
    mat, n = geo.material, e_gev.size
    big_t, alpha = profile_parameters(e_gev, mat, rng)
    counts = _spot_counts(e_gev, mat, spot_scale)
    owner = np.repeat(np.arange(n), counts)
    a_spot = np.maximum(alpha * (0.639 + 0.00334 * mat.z), 1.05)
    t_spot = big_t * (0.698 + 0.00212 * mat.z)
    beta = (a_spot - 1.0) / t_spot
    depth = rng.gamma(a_spot[owner]) / beta[owner]
    if particle == "photon":
        depth = depth + rng.exponential(9.0 / 7.0, n)[owner]
    radius = _radial_radius(depth / big_t[owner], np.log(e_gev)[owner], mat.z, rng) * mat.rm_mm
    phi = rng.uniform(0.0, 2 * np.pi, owner.size)
    # sampling fluctuation per spot: relative spread a*sqrt(N/E) gives a/sqrt(E) on the sum
    shape = 1.0 / (stochastic**2 * counts / e_gev)
    weight = rng.gamma(shape[owner], 1.0 / shape[owner])
    energy = (sampling_fraction * 1000.0 * e_gev / counts)[owner] * weight
    layer, cell = locate(geo, depth, radius * np.cos(phi), radius * np.sin(phi))
    keep = cell >= 0
    flat = owner[keep] * geo.n_cells + cell[keep]
    out = np.bincount(flat, weights=energy[keep], minlength=n * geo.n_cells)
    lost = (layer >= 0) & ~keep  # inside a layer's depth, outside its cells
    flat = owner[lost] * geo.n_layers + layer[lost]
    overflow = np.bincount(flat, weights=energy[lost], minlength=n * geo.n_layers)
    return out.reshape(n, geo.n_cells).astype(np.float32), overflow.reshape(n, geo.n_layers).astype(np.float32)


def _check_simulable(geo: Geometry) -> None:
    if not geo.simulable:
        raise ParameterError(
            f"GFlash cannot simulate into geometry {geo.name!r}: it has no depth model (layer_edges_x0 is None; "
            f"the ATLAS layers of CaloChallenge dataset 1 are not modelled). Choose calogan, dataset2 or dataset3; "
            f"files of {geo.name!r} can still be read and analysed"
        )


def simulate_showers(
    e_inc: np.ndarray,
    *,
    geometry: str | Geometry = "calogan",
    particle: str = "electron",
    spot_scale: float = 0.05,
    stochastic: float = 0.1,
    sampling_fraction: float = 1.0,
    seed: int | np.random.Generator = 0,
    chunk: int = 2000,
    progress: bool = True,
) -> ShowerSet:
    """Simulate GFlash showers for the given incident energies.

    Parameters
    ----------
    e_inc : array (N,)
        Incident energies [GeV], each >= 0.1.
    geometry : str or Geometry
        ``calogan`` (504 cells), ``dataset2`` (6480 voxels) or ``dataset3`` (40500 voxels); the
        dataset-1 layouts have no depth model (ParameterError).
    particle : str
        ``electron`` or ``photon`` (photons convert after an exponential depth, mean 9/7 X0).
    spot_scale : float
        Fraction of the Grindhammer-Peters spot count kept (speed); the energy per spot
        grows accordingly.
    stochastic : float
        Sampling term ``a`` of the resolution ``a / sqrt(E/GeV)``.
    sampling_fraction : float
        Visible fraction of the deposited energy.
    seed, chunk, progress
        Random seed or generator; showers per vectorised chunk; show a tqdm bar.

    Returns
    -------
    ShowerSet
        Cell energies [MeV] per shower, and the per-layer ``overflow`` [MeV].
    """
    e_inc = np.asarray(e_inc, dtype=float).ravel()
    _check_options(particle, "uniform", float(e_inc.min(initial=1.0)), float(e_inc.max(initial=1.0)), e_inc.size)
    if not (spot_scale > 0 and stochastic > 0 and sampling_fraction > 0):
        raise ParameterError(
            f"spot_scale={spot_scale}, stochastic={stochastic}, sampling_fraction={sampling_fraction}: "
            "all three must be positive"
        )
    geo, rng = get_geometry(geometry), np.random.default_rng(seed)
    _check_simulable(geo)
    parts = []
    for start in tqdm(range(0, e_inc.size, chunk), desc="GFlash showers", disable=not progress, leave=False):
        parts.append(
            _simulate_chunk(
                e_inc[start : start + chunk],
                geo,
                rng,
                particle=particle,
                spot_scale=spot_scale,
                stochastic=stochastic,
                sampling_fraction=sampling_fraction,
            )
        )
    cells, overflow = (np.concatenate(p) for p in zip(*parts, strict=True))
    return ShowerSet(e_inc, cells, geo.name, overflow)


def reference_showers(
    n: int,
    *,
    geometry: str = "calogan",
    e_min: float = 1.0,
    e_max: float = 100.0,
    spectrum: Spectrum = "uniform",
    particle: str = "electron",
    spot_scale: float = 0.05,
    stochastic: float = 0.1,
    seed: int = 0,
    progress: bool = True,
) -> tuple[ShowerSet, float]:
    """Cached GFlash sample of ``n`` showers and the simulation speed [showers/s].

    The speed is measured when the sample is built and stored with it, so a cache hit
    reports the speed of the run that made it. Options as :func:`simulate_showers`.
    """
    _check_options(particle, spectrum, e_min, e_max, n)
    _check_simulable(get_geometry(geometry))
    params = dict(
        n=int(n),
        geometry=geometry,
        e_min=e_min,
        e_max=e_max,
        spectrum=spectrum,
        particle=particle,
        spot_scale=spot_scale,
        stochastic=stochastic,
        seed=seed,
    )

    def build() -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        e_inc = sample_incident_energies(n, e_min=e_min, e_max=e_max, spectrum=spectrum, seed=rng)
        start = time.perf_counter()
        showers = simulate_showers(
            e_inc,
            geometry=geometry,
            particle=particle,
            spot_scale=spot_scale,
            stochastic=stochastic,
            seed=rng,
            progress=progress,
        )
        rate = n / max(time.perf_counter() - start, 1e-9)
        return {"e_inc": showers.e_inc, "cells": showers.cells, "overflow": showers.overflow, "rate": np.array(rate)}

    data = cached_arrays("calo_showers", params, GENERATOR_VERSION, build)
    return ShowerSet(data["e_inc"], data["cells"], geometry, data["overflow"]), float(data["rate"])
