"""Jet generation with Pythia8 and fastjet, written as JetClass-schema ROOT files.

The recipe follows the top-tagging reference dataset (Kasieczka et al.,
arXiv:1902.09914): pp collisions at 14 TeV without multi-parton interactions or
pile-up, anti-kT jets with R = 0.8; of each event only the two leading jets
(highest pT) are candidates, kept when their pT is in the window (550-650 GeV by
default) and |eta| < 2. A top jet contains a parton-level top (within R of the jet
axis) and all three decay quarks of *that* top; W and Z jets contain both decay quarks.
Light-quark and gluon jets are matched to the nearest outgoing parton of the hard
process. QCD jets (processes ``qcd``, ``q``, ``g``) follow one of two recipes, chosen with
``background`` (:data:`BACKGROUNDS`): ``dijet`` (default), the leading jets of Pythia8 QCD
dijets (``HardQCD:all``), as in the top-tagging reference dataset; or ``znunu``, the jet
recoiling against a Z boson that decays to neutrinos (``WeakBosonAndParton:qqbar2gmZg`` and
``qg2gmZq`` with ``23:onIfAny = 12 14 16``), the process of JetClass's QCD class (its
``ZJetsToNuNu`` files; Qu, Li, Qian, arXiv:2202.03772, generated there with MadGraph5_aMC@NLO
+ Pythia8). The two differ in their quark/gluon mix (:func:`parton_fractions`): dijets in a
550-650 GeV window are about half gluon jets, Z+jet mostly quark jets (``qg -> Zq`` dominates).

Between Pythia and clustering a parametrised, Delphes-like detector (``detector``:
``cms-like`` by default, ``atlas-like``, or ``none`` for particle-level jets; see
:mod:`hepml_nb.jets.detector`) turns the stable particles into particle-flow candidates
with impact parameters. Deviations from the reference recipe, also stored in each file's
metadata (:func:`recipe_notes`): the detector is our parametrisation of the Delphes card,
not Delphes itself, and the hard-process pT range
(``PhaseSpace:pTHatMin/Max``) is restricted to ``PTHAT_LOW x low .. PTHAT_HIGH x high``
for speed, low enough not to sculpt the jet-pT spectrum at the window's lower edge.

Generation is split into chunks of :data:`CHUNK_JETS` jets, each with its own seed
derived from ``seed`` and the process, so the output does not depend on how many
worker processes share the chunks.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import vector
from tqdm.auto import tqdm

from hepml_nb.core.cache import cached_file
from hepml_nb.core.devices import cpu_threads
from hepml_nb.core.errors import ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.jets.detector import CARDS_VERSION, DETECTORS, SPECS, check_detector, detector_response
from hepml_nb.jets.io import write_jetclass
from hepml_nb.jets.names import BACKGROUNDS
from hepml_nb.jets.substructure import ignore_spurious_fastjet_warning, nsubjettiness, softdrop_mass

__all__ = [
    "PROCESSES",
    "BACKGROUNDS",
    "QCD_PROCESSES",
    "check_background",
    "background_settings",
    "parton_fractions",
    "GENERATOR_VERSION",
    "RECIPE_NOTES",
    "DETECTORS",
    "recipe_notes",
    "CHUNK_JETS",
    "generate_jets",
    "generate_chunk",
    "pythia_settings",
    "init_fastjet",
]

#: jets-6: Delphes particle flow (track-tower subtraction, helices); jets-5: QCD background recipes (dijet, znunu)
GENERATOR_VERSION = "jets-6"
#: hard-process pT range as fractions of the jet-pT window edges
PTHAT_LOW, PTHAT_HIGH = 0.75, 1.2
#: jets per event that are candidates (the leading ones, by pT)
N_LEADING = 2


def recipe_notes(detector: str = "cms-like", *, background: str | None = None) -> tuple[str, ...]:
    """How files made with ``detector`` deviate from the reference recipe (Kasieczka et al., arXiv:1902.09914).

    ``background`` (one of :data:`BACKGROUNDS`, for files of QCD jets) adds a note on the QCD recipe.
    """
    detector = check_detector(detector)
    qcd = () if background is None else (f"QCD jets: {_QCD_RECIPES[check_background(background)][1]}",)
    if detector == "none":
        first = "no detector simulation: jets of generated stable particles (neutrinos removed), not Delphes E-flow"
    else:
        first = (
            f"detector {detector}: our parametrisation of {SPECS[detector].card} ({CARDS_VERSION}): tracking "
            "efficiency and pT smearing, helices to the calorimeter, ECAL/HCAL towers with energy smearing, "
            "Delphes particle flow (tracks subtracted from towers, significant excesses as neutral candidates), "
            "smeared impact parameters; no pile-up"
        )
    return (
        first,
        f"hard-process pT restricted to {PTHAT_LOW} x pt_min .. {PTHAT_HIGH} x pt_max for speed",
        f"the {N_LEADING} leading jets of each event are candidates",
        *qcd,
    )


#: the notes of the default detector (cms-like); files store :func:`recipe_notes` of their own detector
RECIPE_NOTES = recipe_notes("cms-like")
CHUNK_JETS = 400
JET_R = 0.8

_COMMON = (
    "Beams:eCM = 14000.",
    "PartonLevel:MPI = off",
    "Next:numberCount = 0",
    "Print:quiet = on",
    "Random:setSeed = on",
)
_W_HAD = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
_Z_HAD = ("23:onMode = off", "23:onIfAny = 1 2 3 4 5", "WeakZ0:gmZmode = 2")

#: process -> (Pythia switches, JetClass label branch, human description); the QCD processes take the
#: switches of their ``background`` recipe (:func:`background_settings`), those here are the dijet ones
PROCESSES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "top": (
        ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_W_HAD),
        "label_Tbqq",
        "hadronic top, t -> bW -> bqq', all three quarks inside the jet",
    ),
    "qcd": (("HardQCD:all = on",), "label_QCD", "light-quark and gluon jets (dijets, or Z+jet: see background)"),
    "w": (
        ("WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on", *_W_HAD),
        "label_Wqq",
        "hadronic W + jet, both W quarks inside the jet",
    ),
    "z": (
        ("WeakBosonAndParton:qqbar2gmZg = on", "WeakBosonAndParton:qg2gmZq = on", *_Z_HAD),
        "label_Zqq",
        "hadronic Z + jet, both Z quarks inside the jet",
    ),
    "q": (("HardQCD:all = on",), "label_QCD", "QCD jets matched to a light quark (u, d, s)"),
    "g": (("HardQCD:all = on",), "label_QCD", "QCD jets matched to a gluon"),
}
_ALIASES = {"t": "top"}
#: processes whose jets are QCD jets: their Pythia process is the ``background`` recipe's
QCD_PROCESSES = ("qcd", "q", "g")
#: background -> (Pythia switches of the QCD processes, description for the recipe notes)
_QCD_RECIPES: dict[str, tuple[tuple[str, ...], str]] = {
    "dijet": (("HardQCD:all = on",), "Pythia8 QCD dijets (HardQCD:all), the leading jets"),
    "znunu": (
        (
            "WeakBosonAndParton:qqbar2gmZg = on",
            "WeakBosonAndParton:qg2gmZq = on",
            "23:onMode = off",
            "23:onIfAny = 12 14 16",
            "WeakZ0:gmZmode = 2",
        ),
        "Z(->nu nu)+jet, the jet recoiling against the Z (Pythia8 qqbar -> Zg, qg -> Zq; the process of "
        "JetClass's QCD class, made there with MadGraph5_aMC@NLO + Pythia8)",
    ),
}
vector.register_awkward()  # pt, eta, phi of Pythia's Momentum4D records
_FASTJET_READY = False  # set once this process (or the parent it was forked from) has clustered once


def _check_process(process: str) -> str:
    process = _ALIASES.get(process, process)
    if process not in PROCESSES:
        raise ParameterError(f"unknown jet process {process!r}; choose one of: {', '.join(PROCESSES)} (or 't' for top)")
    return process


def check_background(background: str) -> str:
    """Return ``background`` if it is one of :data:`BACKGROUNDS`, else raise a ParameterError naming them."""
    if background not in BACKGROUNDS:
        raise ParameterError(
            f"unknown background {background!r} for the QCD jets; choose one of: {', '.join(BACKGROUNDS)} "
            f"(dijet: Pythia8 dijets; znunu: Z(->nu nu)+jet, as JetClass's QCD class)"
        )
    return background


def background_settings(process: str, background: str = "dijet") -> tuple[str, ...]:
    """Pythia8 switches of ``process``: its own, or, for the QCD processes, those of the ``background`` recipe."""
    process, background = _check_process(process), check_background(background)
    return _QCD_RECIPES[background][0] if process in QCD_PROCESSES else PROCESSES[process][0]


def parton_fractions(partons) -> dict[str, float]:
    """Fractions of jets matched to a gluon, a light quark (d, u, s), a heavy quark (c, b) or no parton.

    ``partons`` are the PDG ids of the matched partons (``aux_parton`` of a generated file, or
    ``JetData.jets["parton"]``; 0 where no hard parton lies within R of the jet axis).
    """
    ids = np.abs(np.asarray(partons, dtype=np.int64))
    if ids.size == 0:
        raise ParameterError("parton_fractions needs at least one jet; got an empty array of parton ids")
    groups = {"gluon": ids == 21, "light_quark": (ids >= 1) & (ids <= 3), "heavy_quark": (ids == 4) | (ids == 5)}
    groups["unmatched"] = ~(groups["gluon"] | groups["light_quark"] | groups["heavy_quark"])
    return {name: float(np.mean(mask)) for name, mask in groups.items()}


def _check_window(n_jets: int, pt_range: tuple[float, float], eta_max: float, max_particles: int) -> None:
    if not isinstance(n_jets, (int, np.integer)) or n_jets < 1:
        raise ParameterError(f"n_jets must be a positive integer, got {n_jets!r}")
    lo, hi = (float(v) for v in pt_range)
    if not 20.0 <= lo < hi:
        raise ParameterError(f"pt_range must be (low, high) in GeV with 20 <= low < high, got {pt_range!r}")
    if not 0.0 < eta_max <= 5.0:
        raise ParameterError(f"eta_max must be in (0, 5], got {eta_max!r}")
    if not 4 <= max_particles <= 1000:
        raise ParameterError(f"max_particles must be between 4 and 1000, got {max_particles!r}")


def pythia_settings(process: str, *, pt_range: tuple[float, float], seed: int, background: str = "dijet") -> list[str]:
    """Pythia8 ``readString`` lines for one process and jet-pT window.

    The hard-process pT (``PhaseSpace:pTHatMin/Max``) brackets the window at
    ``PTHAT_LOW`` x low and ``PTHAT_HIGH`` x high: low enough that jets near the window's
    lower edge (which can come from a softer hard process plus initial-state radiation)
    are not cut away, so the QCD jet-pT spectrum is not sculpted there. For Z+jet
    (``background="znunu"``) the hard-process pT is the Z's, which the recoiling jet balances.
    """
    switches = background_settings(process, background)
    lo, hi = pt_range
    return [
        *_COMMON,
        *switches,
        f"Random:seed = {int(seed)}",
        f"PhaseSpace:pTHatMin = {PTHAT_LOW * lo:.1f}",
        f"PhaseSpace:pTHatMax = {PTHAT_HIGH * hi:.1f}",
    ]


def _chunk_seeds(process: str, n_chunks: int, seed: int) -> list[int]:
    """Distinct Pythia seeds (1 .. 9e8) per chunk, derived from ``seed`` and the process."""
    code = list(PROCESSES).index(process)
    seq = np.random.SeedSequence(entropy=int(seed), spawn_key=(code,))
    return [int(s.generate_state(1)[0] % 900_000_000) + 1 for s in seq.spawn(n_chunks)]


def _delta_r(eta1, phi1, eta2, phi2):
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    return np.hypot(eta1 - eta2, dphi)


def _flat_record(prt: ak.Array) -> dict[str, np.ndarray]:
    """Pythia's event record of a batch as flat numpy columns; ``mother`` is a flat index, ``event`` the event."""
    counts = np.asarray(ak.num(prt.id))
    flat = ak.flatten(prt)
    event = np.repeat(np.arange(len(counts)), counts)
    offsets = np.cumsum(counts) - counts
    p = flat.p
    rec = {
        "id": np.asarray(flat.id, dtype=np.int64),
        "status": np.asarray(flat.status, dtype=np.int64),
        "mother": np.asarray(flat.mother1, dtype=np.int64) + offsets[event],
        "event": event,
        **{k: np.asarray(getattr(p, k), dtype=np.float64) for k in ("px", "py", "pz", "e")},
    }
    rec["vertex"] = flat.vProd if "vProd" in flat.fields else None  # read for the stable particles only
    return rec


def _vertex(vertex, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Production vertices ``vx, vy, vz`` (mm) of the masked entries; Pythia leaves None for the origin."""
    if vertex is None:
        return {k: np.zeros(int(mask.sum())) for k in ("vx", "vy", "vz")}
    layout = ak.to_layout(vertex)
    if isinstance(layout, ak.contents.IndexedOptionArray):  # read the buffers: much faster than fill_none
        index = np.asarray(layout.index.data)[mask]
        have, at = index >= 0, np.maximum(index, 0)
        fields = {a: np.asarray(layout.content.content(a).data) for a in ("px", "py", "pz")}
        return {n: np.where(have, fields[a][at], 0.0) for a, n in (("px", "vx"), ("py", "vy"), ("pz", "vz"))}
    return {n: np.asarray(ak.fill_none(getattr(vertex, a), 0.0), dtype=float)[mask] for a, n in
            (("px", "vx"), ("py", "vy"), ("pz", "vz"))}  # fmt: skip


def _dense(values: np.ndarray, event: np.ndarray, n_events: int, fill=np.nan) -> np.ndarray:
    """(n_events, width) array of per-event values (``event`` sorted), padded with ``fill``."""
    counts = np.bincount(event, minlength=n_events)
    width = int(counts.max()) if len(event) else 0
    out = np.full((n_events, width), fill, dtype=float)
    rank = np.arange(len(event)) - (np.cumsum(counts) - counts)[event]
    out[event, rank] = values
    return out


def _dr_to(jets: tuple[np.ndarray, np.ndarray], rec: dict, sel: np.ndarray, n_events: int) -> np.ndarray:
    """(n_events, n_jets, width) Delta R of each jet to the selected record entries of its event (inf: none)."""
    px, py, pz = rec["px"][sel], rec["py"][sel], rec["pz"][sel]
    eta = _dense(np.arcsinh(pz / np.maximum(np.hypot(px, py), 1e-12)), rec["event"][sel], n_events)
    phi = _dense(np.arctan2(py, px), rec["event"][sel], n_events)
    dr = _delta_r(jets[0][:, :, None], jets[1][:, :, None], eta[:, None, :], phi[:, None, :])
    return np.where(np.isnan(dr), np.inf, dr)


def _hard_quarks(rec: dict) -> tuple[np.ndarray, np.ndarray]:
    """Outgoing hard quarks (d..b, status 23) and the PDG id of their mothers."""
    apid = np.abs(rec["id"])
    return (apid >= 1) & (apid <= 5) & (np.abs(rec["status"]) == 23), rec["id"][rec["mother"]]


def _match_top(jets: tuple[np.ndarray, np.ndarray], rec: dict, n_events: int) -> np.ndarray:
    """(event, jet) mask: a top within R of the jet axis and all three of its own decay quarks too.

    A top's decay quarks are the b (mother: the top) and the W decay quarks (mother: the W of
    that top); the (last-copy) tops are the mothers of those b quarks.
    """
    quark, mother_id = _hard_quarks(rec)
    own = quark & ((np.abs(mother_id) == 6) | (np.abs(mother_id) == 24))
    b_from_top = quark & (np.abs(rec["id"]) == 5) & (np.abs(mother_id) == 6)
    top = np.zeros(len(quark), dtype=bool)
    top[rec["mother"][b_from_top]] = True
    matched = np.zeros(jets[0].shape, dtype=bool)
    for group in (1, -1):
        q = own & (np.sign(mother_id) == group)
        n_q = np.bincount(rec["event"][q], minlength=n_events)
        q_in = (_dr_to(jets, rec, q, n_events) < JET_R).sum(axis=2)
        t_in = (_dr_to(jets, rec, top & (np.sign(rec["id"]) == group), n_events) < JET_R).any(axis=2)
        matched |= t_in & (q_in == 3) & (n_q == 3)[:, None]
    return matched


def _nearest_parton(jets: tuple[np.ndarray, np.ndarray], rec: dict, n_events: int) -> tuple[np.ndarray, np.ndarray]:
    """(event, jet) |PDG id| of the nearest outgoing hard parton and whether it lies within R."""
    apid, status = np.abs(rec["id"]), np.abs(rec["status"])
    sel = (status == 23) & ((apid <= 5) | (apid == 21))
    dr = _dr_to(jets, rec, sel, n_events)
    if dr.shape[2] == 0:
        return np.zeros(jets[0].shape, dtype=np.int64), np.zeros(jets[0].shape, dtype=bool)
    ids = _dense(apid[sel], rec["event"][sel], n_events, fill=0).astype(np.int64)
    nearest = np.argmin(dr, axis=2)
    flavour = np.take_along_axis(ids[:, None, :].repeat(dr.shape[1], axis=1), nearest[:, :, None], axis=2)[:, :, 0]
    return flavour, np.take_along_axis(dr, nearest[:, :, None], axis=2)[:, :, 0] < JET_R


def _match(jets: tuple[np.ndarray, np.ndarray], rec: dict, process: str, n_events: int) -> np.ndarray:
    """Boolean (event, jet) mask: the jet contains the decay quarks / the right parton."""
    if process == "top":
        return _match_top(jets, rec, n_events)
    if process in ("w", "z"):
        quark, mother_id = _hard_quarks(rec)
        sel = quark & (np.abs(mother_id) == (24 if process == "w" else 23))
        return (_dr_to(jets, rec, sel, n_events) < JET_R).sum(axis=2) >= 2
    flavour, close = _nearest_parton(jets, rec, n_events)
    if process == "qcd":
        return np.ones(jets[0].shape, dtype=bool)
    return close & ((flavour <= 3) if process == "q" else (flavour == 21))


def _matched_parton_id(jets: tuple[np.ndarray, np.ndarray], rec: dict, process: str, n_events: int) -> np.ndarray:
    """(event, jet) PDG id (absolute) of the matched parton: 6, 24, 23, or the light quark / gluon (0: none)."""
    if process in ("top", "w", "z"):
        return np.full(jets[0].shape, {"top": 6, "w": 24, "z": 23}[process], dtype=np.int32)
    flavour, close = _nearest_parton(jets, rec, n_events)
    return np.where(close, flavour, 0).astype(np.int32)


def _candidates(rec: dict, charge_of, detector: str, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """Stable particles (neutrinos removed) of the record through the detector: flat columns and events."""
    apid = np.abs(rec["id"])
    final = (rec["status"] > 0) & (apid != 12) & (apid != 14) & (apid != 16)
    cols = {k: rec[k][final] for k in ("px", "py", "pz", "e")}
    cols.update(_vertex(rec["vertex"], final))
    cols["pid"] = rec["id"][final].astype(np.int32)
    cols["charge"] = charge_of(cols["pid"])
    n_events = int(rec["event"][-1]) + 1 if len(rec["event"]) else 0
    return detector_response(cols, rec["event"][final], n_events=n_events, detector=detector, rng=rng)


def _jet_columns(jets: ak.Array, slot: np.ndarray, n_events: int) -> dict[str, np.ndarray]:
    """(n_events, N_LEADING) numpy pt, eta, phi, E of the leading jets (NaN where an event has fewer)."""
    cols = {}
    for k in ("px", "py", "pz", "E"):
        cols[k] = np.full(n_events * N_LEADING, np.nan)
        cols[k][slot] = ak.to_numpy(ak.flatten(jets[k]))
        cols[k] = cols[k].reshape(n_events, N_LEADING)
    pt = np.hypot(cols["px"], cols["py"])
    with np.errstate(invalid="ignore", divide="ignore"):
        eta = np.arcsinh(cols["pz"] / pt)
    return {"pt": pt, "eta": eta, "phi": np.arctan2(cols["py"], cols["px"]), "E": cols["E"]}


def _select_jets(cands: dict, cand_event: np.ndarray, rec: dict, process: str, pt_range, eta_max: float):
    """Cluster one batch of particle-flow candidates; return the selected jets' constituents (flat
    columns and their count per jet), the jets (numpy pt, eta, phi, E) and their matched parton ids.

    Only the :data:`N_LEADING` highest-pT jets of an event are candidates.
    """
    with needs_extra("jets"):
        import fastjet

    n_events = int(rec["event"][-1]) + 1
    counts = np.bincount(cand_event, minlength=n_events)
    vectors = ak.unflatten(
        ak.zip({"px": cands["px"], "py": cands["py"], "pz": cands["pz"], "E": cands["e"]}, with_name="Momentum4D"),
        counts,
    )
    cluster = fastjet.ClusterSequence(vectors, fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R))
    min_pt = 0.5 * pt_range[0]  # candidates: the leading jets, whatever their pT; 0.5 x low only saves time
    jets = cluster.inclusive_jets(min_pt=min_pt)
    index = cluster.constituent_index(min_pt=min_pt)
    order = ak.argsort(np.hypot(jets.px, jets.py), axis=1, ascending=False)
    jets, index = jets[order][:, :N_LEADING], index[order][:, :N_LEADING]
    slot = _jet_slots(index, n_events)
    j = _jet_columns(jets, slot, n_events)
    per_jet = ak.to_numpy(ak.flatten(ak.num(index, axis=2)))
    n_const = np.zeros(n_events * N_LEADING, dtype=np.int64)
    n_const[slot] = per_jet
    n_const = n_const.reshape(n_events, N_LEADING)
    keep = (j["pt"] >= pt_range[0]) & (j["pt"] < pt_range[1]) & (np.abs(j["eta"]) < eta_max) & (n_const >= 4)
    keep &= _match((j["eta"], j["phi"]), rec, process, n_events)
    parton = _matched_parton_id((j["eta"], j["phi"]), rec, process, n_events)
    chosen = keep.ravel()[slot]
    const_event = np.repeat(slot // N_LEADING, per_jet)
    flat_index = ak.to_numpy(ak.flatten(index, axis=None)) + (np.cumsum(counts) - counts)[const_event]
    flat_index = flat_index[np.repeat(chosen, per_jet)]
    constituents = {k: v[flat_index] for k, v in cands.items()}
    sel = keep.ravel()
    return constituents, per_jet[chosen], {k: v.ravel()[sel] for k, v in j.items()}, parton.ravel()[sel]


def _jet_slots(index: ak.Array, n_events: int) -> np.ndarray:
    """Flat position (event * N_LEADING + rank) of each clustered leading jet."""
    n_jets = ak.to_numpy(ak.num(index, axis=1))
    event = np.repeat(np.arange(n_events), n_jets)
    rank = np.arange(len(event)) - (np.cumsum(n_jets) - n_jets)[event]
    return event * N_LEADING + rank


def _constituent_arrays(cands: dict, counts: np.ndarray, jets: dict, max_particles: int) -> dict:
    """JetClass particle and jet branches from the selected jets' constituents (flat columns, count per jet)."""
    jet = np.repeat(np.arange(len(counts)), counts)
    pt = np.hypot(cands["px"], cands["py"])
    order = np.lexsort((-pt, jet))
    rank = np.arange(len(jet)) - (np.cumsum(counts) - counts)[jet]
    keep = order[rank < max_particles]  # order is jet-major, so rank counts within a jet
    c = {k: v[keep] for k, v in cands.items()}
    jet, kept = jet[keep], np.minimum(counts, max_particles)
    pt = np.hypot(c["px"], c["py"])
    eta, phi = np.arcsinh(c["pz"] / np.maximum(pt, 1e-12)), np.arctan2(c["py"], c["px"])
    jet_eta = jets["eta"][jet]
    apid, charged = np.abs(c["pid"]), c["charge"] != 0
    lepton = (apid == 11) | (apid == 13)
    part = {
        "px": c["px"],
        "py": c["py"],
        "pz": c["pz"],
        "energy": c["e"],
        "deta": (eta - jet_eta) * np.where(jet_eta < 0, -1.0, 1.0),  # JetClass: signed by the jet's eta
        "dphi": (phi - jets["phi"][jet] + np.pi) % (2 * np.pi) - np.pi,
        "charge": c["charge"],
        "pid": c["pid"],
        "isChargedHadron": charged & ~lepton,
        "isNeutralHadron": ~charged & (apid != 22),
        "isPhoton": apid == 22,
        "isElectron": apid == 11,
        "isMuon": apid == 13,
        **{k: c[k] for k in ("d0val", "d0err", "dzval", "dzerr")},
    }
    return {
        "part": {k: ak.unflatten(np.asarray(v, dtype=np.float32), kept) for k, v in part.items()},
        "jet_pt": jets["pt"],
        "jet_eta": jets["eta"],
        "jet_phi": jets["phi"],
        "jet_energy": jets["E"],
        "jet_nparticles": kept,
    }


def _init_pythia(process: str, *, pt_range, seed: int, background: str):
    """A Pythia8 instance initialised for one process, quiet, with its own seed."""
    with needs_extra("jets"):
        import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in pythia_settings(process, pt_range=pt_range, seed=seed, background=background):
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia8 rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia8 failed to initialise for process {process!r}")
    return pythia


def _charge_lookup(pythia):
    """``charge_of(ids) -> float32 charges`` from Pythia's particle data, one query per distinct id."""
    charges: dict[int, float] = {}

    def charge_of(ids: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(ids, return_inverse=True)
        for i in unique.tolist():
            charges.setdefault(i, pythia.particleData.charge(i))
        return np.asarray([charges[i] for i in unique.tolist()], dtype=np.float32)[inverse].reshape(ids.shape)

    return charge_of


def generate_chunk(
    process: str,
    n_jets: int,
    *,
    seed: int,
    pt_range=(550.0, 650.0),
    eta_max: float = 2.0,
    max_particles: int = 128,
    batch_events: int = 200,
    detector: str = "cms-like",
    background: str = "dijet",
) -> dict[str, Any]:
    """Generate ``n_jets`` jets of one process in this process (no cache, no parallelism).

    QCD processes (:data:`QCD_PROCESSES`) use the ``background`` recipe (``dijet`` or ``znunu``).
    The stable particles of each Pythia batch pass through ``detector``
    (:func:`hepml_nb.jets.detector.detector_response`, smeared with a generator seeded by
    ``seed``) before clustering; partons for matching come from Pythia's record.

    Returns
    -------
    dict
        ``part`` (dict of jagged float32 awkward arrays, pT-ordered, at most ``max_particles``
        per jet, with ``d0val, d0err, dzval, dzerr`` in mm), ``jet_*`` arrays (GeV, radians),
        ``jet_sdmass`` and ``jet_tau1..4``, ``aux_parton``, ``n_events`` (events generated),
        ``n_selected`` and ``timings`` (``pythia_s``, ``detector_s``, ``total_s``).
    """
    start = time.perf_counter()
    process = _check_process(process)
    detector = check_detector(detector)
    pythia = _init_pythia(process, pt_range=pt_range, seed=seed, background=background)
    charge_of = _charge_lookup(pythia)
    rng = np.random.default_rng([int(seed), 13])
    batch_events = min(batch_events, max(25, 2 * n_jets))  # small requests: small batches
    parts, counts, jets, partons = [], [], [], []
    n_events, n_found, pythia_s, detector_s = 0, 0, 0.0, 0.0
    with ignore_spurious_fastjet_warning():
        while n_found < n_jets:
            tick = time.perf_counter()
            events = pythia.nextBatch(batch_events)
            pythia_s += time.perf_counter() - tick
            rec = _flat_record(events.prt)
            tick = time.perf_counter()
            cands, cand_event = _candidates(rec, charge_of, detector, rng)
            detector_s += time.perf_counter() - tick
            constituents, n_const, selected, parton = _select_jets(cands, cand_event, rec, process, pt_range, eta_max)
            parts.append(constituents)
            counts.append(n_const)
            jets.append(selected)
            partons.append(parton)
            n_events += batch_events
            n_found += len(n_const)
        n_const = np.concatenate(counts)[:n_jets]
        cands = {k: np.concatenate([p[k] for p in parts])[: n_const.sum()] for k in parts[0]}
        selected = {k: np.concatenate([j[k] for j in jets])[:n_jets] for k in jets[0]}
        out = _constituent_arrays(cands, n_const, selected, max_particles)
        out["aux_parton"] = np.concatenate(partons)[:n_jets].astype(np.int32)
        vectors = ak.unflatten(
            ak.zip({"px": cands["px"], "py": cands["py"], "pz": cands["pz"], "E": cands["e"]}, with_name="Momentum4D"),
            n_const,
        )
        out["jet_sdmass"] = softdrop_mass(vectors, r0=JET_R)
        for n, tau in enumerate(nsubjettiness(vectors, n_max=4, r0=JET_R), start=1):
            out[f"jet_tau{n}"] = tau
    out["n_events"], out["n_selected"] = n_events, n_found
    out["timings"] = {"pythia_s": pythia_s, "detector_s": detector_s, "total_s": time.perf_counter() - start}
    return out


@contextlib.contextmanager
def _c_stdout_to_devnull():
    """Send file descriptor 1 to /dev/null in the block: C++ output (FastJet's banner) bypasses sys.stdout."""
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def init_fastjet(*, quiet: bool = False) -> None:
    """Cluster a one-particle event so FastJet prints its banner now, at most once per process.

    The C++ library prints the banner (to file descriptor 1, so ``contextlib.redirect_stdout``
    does not catch it) at its first ``ClusterSequence``. :func:`generate_jets` calls this in
    the main process before starting workers, so forked workers inherit the "already shown"
    state and a run shows the banner once, not once per worker; ``quiet`` (used in spawned
    workers, which start afresh) sends that first banner to /dev/null.
    """
    global _FASTJET_READY
    if _FASTJET_READY:
        return
    with needs_extra("jets"):
        import fastjet

    one = ak.Array([[{"px": 1.0, "py": 0.0, "pz": 0.0, "E": 1.0}]], with_name="Momentum4D")
    with _c_stdout_to_devnull() if quiet else contextlib.nullcontext():
        fastjet.ClusterSequence(one, fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R))
    _FASTJET_READY = True


def _init_worker() -> None:
    init_fastjet(quiet=True)


def _run_chunk(task: tuple) -> tuple[int, dict]:
    index, process, n, seed, kwargs = task
    return index, generate_chunk(process, n, seed=seed, **kwargs)


def _merge(chunks: list[dict]) -> dict:
    merged = {"part": {k: ak.concatenate([c["part"][k] for c in chunks]) for k in chunks[0]["part"]}}
    for key in chunks[0]:
        if key.startswith(("jet_", "aux_")):
            merged[key] = np.concatenate([np.asarray(c[key]) for c in chunks])
    merged["n_events"] = sum(c["n_events"] for c in chunks)
    return merged


def _generate_all(process: str, n_jets: int, *, seed: int, n_workers: int, progress: bool, kwargs: dict) -> dict:
    n_chunks = -(-n_jets // CHUNK_JETS)
    sizes = [min(CHUNK_JETS, n_jets - i * CHUNK_JETS) for i in range(n_chunks)]
    tasks = [
        (i, process, n, s, kwargs)
        for i, (n, s) in enumerate(zip(sizes, _chunk_seeds(process, n_chunks, seed), strict=True))
    ]
    results: dict[int, dict] = {}
    bar = tqdm(total=n_jets, desc=f"Pythia8 {process} jets", unit="jet", disable=not progress)
    n_workers = max(1, min(n_workers, n_chunks))
    init_fastjet()  # the banner once, here: forked workers inherit that it was shown
    if n_workers == 1:
        for task in tasks:
            index, out = _run_chunk(task)
            results[index] = out
            bar.update(len(out["jet_pt"]))
    else:
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        with mp.get_context(method).Pool(n_workers, initializer=_init_worker) as pool:
            for index, out in pool.imap_unordered(_run_chunk, tasks):
                results[index] = out
                bar.update(len(out["jet_pt"]))
    bar.close()
    return _merge([results[i] for i in range(n_chunks)])


def generate_jets(
    n_jets: int,
    *,
    process: str,
    pt_range: tuple[float, float] = (550.0, 650.0),
    eta_max: float = 2.0,
    max_particles: int = 128,
    seed: int = 0,
    n_workers: int | None = None,
    progress: bool = True,
    detector: str = "cms-like",
    background: str = "dijet",
) -> Path:
    """Generate ``n_jets`` jets of one process into a cached JetClass-schema ROOT file.

    Parameters
    ----------
    n_jets
        Number of jets to write.
    process
        One of ``top`` (signal; ``t`` also accepted), ``qcd``, ``w``, ``z``, ``q``, ``g``
        (see :data:`PROCESSES`).
    pt_range
        Jet transverse-momentum window (low, high) in GeV.
    eta_max
        Largest jet |pseudorapidity|.
    max_particles
        Constituents kept per jet, highest pT first (JetClass keeps 128).
    seed
        Seed; chunk seeds are derived from it, so the file does not depend on ``n_workers``.
    n_workers
        Worker processes (default: the CPU cores available).
    progress
        Show a tqdm progress bar.
    detector
        Detector response between Pythia and clustering, one of :data:`DETECTORS`:
        ``cms-like`` (default), ``atlas-like`` or ``none`` (particle-level jets).
    background
        Recipe of the QCD jets (processes ``qcd``, ``q``, ``g``), one of :data:`BACKGROUNDS`:
        ``dijet`` (default, Pythia8 dijets) or ``znunu`` (Z(->nu nu)+jet, the process of
        JetClass's QCD class). Other processes ignore it (their files are shared). A QCD file
        stores it, and its quark/gluon mix (:func:`parton_fractions`), in its metadata.

    Returns
    -------
    pathlib.Path
        The ROOT file (tree ``tree``), cached under ``hepml_nb.core.cache.cache_dir()/jets``.

    References
    ----------
    Kasieczka et al., "The Machine Learning Landscape of Top Taggers", arXiv:1902.09914.
    Qu et al., "Particle Transformer for Jet Tagging" (JetClass schema), arXiv:2202.03772.
    """
    process = _check_process(process)
    detector = check_detector(detector)
    background = check_background(background)
    _check_window(n_jets, pt_range, eta_max, max_particles)
    if n_workers is not None and (not isinstance(n_workers, (int, np.integer)) or n_workers < 1):
        raise ParameterError(f"n_workers must be a positive integer or None, got {n_workers!r}")
    kwargs = {
        "pt_range": (float(pt_range[0]), float(pt_range[1])),
        "eta_max": float(eta_max),
        "max_particles": int(max_particles),
        "detector": detector,
    }
    qcd = {"background": background} if process in QCD_PROCESSES else {}  # other processes share their files
    kwargs.update(qcd)
    params = {"process": process, "n_jets": int(n_jets), "seed": int(seed), "chunk": CHUNK_JETS, **kwargs}

    def build(path: Path) -> None:
        arrays = _generate_all(
            process, int(n_jets), seed=int(seed), n_workers=n_workers or cpu_threads(), progress=progress, kwargs=kwargs
        )
        notes = {
            "generator": GENERATOR_VERSION,
            "process": process,
            "detector": detector,
            **qcd,
            "deviations": list(recipe_notes(detector, background=qcd.get("background"))),
        }
        if qcd:
            notes["parton_fractions"] = parton_fractions(arrays["aux_parton"])
        write_jetclass(path, arrays, label=PROCESSES[process][1], parton=process, metadata=notes)

    return cached_file("jets", params, GENERATOR_VERSION, build, suffix=".root")
