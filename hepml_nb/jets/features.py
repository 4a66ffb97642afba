"""Per-particle inputs in JetClass's feature sets and 16 jet-level (high-level) features.

The particle inputs are those of the Particle Transformer's JetClass configurations
(Qu, Li, Qian, arXiv:2202.03772; github.com/jet-universe/particle_transformer,
``data/JetClass/JetClass_{kin,kinpid,full}.yaml``), with their names, column order and
standardisation: ``(x - shift) * scale`` clipped to ``[clip_min, clip_max]`` (weaver's
default clip is [-5, 5]), the others unchanged. ``kin`` (7 inputs) is also ParticleNet's
input list (Qu & Gouskos, arXiv:1902.08570, Table 1), ``kinpid`` (13) adds the charge and the
particle-type flags, ``full`` (17) adds the track impact parameters ``tanh(d0)``, ``d0err``,
``tanh(dz)``, ``dzerr`` (mm) of the full ParT model.
"""

from __future__ import annotations

from collections.abc import Mapping

import awkward as ak
import numpy as np

from hepml_nb.core.errors import DataError
from hepml_nb.jets.names import FEATURE_SET_NAMES

__all__ = [
    "FEATURE_SETS",
    "HIGH_LEVEL_FEATURES",
    "feature_set_branches",
    "particle_kinematics",
    "padded_particles",
    "energy_correlation_ratios",
    "high_level_features",
]

_KIN = ("pt_log", "e_log", "logptrel", "logerel", "deltaR")
_PID = ("charge", "isChargedHadron", "isNeutralHadron", "isPhoton", "isElectron", "isMuon")
_TRACK = ("d0", "d0err", "dz", "dzerr")
#: JetClass's particle input sets, in the column order of its yaml configurations
FEATURE_SETS: dict[str, tuple[str, ...]] = dict(
    zip(
        FEATURE_SET_NAMES,  # kin, kinpid, full
        ((*_KIN, "deta", "dphi"), (*_KIN, *_PID, "deta", "dphi"), (*_KIN, *_PID, *_TRACK, "deta", "dphi")),
        strict=True,
    )
)
#: (shift, scale, clip_min, clip_max) of the standardised inputs, from the JetClass yaml files
_STANDARDISE = {
    "pt_log": (1.7, 0.7, -5.0, 5.0),
    "e_log": (2.0, 0.7, -5.0, 5.0),
    "logptrel": (-4.7, 0.7, -5.0, 5.0),
    "logerel": (-4.7, 0.7, -5.0, 5.0),
    "deltaR": (0.2, 4.0, -5.0, 5.0),
    "d0err": (0.0, 1.0, 0.0, 1.0),
    "dzerr": (0.0, 1.0, 0.0, 1.0),
}
#: the file branch each non-kinematic input is made from
_BRANCH = {**{f: f"part_{f}" for f in (*_PID, "d0err", "dzerr")}, "d0": "part_d0val", "dz": "part_dzval"}


def feature_set_branches(feature_set: str) -> tuple[str, ...]:
    """The particle branches (beyond the four-vector and ``part_deta/dphi``) a feature set reads."""
    if feature_set not in FEATURE_SETS:
        raise DataError(
            f"unknown feature_set {feature_set!r}; choose one of {', '.join(map(repr, FEATURE_SETS))} "
            "(JetClass's kin, kinpid and full input sets) or 'auto' (the largest the files support)"
        )
    return tuple(_BRANCH[f] for f in FEATURE_SETS[feature_set] if f in _BRANCH)


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
    """The kinematic inputs of JetClass's feature sets, unstandardised.

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
        ``pt_log, e_log, logptrel, logerel, deltaR, deta, dphi`` (natural logs).
    """
    with np.errstate(divide="ignore"):
        return {
            "pt_log": np.log(pt),
            "e_log": np.log(energy),
            "logptrel": np.log(pt / jet_pt),
            "logerel": np.log(energy / jet_energy),
            "deltaR": np.hypot(deta, dphi),
            "deta": deta,
            "dphi": dphi,
        }


#: jets padded at a time by :func:`padded_particles`: its float64 temporaries take about 60 kB per jet
#: (some 35 columns of 100 particles), 120 MB per chunk, whatever the number of jets read
_CHUNK_JETS = 2000


def _pad(array: ak.Array, width: int) -> np.ndarray:
    return ak.to_numpy(ak.fill_none(ak.pad_none(array, width, axis=1, clip=True), 0.0)).astype(np.float64)


def padded_particles(
    particles: ak.Array, jets: Mapping[str, np.ndarray], *, max_particles: int = 100, feature_set: str = "kinpid"
) -> dict:
    """Dense, zero-padded inputs of one JetClass feature set from jagged particles (highest pT first).

    Parameters
    ----------
    particles
        Jagged records with ``px, py, pz, energy, deta, dphi`` and the fields the set needs
        (``charge``, ``is*``; ``d0val, d0err, dzval, dzerr``), without the ``part_`` prefix.
    jets
        ``pt`` and ``energy`` per jet (GeV).
    feature_set
        One of :data:`FEATURE_SETS`.

    Returns
    -------
    dict
        ``points`` (N, P, 2), ``features`` (N, P, F) float32, ``feature_names``,
        ``mask`` (N, P) bool and ``four_vectors`` (N, P, 4) float64 in GeV.
    """
    branches = feature_set_branches(feature_set)  # checks the name
    names = FEATURE_SETS[feature_set]
    missing = [b for b in branches if b[len("part_") :] not in particles.fields]
    if missing:
        raise DataError(
            f"feature_set {feature_set!r} needs the particle branches {', '.join(missing)}, which the jets lack; "
            f"use feature_set='kin' (four-vectors only) or files that have them (JetClass files and "
            f"hepml_nb's generate_jets() files have all)"
        )
    out = {
        "points": np.zeros((len(particles), max_particles, 2), np.float32),
        "features": np.zeros((len(particles), max_particles, len(names)), np.float32),
        "mask": np.zeros((len(particles), max_particles), bool),
        "four_vectors": np.zeros((len(particles), max_particles, 4), np.float64),
    }
    for start in range(0, len(particles), _CHUNK_JETS):
        sl = slice(start, start + _CHUNK_JETS)
        chunk = _padded_chunk(particles[sl], {k: jets[k][sl] for k in ("pt", "energy")}, max_particles, feature_set)
        for key, array in chunk.items():
            out[key][sl] = array
    return {**out, "feature_names": tuple(names)}


def _padded_chunk(particles: ak.Array, jets: Mapping[str, np.ndarray], max_particles: int, feature_set: str) -> dict:
    """The arrays of :func:`padded_particles` for a few jets (every step works jet by jet)."""
    branches = feature_set_branches(feature_set)
    names = FEATURE_SETS[feature_set]
    pt_jagged = np.hypot(particles.px, particles.py)
    particles = particles[ak.argsort(pt_jagged, axis=1, ascending=False)]
    wanted = {"px", "py", "pz", "energy", "deta", "dphi", *(b[len("part_") :] for b in branches)}
    cols = {f: _pad(particles[f], max_particles) for f in particles.fields if f in wanted}
    mask = _pad(ak.ones_like(particles.px), max_particles) > 0
    pt = np.hypot(cols["px"], cols["py"])
    values = particle_kinematics(
        np.where(mask, pt, 1.0),
        np.where(mask, cols["energy"], 1.0),
        cols["deta"],
        cols["dphi"],
        jets["pt"][:, None],
        jets["energy"][:, None],
    )
    values.update({f: cols[_BRANCH[f][len("part_") :]] for f in names if f in _BRANCH})
    for track in ("d0", "dz"):
        if track in values:
            values[track] = np.tanh(values[track])
    for name, (shift, scale, low, high) in _STANDARDISE.items():
        if name in values:
            values[name] = np.clip((values[name] - shift) * scale, low, high)
    features = np.stack([values[n] for n in names], axis=-1)
    features = np.where(mask[..., None], features, 0.0).astype(np.float32)
    four = np.stack([cols["px"], cols["py"], cols["pz"], cols["energy"]], axis=-1)
    points = np.stack([cols["deta"], cols["dphi"]], axis=-1) * mask[..., None]
    return {"points": points, "features": features, "mask": mask, "four_vectors": four}


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
        and a ``charge`` particle field (``n_charged`` counts all charged particles of the jet,
        as ``n_particles`` counts all particles).
    """
    info = jets.jets
    _needed(info, ("pt", "eta", "energy", "sdmass", "tau1", "tau2", "tau3", "tau4"))
    if "charge" not in jets.particles.fields:
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
    n_charged = ak.to_numpy(ak.sum(jets.particles.charge != 0, axis=1)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        zlogz = np.where(z > 0, z * np.log(np.where(z > 0, z, 1.0)), 0.0).sum(axis=1)
    columns = [
        mass,
        info["sdmass"],
        info["tau1"],
        _ratio(info["tau2"], info["tau1"]),
        _ratio(info["tau3"], info["tau2"]),
        _ratio(info["tau4"], info["tau3"]),
        np.asarray(info.get("nparticles", ak.num(jets.particles.px, axis=1)), dtype=float),
        n_charged,
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
