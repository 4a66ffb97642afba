"""Per-particle ParticleNet inputs and 16 jet-level (high-level) features.

Particle inputs follow Table 1 of the ParticleNet paper (Qu & Gouskos,
arXiv:1902.08570): delta-eta, delta-phi, log pT, log E, log pT/pT_jet, log E/E_jet,
delta-R, plus charge and particle-type flags where the file has them. The log
features are shifted and scaled by the fixed constants of the public ParticleNet
top-tagging configuration, so that inputs are of order one.
"""

from __future__ import annotations

from collections.abc import Mapping

import awkward as ak
import numpy as np

from hepml_nb.core.errors import DataError

__all__ = [
    "KINEMATIC_FEATURES",
    "TYPE_FEATURES",
    "HIGH_LEVEL_FEATURES",
    "particle_kinematics",
    "padded_particles",
    "energy_correlation_ratios",
    "high_level_features",
]

KINEMATIC_FEATURES = ("deta", "dphi", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "delta_r")
TYPE_FEATURES = ("charge", "isChargedHadron", "isNeutralHadron", "isPhoton", "isElectron", "isMuon")
#: (shift, scale) applied as (x - shift) * scale, from the public ParticleNet top-tagging config
_STANDARDISE = {
    "log_pt": (1.7, 0.7),
    "log_e": (2.0, 0.7),
    "log_pt_rel": (-4.7, 0.7),
    "log_e_rel": (-4.7, 0.7),
    "delta_r": (0.2, 4.0),
}

#: the 16 jet-level features, in column order of :func:`high_level_features`
HIGH_LEVEL_FEATURES: tuple[str, ...] = (
    "mass",
    "sd_mass",
    "tau1",
    "tau21",
    "tau32",
    "tau43",
    "n_particles",
    "n_charged",
    "c2_b1",
    "d2_b1",
    "c2_b2",
    "d2_b2",
    "pt_d",
    "girth",
    "zlogz",
    "lead_pt_frac",
)


def particle_kinematics(pt, energy, deta, dphi, jet_pt, jet_energy) -> dict[str, np.ndarray]:
    """The seven kinematic ParticleNet inputs, unstandardised.

    Parameters
    ----------
    pt, energy
        Particle transverse momentum and energy in GeV, shape (..., n_particles).
    deta, dphi
        Particle pseudorapidity and azimuth relative to the jet axis, same shape.
    jet_pt, jet_energy
        Jet pT and energy in GeV, shape (..., 1) (broadcast against the particles).

    Returns
    -------
    dict
        ``deta, dphi, log_pt, log_e, log_pt_rel, log_e_rel, delta_r`` (natural logs).
    """
    with np.errstate(divide="ignore"):
        return {
            "deta": deta,
            "dphi": dphi,
            "log_pt": np.log(pt),
            "log_e": np.log(energy),
            "log_pt_rel": np.log(pt / jet_pt),
            "log_e_rel": np.log(energy / jet_energy),
            "delta_r": np.hypot(deta, dphi),
        }


def _pad(array: ak.Array, width: int) -> np.ndarray:
    return ak.to_numpy(ak.fill_none(ak.pad_none(array, width, axis=1, clip=True), 0.0)).astype(np.float64)


def padded_particles(particles: ak.Array, jets: Mapping[str, np.ndarray], *, max_particles: int = 100) -> dict:
    """Dense, zero-padded ParticleNet inputs from jagged particles (highest pT kept first).

    Returns
    -------
    dict
        ``points`` (N, P, 2), ``features`` (N, P, F) float32, ``feature_names``,
        ``mask`` (N, P) bool and ``four_vectors`` (N, P, 4) float64 in GeV.
    """
    pt_jagged = np.hypot(particles.px, particles.py)
    particles = particles[ak.argsort(pt_jagged, axis=1, ascending=False)]
    cols = {f: _pad(particles[f], max_particles) for f in particles.fields}
    mask = _pad(ak.ones_like(particles.px), max_particles) > 0
    pt = np.hypot(cols["px"], cols["py"])
    kin = particle_kinematics(
        np.where(mask, pt, 1.0),
        np.where(mask, cols["energy"], 1.0),
        cols["deta"],
        cols["dphi"],
        jets["pt"][:, None],
        jets["energy"][:, None],
    )
    for name, (shift, scale) in _STANDARDISE.items():
        kin[name] = (kin[name] - shift) * scale
    names = [*KINEMATIC_FEATURES, *(f for f in TYPE_FEATURES if f in cols)]
    features = np.stack([kin[n] if n in kin else cols[n] for n in names], axis=-1)
    features = np.where(mask[..., None], features, 0.0).astype(np.float32)
    four = np.stack([cols["px"], cols["py"], cols["pz"], cols["energy"]], axis=-1)
    points = np.stack([cols["deta"], cols["dphi"]], axis=-1) * mask[..., None]
    return {
        "points": points.astype(np.float32),
        "features": features,
        "feature_names": tuple(names),
        "mask": mask,
        "four_vectors": four,
    }


def energy_correlation_ratios(
    z: np.ndarray, deta: np.ndarray, dphi: np.ndarray, *, beta: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """C2 and D2 energy-correlation ratios per jet.

    ``e2 = sum_{i<j} z_i z_j R_ij^beta``, ``e3 = sum_{i<j<k} z_i z_j z_k (R_ij R_ik R_jk)^beta``,
    ``C2 = e3 / e2^2``, ``D2 = e3 / e2^3``, with ``z_i = pT_i / sum pT`` (zero for padding).

    Parameters
    ----------
    z, deta, dphi
        (n_jets, n_particles) momentum fractions and angles relative to the jet axis
        (already wrapped, so pairwise azimuth differences need no wrapping).

    References
    ----------
    Larkoski, Salam, Thaler, arXiv:1305.0007 (C2); Larkoski, Moult, Neill, arXiv:1409.6298 (D2).
    """
    r2 = (deta[:, :, None] - deta[:, None, :]) ** 2 + (dphi[:, :, None] - dphi[:, None, :]) ** 2
    a = r2 if beta == 2.0 else r2 ** (0.5 * beta)
    weights = z[:, :, None] * z[:, None, :] * a  # z_i z_j R_ij^beta
    middle = np.matmul(a * z[:, None, :], a)  # sum_k R_ik^beta z_k R_kj^beta
    e2 = 0.5 * weights.sum(axis=(1, 2))
    e3 = (weights * middle).sum(axis=(1, 2)) / 6.0
    e2 = np.maximum(e2, 1e-12)
    return e3 / e2**2, e3 / e2**3


def _needed(jets: Mapping[str, np.ndarray], names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in jets]
    if missing:
        raise DataError(
            f"high-level features need the jet branches {', '.join('jet_' + m for m in missing)}, "
            "which the file lacks; JetClass files and generate_jets() files have them"
        )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def high_level_features(jets, *, batch_size: int = 256) -> np.ndarray:
    """The 16 :data:`HIGH_LEVEL_FEATURES` per jet, as a (n_jets, 16) float64 array.

    Masses in GeV; the rest is dimensionless. Constituent sums use the (at most
    ``max_particles``) padded particles of the :class:`~hepml_nb.jets.io.JetData`.

    Parameters
    ----------
    jets
        A :class:`~hepml_nb.jets.io.JetData` with ``jets['sdmass']``, ``jets['tau1..4']``
        and a ``charge`` particle feature.
    """
    info = jets.jets
    _needed(info, ("pt", "eta", "energy", "sdmass", "tau1", "tau2", "tau3", "tau4"))
    if "charge" not in jets.feature_names:
        raise DataError("high-level features need the particle branch part_charge, which the file lacks")
    mass = np.sqrt(np.maximum(info["energy"] ** 2 - (info["pt"] * np.cosh(info["eta"])) ** 2, 0.0))
    mask = jets.mask
    pt = np.hypot(jets.four_vectors[..., 0], jets.four_vectors[..., 1]) * mask
    z = pt / np.maximum(pt.sum(axis=1, keepdims=True), 1e-12)
    deta, dphi = jets.points[..., 0].astype(float), jets.points[..., 1].astype(float)
    ecf = np.zeros((len(z), 4))
    counts = mask.sum(axis=1)
    order = np.argsort(counts, kind="stable")  # similar multiplicities together: pad only to their maximum
    for start in range(0, len(z), batch_size):
        sl = order[start : start + batch_size]
        width = max(int(counts[sl].max()), 1)
        args = (z[sl, :width], deta[sl, :width], dphi[sl, :width])
        ecf[sl, :2] = np.stack(energy_correlation_ratios(*args, beta=1.0), axis=1)
        ecf[sl, 2:] = np.stack(energy_correlation_ratios(*args, beta=2.0), axis=1)
    charge = jets.features[..., jets.feature_names.index("charge")]
    with np.errstate(divide="ignore", invalid="ignore"):
        zlogz = np.where(z > 0, z * np.log(np.where(z > 0, z, 1.0)), 0.0).sum(axis=1)
    columns = [
        mass,
        info["sdmass"],
        info["tau1"],
        _ratio(info["tau2"], info["tau1"]),
        _ratio(info["tau3"], info["tau2"]),
        _ratio(info["tau4"], info["tau3"]),
        info.get("nparticles", mask.sum(axis=1)).astype(float),
        ((charge != 0) & mask).sum(axis=1).astype(float),
        ecf[:, 0],
        ecf[:, 1],
        ecf[:, 2],
        ecf[:, 3],
        np.sqrt((z**2).sum(axis=1)),
        (z * np.hypot(deta, dphi)).sum(axis=1),
        zlogz,
        z.max(axis=1),
    ]
    return np.stack(columns, axis=1)
