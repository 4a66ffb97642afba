"""e+e- -> ZH, H -> gamma gamma and diphoton backgrounds at sqrt(s) = 240 GeV with Pythia8.

Signal is Higgsstrahlung with the Higgs forced to two photons (Z inclusive). The
background is what gives two isolated photons near 125 GeV at a Higgs factory:
e+e- -> Z/gamma* with initial- and final-state photon radiation, and e+e- -> gamma gamma
(whose diphoton mass sits near sqrt(s) unless a hard ISR photon pulls it down). Both
background processes run in one Pythia instance, so they are mixed by their cross
sections. A generator-level filter at parton level (two photons, loose mass window)
decides which events are hadronised, which keeps the rare background cheap.

Photon energies are smeared with a calorimeter resolution
``sigma/E = a/sqrt(E/GeV) (+) b`` (CEPC-like default a = 17 %, b = 1 %; CEPC CDR,
arXiv:1811.10545), photons must be isolated, and the two leading photons must have a
diphoton mass in a window around 125 GeV. Selected events are written as a ROOT
ntuple (tree ``events``) with uproot and cached by their recipe.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hepml_nb.core.cache import cached_file
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.lazy import needs_extra

__all__ = [
    "GENERATOR_VERSION", "PROCESSES", "BACKGROUNDS", "SIGNAL_CODE", "event_file", "read_events", "load_events",
    "smear_energies", "select_diphoton",
]

GENERATOR_VERSION = "qml-events-1"
PROCESSES = {
    "zh": ("HiggsSM:ffbar2HZ = on", "25:onMode = off", "25:onIfMatch = 22 22"),
    "gammagamma": ("PromptPhoton:ffbar2gammagamma = on",),
    "zgamma": ("WeakBosonAndParton:ffbar2gmZgm = on",),
}
BACKGROUNDS = ("gammagamma", "zgamma")
_MHAT_MARGIN = 25.0  # GeV: background hard-process mass (after ISR) kept within window +- margin
SIGNAL_CODE = 1  # label of signal events; background is 0
BRANCHES = ("label", "process", "g1_e", "g1_px", "g1_py", "g1_pz", "g2_e", "g2_px", "g2_py", "g2_pz",
            "n_charged")
_FILTER_MARGIN = 15.0  # GeV added on both sides of the mass window at parton level


def _pythia(processes: tuple[str, ...], *, seed: int, sqrt_s: float, window: tuple[float, float]):
    """A quiet Pythia8 instance for e+e- at ``sqrt_s`` (GeV), hadronisation deferred.

    For the background the mass of the hard process after initial-state radiation is
    restricted to the diphoton window +- 25 GeV (``PhaseSpace:mHatMin/Max``): e+e- -> gamma
    gamma only reaches 125 GeV by radiative return, and Pythia then quotes the cross
    section of that phase-space region, so the two processes stay mixed correctly.
    """
    with needs_extra("qml"):
        import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    settings = ["Beams:idA = 11", "Beams:idB = -11", f"Beams:eCM = {sqrt_s}", "PDF:lepton = on",
                "HadronLevel:all = off", "Random:setSeed = on", f"Random:seed = {seed % 900_000_000 + 1}",
                "Next:numberCount = 0", "Print:quiet = on", *[line for name in processes for line in PROCESSES[name]]]
    if processes != ("zh",):
        settings += [f"PhaseSpace:mHatMin = {max(window[0] - _MHAT_MARGIN, 10.0)}",
                     f"PhaseSpace:mHatMax = {window[1] + _MHAT_MARGIN}"]
    for line in settings:
        pythia.readString(line)
    if not pythia.init():
        raise DataError(f"Pythia8 failed to initialise the processes {processes}")
    return pythia


def _final_state(event) -> np.ndarray:
    """Final-state particles as rows (id, E, px, py, pz, visible, charged)."""
    rows = []
    for i in range(event.size()):
        p = event[i]
        if p.isFinal():
            rows.append((p.id(), p.e(), p.px(), p.py(), p.pz(), p.isVisible(), p.isCharged()))
    return np.array(rows, dtype=float).reshape(-1, 7)


def _pair_mass(p1: np.ndarray, p2: np.ndarray) -> float:
    total = p1 + p2
    return float(np.sqrt(max(total[0] ** 2 - total[1:] @ total[1:], 0.0)))


def _photons(event, e_min: float) -> list[np.ndarray]:
    """Final-state photons above ``e_min`` GeV as (E, px, py, pz) arrays (cheap loop)."""
    out = []
    for i in range(event.size()):
        p = event[i]
        if p.id() == 22 and p.isFinal() and p.e() > e_min:
            out.append(np.array([p.e(), p.px(), p.py(), p.pz()]))
    return out


def _passes_filter(photons: list[np.ndarray], *, window: tuple[float, float]) -> bool:
    """Parton-level filter: the two leading photons have a mass near the window."""
    if len(photons) < 2:
        return False
    lead = sorted(photons, key=lambda p: -p[0])[:2]
    return window[0] - _FILTER_MARGIN < _pair_mass(lead[0], lead[1]) < window[1] + _FILTER_MARGIN


def smear_energies(energy: np.ndarray, *, stochastic: float, constant: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Calorimeter energy smearing: ``sigma/E = stochastic/sqrt(E/GeV) (+) constant`` (in quadrature).

    Energies in GeV; negative draws are clipped to zero. Returns a new array.
    """
    energy = np.asarray(energy, dtype=float)
    rel = np.sqrt(stochastic**2 / np.maximum(energy, 1e-9) + constant**2)
    return np.clip(energy * (1.0 + rel * rng.standard_normal(energy.shape)), 0.0, None)


def select_diphoton(final: np.ndarray, smeared: np.ndarray, *, window: tuple[float, float], e_min: float,
                    cos_max: float, iso_cone: float, iso_frac: float) -> np.ndarray | None:
    """Two leading isolated photons in the acceptance with a diphoton mass in ``window``.

    ``final`` holds rows (id, E, px, py, pz, visible, charged), ``smeared`` the smeared
    photon energies (same length, used for photons only). A photon is isolated when
    the visible energy within ``iso_cone`` (rad) around it is below ``iso_frac`` of its
    energy. Returns the two photons as an array (2, 4) of (E, px, py, pz) or None.
    """
    p = final[:, 2:5]
    norm = np.linalg.norm(p, axis=1)
    unit = p / np.maximum(norm, 1e-12)[:, None]
    cands = np.flatnonzero((final[:, 0] == 22) & (smeared > e_min) & (np.abs(unit[:, 2]) < cos_max))
    isolated = []
    for i in cands:
        near = (unit @ unit[i] > np.cos(iso_cone)) & (final[:, 5] > 0)
        near[i] = False
        if final[near, 1].sum() < iso_frac * smeared[i]:
            isolated.append(i)
    if len(isolated) < 2:
        return None
    lead = sorted(isolated, key=lambda i: -smeared[i])[:2]
    photons = np.array([[smeared[i], *(unit[i] * smeared[i])] for i in lead])
    return photons if window[0] < _pair_mass(photons[0], photons[1]) < window[1] else None


def _generate(kind: str, n_events: int, *, seed: int, cfg: dict[str, Any]) -> dict[str, np.ndarray]:
    """Generate ``n_events`` selected events of ``kind`` ('signal' or 'background')."""
    from tqdm.auto import tqdm

    processes = ("zh",) if kind == "signal" else tuple(cfg["backgrounds"])
    pythia = _pythia(processes, seed=seed + (0 if kind == "signal" else 1), sqrt_s=cfg["sqrt_s"], window=tuple(cfg["mass_window"]))
    rng = np.random.default_rng([seed, SIGNAL_CODE if kind == "signal" else 0])
    rows, attempts, max_attempts = [], 0, cfg["max_attempts_per_event"] * max(n_events, 1)
    window, e_min = tuple(cfg["mass_window"]), cfg["e_min"]
    with tqdm(total=n_events, desc=f"{kind} events", leave=False) as bar:
        while len(rows) < n_events:
            attempts += 1
            if attempts > max_attempts:
                raise DataError(
                    f"only {len(rows)} of {n_events} {kind} events passed the selection in {max_attempts} "
                    f"attempts; widen mass_window (got {window}) or lower photon_e_min (got {e_min})"
                )
            if not pythia.next() or not _passes_filter(_photons(pythia.event, 0.8 * e_min), window=window):
                continue
            if not pythia.forceHadronLevel():
                continue
            final = _final_state(pythia.event)
            smeared = smear_energies(final[:, 1], stochastic=cfg["resolution"][0],
                                     constant=cfg["resolution"][1], rng=rng)
            photons = select_diphoton(final, smeared, window=window, e_min=e_min, cos_max=cfg["cos_max"],
                                      iso_cone=cfg["iso_cone"], iso_frac=cfg["iso_frac"])
            if photons is not None:
                rows.append([*photons.ravel(), final[:, 6].sum(), pythia.infoPython().code()])
                bar.update(1)
    data = np.array(rows, dtype=float).reshape(-1, 10)
    return {"photons": data[:, :8], "n_charged": data[:, 8], "process": data[:, 9],
            "attempts": np.array(attempts)}


def _write_ntuple(path: Path, parts: dict[str, dict[str, np.ndarray]]) -> None:
    with needs_extra("qml"):
        import uproot

    sig, bkg = parts["signal"], parts["background"]
    photons = np.concatenate([sig["photons"], bkg["photons"]])
    label = np.r_[np.ones(len(sig["photons"])), np.zeros(len(bkg["photons"]))].astype(np.int32)
    branches = {"label": label, "process": np.r_[sig["process"], bkg["process"]].astype(np.int32)}
    for k, name in enumerate(("g1_e", "g1_px", "g1_py", "g1_pz", "g2_e", "g2_px", "g2_py", "g2_pz")):
        branches[name] = photons[:, k]
    branches["n_charged"] = np.r_[sig["n_charged"], bkg["n_charged"]].astype(np.int32)
    with uproot.recreate(path) as fh:
        fh["events"] = branches
        fh["generation"] = {"kind": np.array([1, 0], dtype=np.int32),
                            "attempts": np.array([sig["attempts"], bkg["attempts"]], dtype=np.int64)}


def event_file(n_signal: int, n_background: int, *, seed: int = 0, sqrt_s: float = 240.0,
               mass_window: tuple[float, float] = (115.0, 135.0), resolution: tuple[float, float] = (0.17, 0.01),
               photon_e_min: float = 20.0, cos_max: float = 0.9, iso_cone: float = 0.2,
               iso_frac: float = 0.1, backgrounds: tuple[str, ...] = BACKGROUNDS,
               max_attempts_per_event: int = 20000) -> Path:
    """Generate (or take from the cache) a ROOT ntuple of selected diphoton events.

    Parameters
    ----------
    n_signal, n_background
        Selected events of each class.
    seed
        Seed of Pythia and of the smearing.
    sqrt_s
        Centre-of-mass energy in GeV.
    mass_window
        Diphoton-mass window (GeV) of the preselection.
    resolution
        Stochastic and constant terms ``(a, b)`` of ``sigma/E = a/sqrt(E/GeV) (+) b``.
    photon_e_min, cos_max, iso_cone, iso_frac
        Photon selection: energy above ``photon_e_min`` GeV, ``|cos theta| < cos_max``,
        visible energy within ``iso_cone`` rad below ``iso_frac`` of the photon energy.
    backgrounds
        Background processes, mixed by their cross sections: ``"gammagamma"`` (e+e- ->
        gamma gamma with radiative return to the window, fast) and ``"zgamma"`` (e+e- ->
        Z/gamma* gamma with a second photon from ISR/FSR, about 15x slower per event).
    max_attempts_per_event
        Generated events allowed per selected event before giving up with an error.

    Returns
    -------
    Path of the ROOT file (tree ``events``: ``label``, ``process``, ``g{1,2}_{e,px,py,pz}``
    in GeV, ``n_charged``).
    """
    cfg = {"sqrt_s": float(sqrt_s), "mass_window": [float(v) for v in mass_window],
           "resolution": [float(v) for v in resolution], "e_min": float(photon_e_min),
           "cos_max": float(cos_max), "iso_cone": float(iso_cone), "iso_frac": float(iso_frac),
           "backgrounds": list(backgrounds), "max_attempts_per_event": int(max_attempts_per_event)}
    _check_config(n_signal, n_background, cfg)
    params = {"n_signal": int(n_signal), "n_background": int(n_background), "seed": int(seed), **cfg}

    def build(path: Path) -> None:
        parts = {kind: _generate(kind, n, seed=int(seed), cfg=cfg)
                 for kind, n in (("signal", n_signal), ("background", n_background))}
        _write_ntuple(path, parts)

    return cached_file("qml_events", params, GENERATOR_VERSION, build, suffix=".root")


def _check_config(n_signal: int, n_background: int, cfg: dict[str, Any]) -> None:
    for name, n in (("n_signal", n_signal), ("n_background", n_background)):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ParameterError(f"{name} must be a positive integer, got {n!r}")
    unknown = [b for b in cfg["backgrounds"] if b not in BACKGROUNDS]
    if unknown or not cfg["backgrounds"]:
        raise ParameterError(
            f"unknown or empty background processes {cfg['backgrounds']}; choose one or more of: {', '.join(BACKGROUNDS)}"
        )
    low, high = cfg["mass_window"]
    if not 0 < low < high < cfg["sqrt_s"]:
        raise ParameterError(f"mass_window must be (low, high) GeV with 0 < low < high < sqrt_s, got {(low, high)}")
    if min(cfg["resolution"]) < 0:
        raise ParameterError(f"resolution terms must be >= 0, got {tuple(cfg['resolution'])}")
    if not 0 < cfg["cos_max"] <= 1:
        raise ParameterError(f"cos_max must be in (0, 1], got {cfg['cos_max']}")


def read_events(path: Path | str) -> dict[str, np.ndarray]:
    """Read the ``events`` tree of a diphoton ntuple into a dict of numpy arrays.

    Raises
    ------
    DataError
        If the file does not exist or lacks a branch of the schema.
    """
    with needs_extra("qml"):
        import uproot

    path = Path(path)
    if not path.is_file():
        raise DataError(f"event file {path} not found; generate one with qml.event_file(...) or give a valid path")
    with uproot.open(path) as fh:
        if "events" not in fh:
            raise DataError(f"{path} has no tree 'events' (found: {', '.join(fh.keys()) or 'nothing'})")
        tree = fh["events"]
        missing = [b for b in BRANCHES if b not in tree.keys()]
        if missing:
            raise DataError(f"{path}: tree 'events' lacks branches {missing}; expected {list(BRANCHES)}")
        return {name: tree[name].array(library="np") for name in BRANCHES}


def load_events(n_signal: int, n_background: int, **options: Any) -> dict[str, np.ndarray]:
    """Generate or load from the cache, then read: ``read_events(event_file(...))``."""
    return read_events(event_file(n_signal, n_background, **options))
