"""Jet generation with Pythia8 and fastjet, written as JetClass-schema ROOT files.

The recipe follows the top-tagging reference dataset (Kasieczka et al.,
arXiv:1902.09914): pp collisions at 14 TeV without multi-parton interactions or
pile-up, anti-kT jets with R = 0.8; of each event only the two leading jets
(highest pT) are candidates, kept when their pT is in the window (550-650 GeV by
default) and |eta| < 2. A top jet contains a parton-level top (within R of the jet
axis) and all three decay quarks of *that* top; W and Z jets contain both decay quarks.
Light-quark and gluon jets are matched to the nearest outgoing parton of the hard
process; QCD jets are the leading jets of a dijet sample in the window.

Deviations from the reference recipe, also stored in each file's metadata
(:data:`RECIPE_NOTES`): no detector simulation (jets are built from the generated
stable particles, neutrinos removed), and the hard-process pT range
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
from hepml_nb.jets.io import write_jetclass
from hepml_nb.jets.substructure import ignore_spurious_fastjet_warning, nsubjettiness, softdrop_mass

__all__ = [
    "PROCESSES",
    "GENERATOR_VERSION",
    "RECIPE_NOTES",
    "CHUNK_JETS",
    "generate_jets",
    "generate_chunk",
    "pythia_settings",
    "init_fastjet",
]

GENERATOR_VERSION = "jets-3"  # jets-3: JetClass part_deta sign, aux_parton PDG ids, leading jets, top matching
#: hard-process pT range as fractions of the jet-pT window edges
PTHAT_LOW, PTHAT_HIGH = 0.75, 1.2
#: jets per event that are candidates (the leading ones, by pT)
N_LEADING = 2
#: how these files deviate from the reference recipe (Kasieczka et al., arXiv:1902.09914)
RECIPE_NOTES = (
    "no detector simulation: jets of generated stable particles (neutrinos removed), not Delphes E-flow",
    f"hard-process pT restricted to {PTHAT_LOW} x pt_min .. {PTHAT_HIGH} x pt_max for speed",
    f"the {N_LEADING} leading jets of each event are candidates",
)
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

#: process -> (Pythia switches, JetClass label branch, human description)
PROCESSES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "top": (
        ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_W_HAD),
        "label_Tbqq",
        "hadronic top, t -> bW -> bqq', all three quarks inside the jet",
    ),
    "qcd": (("HardQCD:all = on",), "label_QCD", "light-quark and gluon jets of QCD dijets"),
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
vector.register_awkward()  # pt, eta, phi of Pythia's Momentum4D records
_FASTJET_READY = False  # set once this process (or the parent it was forked from) has clustered once


def _check_process(process: str) -> str:
    process = _ALIASES.get(process, process)
    if process not in PROCESSES:
        raise ParameterError(f"unknown jet process {process!r}; choose one of: {', '.join(PROCESSES)} (or 't' for top)")
    return process


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


def pythia_settings(process: str, *, pt_range: tuple[float, float], seed: int) -> list[str]:
    """Pythia8 ``readString`` lines for one process and jet-pT window.

    The hard-process pT (``PhaseSpace:pTHatMin/Max``) brackets the window at
    ``PTHAT_LOW`` x low and ``PTHAT_HIGH`` x high: low enough that jets near the window's
    lower edge (which can come from a softer hard process plus initial-state radiation)
    are not cut away, so the QCD jet-pT spectrum is not sculpted there.
    """
    switches = PROCESSES[_check_process(process)][0]
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


def _partons(prt: ak.Array, process: str) -> tuple[ak.Array, int]:
    """Partons a jet must contain (``need`` of them) for the process; QCD has none.

    For tops the returned records carry ``group`` (+1 for the top, -1 for the antitop):
    the b quark (mother: the top) and the W decay quarks (mother: the W of that top).
    """
    status, pid = abs(prt.status), abs(prt.id)
    mother = prt.id[prt.mother1]
    quark = (pid >= 1) & (pid <= 5) & (status == 23)
    if process == "top":
        own = quark & ((abs(mother) == 6) | (abs(mother) == 24))
        return ak.with_field(prt[own], np.sign(mother[own]), "group"), 3
    if process in ("w", "z"):
        return prt[quark & (abs(mother) == (24 if process == "w" else 23))], 2
    return prt[(status == 23) & ((pid <= 5) | (pid == 21))], 1


def _tops(prt: ak.Array) -> ak.Array:
    """The (last-copy) top and antitop of each event: the mothers of the b quarks of their decays."""
    pid, mother = prt.id, prt.mother1
    b_from_top = (abs(pid) == 5) & (abs(prt.id[mother]) == 6) & (abs(prt.status) == 23)
    tops = prt[mother[b_from_top]]
    return ak.with_field(tops, np.sign(tops.id), "group")


def _match_top(jets: ak.Array, prt: ak.Array) -> ak.Array:
    """(event, jet) mask: a top within R of the jet axis and all three of its own decay quarks too."""
    quarks, _ = _partons(prt, "top")
    tops = _tops(prt)
    matched = ak.zeros_like(jets.pt, dtype=bool)
    for group in (1, -1):
        q = quarks[quarks.group == group]
        t = tops[tops.group == group]
        qp = ak.cartesian({"j": jets, "p": q}, axis=1, nested=True)
        tp = ak.cartesian({"j": jets, "p": t}, axis=1, nested=True)
        q_in = ak.sum(_delta_r(qp.j.eta, qp.j.phi, qp.p.p.eta, qp.p.p.phi) < JET_R, axis=2)
        t_in = ak.sum(_delta_r(tp.j.eta, tp.j.phi, tp.p.p.eta, tp.p.p.phi) < JET_R, axis=2) >= 1
        matched = matched | (t_in & (q_in == 3) & (ak.num(q, axis=1) == 3))
    return matched


def _match(jets: ak.Array, partons: ak.Array, need: int, process: str) -> ak.Array:
    """Boolean (event, jet) mask: the jet contains the decay quarks / the right parton."""
    pairs = ak.cartesian({"j": jets, "p": partons}, axis=1, nested=True)
    p = pairs.p.p
    dr = _delta_r(pairs.j.eta, pairs.j.phi, p.eta, p.phi)
    if process in ("q", "g"):
        nearest = ak.argmin(dr, axis=2, keepdims=True)
        flavour = ak.firsts(abs(pairs.p.id[nearest]), axis=2)
        close = ak.fill_none(ak.firsts(dr[nearest], axis=2) < JET_R, False)
        wanted = (flavour <= 3) if process == "q" else (flavour == 21)
        return close & ak.fill_none(wanted, False)
    return ak.sum(dr < JET_R, axis=2) >= need


def _matched_parton_id(jets: ak.Array, prt: ak.Array, process: str) -> ak.Array:
    """PDG id (absolute) of the parton each jet is matched to: 6, 24, 23, or the light quark / gluon."""
    if process in ("top", "w", "z"):
        return ak.ones_like(jets.pt, dtype=np.int32) * {"top": 6, "w": 24, "z": 23}[process]
    partons, _ = _partons(prt, "q")
    pairs = ak.cartesian({"j": jets, "p": partons}, axis=1, nested=True)
    dr = _delta_r(pairs.j.eta, pairs.j.phi, pairs.p.p.eta, pairs.p.p.phi)
    nearest = ak.argmin(dr, axis=2, keepdims=True)
    flavour = ak.firsts(abs(pairs.p.id[nearest]), axis=2)
    close = ak.fill_none(ak.firsts(dr[nearest], axis=2) < JET_R, False)
    return ak.values_astype(ak.where(close, ak.fill_none(flavour, 0), 0), np.int32)


def _select_jets(events: ak.Array, process: str, pt_range, eta_max: float) -> tuple[ak.Array, ak.Array, ak.Array]:
    """Cluster one batch of events; return the selected jets' constituents, the jets and their
    matched parton ids (PDG, 0 for QCD jets with no parton within R), flat over events.

    Only the :data:`N_LEADING` highest-pT jets of an event are candidates.
    """
    with needs_extra("jets"):
        import fastjet

    prt = events.prt
    apid = abs(prt.id)
    final = prt[(prt.status > 0) & (apid != 12) & (apid != 14) & (apid != 16)]
    mom = final.p
    vectors = ak.zip({"px": mom.px, "py": mom.py, "pz": mom.pz, "E": mom.e}, with_name="Momentum4D")
    cluster = fastjet.ClusterSequence(vectors, fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R))
    min_pt = 0.5 * pt_range[0]  # candidates: the leading jets, whatever their pT; 0.5 x low only saves time
    jets = cluster.inclusive_jets(min_pt=min_pt)
    index = cluster.constituent_index(min_pt=min_pt)
    order = ak.argsort(jets.pt, axis=1, ascending=False)
    jets, index = jets[order][:, :N_LEADING], index[order][:, :N_LEADING]
    keep = (jets.pt >= pt_range[0]) & (jets.pt < pt_range[1]) & (abs(jets.eta) < eta_max)
    keep = keep & (ak.num(index, axis=2) >= 4)
    if process == "top":
        keep = keep & _match_top(jets, prt)
    elif process != "qcd":
        keep = keep & _match(jets, *_partons(prt, process), process)
    parton = _matched_parton_id(jets, prt, process)
    offsets = np.cumsum(np.asarray(ak.num(final))) - np.asarray(ak.num(final))
    flat_index = ak.flatten((index + offsets)[keep], axis=1)
    particles = ak.unflatten(ak.flatten(final)[ak.flatten(flat_index)], ak.num(flat_index))
    return particles, ak.flatten(jets[keep]), ak.flatten(parton[keep])


def _constituent_arrays(particles: ak.Array, jets: ak.Array, charge_of, max_particles: int) -> dict:
    """JetClass particle and jet branches from the selected jets' constituents."""
    p = particles.p
    order = ak.argsort(p.pt, axis=1, ascending=False)
    particles = particles[order][:, :max_particles]
    p = particles.p
    pid = ak.values_astype(particles.id, np.int32)
    charge = ak.unflatten(charge_of(np.asarray(ak.flatten(pid))), ak.num(pid))
    apid = abs(pid)
    charged = charge != 0
    lepton = (apid == 11) | (apid == 13)
    part = {
        "px": p.px,
        "py": p.py,
        "pz": p.pz,
        "energy": p.e,
        "deta": (p.eta - jets.eta) * np.where(jets.eta < 0, -1.0, 1.0),  # JetClass: signed by the jet's eta
        "dphi": (p.phi - jets.phi + np.pi) % (2 * np.pi) - np.pi,
        "charge": charge,
        "pid": pid,
        "isChargedHadron": charged & ~lepton,
        "isNeutralHadron": ~charged & (apid != 22),
        "isPhoton": apid == 22,
        "isElectron": apid == 11,
        "isMuon": apid == 13,
    }
    return {
        "part": {k: ak.values_astype(v, np.float32) for k, v in part.items()},
        "jet_pt": jets.pt,
        "jet_eta": jets.eta,
        "jet_phi": jets.phi,
        "jet_energy": jets.E,
        "jet_nparticles": ak.num(particles),
    }


def _init_pythia(process: str, *, pt_range, seed: int):
    """A Pythia8 instance initialised for one process, quiet, with its own seed."""
    with needs_extra("jets"):
        import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in pythia_settings(process, pt_range=pt_range, seed=seed):
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia8 rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia8 failed to initialise for process {process!r}")
    return pythia


def generate_chunk(
    process: str,
    n_jets: int,
    *,
    seed: int,
    pt_range=(550.0, 650.0),
    eta_max: float = 2.0,
    max_particles: int = 128,
    batch_events: int = 200,
) -> dict[str, Any]:
    """Generate ``n_jets`` jets of one process in this process (no cache, no parallelism).

    Returns
    -------
    dict
        ``part`` (dict of jagged awkward arrays, pT-ordered, at most ``max_particles``
        per jet), ``jet_*`` arrays (GeV, radians), ``jet_sdmass`` and ``jet_tau1..4``,
        and ``n_events`` (events generated).
    """
    start = time.perf_counter()
    process = _check_process(process)
    pythia = _init_pythia(process, pt_range=pt_range, seed=seed)
    charges: dict[int, float] = {}

    def charge_of(ids: np.ndarray) -> np.ndarray:
        for i in np.unique(ids).tolist():
            charges.setdefault(i, pythia.particleData.charge(i))
        return np.vectorize(charges.__getitem__, otypes=[np.float32])(ids) if ids.size else ids.astype(np.float32)

    batch_events = min(batch_events, max(25, 2 * n_jets))  # small requests: small batches
    parts, jets, partons, n_events, n_found, pythia_s = [], [], [], 0, 0, 0.0
    with ignore_spurious_fastjet_warning():
        while n_found < n_jets:
            tick = time.perf_counter()
            events = pythia.nextBatch(batch_events)
            pythia_s += time.perf_counter() - tick
            particles, selected, parton = _select_jets(events, process, pt_range, eta_max)
            parts.append(particles)
            jets.append(selected)
            partons.append(parton)
            n_events += batch_events
            n_found += len(selected)
        particles = ak.concatenate(parts)[:n_jets]
        selected = ak.concatenate(jets)[:n_jets]
        out = _constituent_arrays(particles, selected, charge_of, max_particles)
        out["aux_parton"] = np.asarray(ak.concatenate(partons)[:n_jets], dtype=np.int32)
        vectors = ak.zip(
            {"px": particles.p.px, "py": particles.p.py, "pz": particles.p.pz, "E": particles.p.e},
            with_name="Momentum4D",
        )
        out["jet_sdmass"] = softdrop_mass(vectors, r0=JET_R)
        for n, tau in enumerate(nsubjettiness(vectors, n_max=4, r0=JET_R), start=1):
            out[f"jet_tau{n}"] = tau
    out["n_events"], out["n_selected"] = n_events, n_found
    out["timings"] = {"pythia_s": pythia_s, "total_s": time.perf_counter() - start}
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
    _check_window(n_jets, pt_range, eta_max, max_particles)
    if n_workers is not None and (not isinstance(n_workers, (int, np.integer)) or n_workers < 1):
        raise ParameterError(f"n_workers must be a positive integer or None, got {n_workers!r}")
    kwargs = {
        "pt_range": (float(pt_range[0]), float(pt_range[1])),
        "eta_max": float(eta_max),
        "max_particles": int(max_particles),
    }
    params = {"process": process, "n_jets": int(n_jets), "seed": int(seed), "chunk": CHUNK_JETS, **kwargs}

    def build(path: Path) -> None:
        arrays = _generate_all(
            process, int(n_jets), seed=int(seed), n_workers=n_workers or cpu_threads(), progress=progress, kwargs=kwargs
        )
        notes = {"generator": GENERATOR_VERSION, "process": process, "deviations": list(RECIPE_NOTES)}
        write_jetclass(path, arrays, label=PROCESSES[process][1], parton=process, metadata=notes)

    return cached_file("jets", params, GENERATOR_VERSION, build, suffix=".root")
