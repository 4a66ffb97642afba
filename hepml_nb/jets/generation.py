"""Jet generation with Pythia8 and fastjet, written as JetClass-schema ROOT files.

The recipe follows the top-tagging reference dataset (Kasieczka et al.,
arXiv:1902.09914): pp collisions at 14 TeV without multi-parton interactions or
pile-up, anti-kT jets with R = 0.8, jet pT in a window (550-650 GeV by default),
|eta| < 2. Signal jets (top, W, Z) are matched to the parton-level decay: every
decay quark lies within R of the jet axis. Light-quark and gluon jets are matched to
the nearest outgoing parton of the hard process; QCD jets are all jets of a dijet
sample in the window.

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
import warnings
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
from hepml_nb.jets.substructure import nsubjettiness, softdrop_mass

__all__ = [
    "PROCESSES",
    "GENERATOR_VERSION",
    "CHUNK_JETS",
    "generate_jets",
    "generate_chunk",
    "pythia_settings",
    "init_fastjet",
]

GENERATOR_VERSION = "jets-2"
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

    The hard-process pT (``PhaseSpace:pTHatMin/Max``) brackets the window at 0.9 x low
    and 1.2 x high, so that most events give jets in the window.
    """
    switches = PROCESSES[_check_process(process)][0]
    lo, hi = pt_range
    return [
        *_COMMON,
        *switches,
        f"Random:seed = {int(seed)}",
        f"PhaseSpace:pTHatMin = {0.9 * lo:.1f}",
        f"PhaseSpace:pTHatMax = {1.2 * hi:.1f}",
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
    """Partons a jet must contain (``need`` of them) for the process; QCD has none."""
    status, pid = abs(prt.status), abs(prt.id)
    mother = abs(prt.id[prt.mother1])
    quark = (pid >= 1) & (pid <= 5) & (status == 23)
    if process == "top":
        return prt[quark & ((mother == 6) | (mother == 24))], 3
    if process in ("w", "z"):
        return prt[quark & (mother == (24 if process == "w" else 23))], 2
    return prt[(status == 23) & ((pid <= 5) | (pid == 21))], 1


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


def _select_jets(events: ak.Array, process: str, pt_range, eta_max: float) -> tuple[ak.Array, ak.Array]:
    """Cluster one batch of events; return the selected jets' constituents and the jets, flat over events."""
    with needs_extra("jets"):
        import fastjet

    prt = events.prt
    apid = abs(prt.id)
    final = prt[(prt.status > 0) & (apid != 12) & (apid != 14) & (apid != 16)]
    mom = final.p
    vectors = ak.zip({"px": mom.px, "py": mom.py, "pz": mom.pz, "E": mom.e}, with_name="Momentum4D")
    cluster = fastjet.ClusterSequence(vectors, fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R))
    jets = cluster.inclusive_jets(min_pt=pt_range[0])
    index = cluster.constituent_index(min_pt=pt_range[0])
    keep = (jets.pt < pt_range[1]) & (abs(jets.eta) < eta_max) & (ak.num(index, axis=2) >= 4)
    if process != "qcd":
        keep = keep & _match(jets, *_partons(prt, process), process)
    offsets = np.cumsum(np.asarray(ak.num(final))) - np.asarray(ak.num(final))
    flat_index = ak.flatten((index + offsets)[keep], axis=1)
    particles = ak.unflatten(ak.flatten(final)[ak.flatten(flat_index)], ak.num(flat_index))
    return particles, ak.flatten(jets[keep])


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
        "deta": p.eta - jets.eta,
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
    parts, jets, n_events, n_found, pythia_s = [], [], 0, 0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        while n_found < n_jets:
            tick = time.perf_counter()
            events = pythia.nextBatch(batch_events)
            pythia_s += time.perf_counter() - tick
            particles, selected = _select_jets(events, process, pt_range, eta_max)
            parts.append(particles)
            jets.append(selected)
            n_events += batch_events
            n_found += len(selected)
        particles = ak.concatenate(parts)[:n_jets]
        selected = ak.concatenate(jets)[:n_jets]
        out = _constituent_arrays(particles, selected, charge_of, max_particles)
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
        if key.startswith("jet_"):
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
        write_jetclass(path, arrays, label=PROCESSES[process][1], parton=process)

    return cached_file("jets", params, GENERATOR_VERSION, build, suffix=".root")
