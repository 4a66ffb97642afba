"""e+e- -> ZH, H -> gamma gamma and diphoton backgrounds at sqrt(s) = 240 GeV with Pythia8.

Signal is Higgsstrahlung with the Higgs forced to two photons (Z inclusive). The
background is what gives two isolated photons near 125 GeV at a Higgs factory:
e+e- -> Z/gamma* with initial- and final-state photon radiation, and e+e- -> gamma gamma
(whose diphoton mass sits near sqrt(s) unless a hard ISR photon pulls it down). Each
process runs in its own Pythia instance with its own generator-level cuts
(:data:`GENERATOR_CUTS`): e+e- -> gamma gamma only in the radiative-return region
(``mHat`` near the window), e+e- -> Z/gamma* gamma at full energy with a loose ``pTHat``
cut, so that the irreducible (Z/gamma*) gamma (+ ISR/FSR gamma) background is kept (CEPC
H -> gamma gamma analysis, arXiv:2205.13269). The background processes are generated
side by side at equal integrated luminosity (the next event always comes from the
process with the smallest ``N_generated / sigma``, Pythia's ``info.sigmaGen()``), so the
selected sample is mixed by cross section times efficiency; :func:`sample_composition`
reads back the per-process record. A generator-level filter at parton level (two
central photons, loose mass window) decides which events are hadronised, which keeps
the rare background cheap.

Photon energies are smeared with a calorimeter resolution
``sigma/E = a/sqrt(E/GeV) (+) b`` (CEPC-like default a = 17 %, b = 1 %; CEPC CDR,
arXiv:1811.10545), photons must be isolated, and the two leading photons must have a
diphoton mass in a window around 125 GeV. Selected events are written as a ROOT
ntuple (tree ``events``) with uproot and cached by their recipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from hepml_nb.core.cache import cached_file
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.qml.names import BACKGROUNDS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "GENERATOR_VERSION",
    "PROCESSES",
    "GENERATOR_CUTS",
    "BACKGROUNDS",
    "SIGNAL_CODE",
    "ProcessSample",
    "event_file",
    "read_events",
    "load_events",
    "sample_composition",
    "cut_flow",
    "smear_energies",
    "select_diphoton",
]

GENERATOR_VERSION = "qml-events-2"
PROCESSES = {
    "zh": ("HiggsSM:ffbar2HZ = on", "25:onMode = off", "25:onIfMatch = 22 22"),
    "gammagamma": ("PromptPhoton:ffbar2gammagamma = on",),
    "zgamma": ("WeakBosonAndParton:ffbar2gmZgm = on",),
}
PROCESS_NAMES = tuple(PROCESSES)
_MHAT_MARGIN = 25.0  # GeV: gamma gamma hard-process mass (after ISR) kept within window +- margin
GENERATOR_CUTS = {
    "zh": "none",
    "gammagamma": f"mHat within the diphoton window +- {_MHAT_MARGIN:g} GeV (radiative return)",
    "zgamma": "pTHat > 5 GeV (full energy; no mHat cut)",
}
"""Generator-level cuts of each process, in words (see :func:`_cut_settings`)."""
SIGNAL_CODE = 1  # label of signal events; background is 0
BRANCHES = ("label", "process", "g1_e", "g1_px", "g1_py", "g1_pz", "g2_e", "g2_px", "g2_py", "g2_pz", "n_charged")
OPTIONAL_BRANCHES = ("m_hat",)  # hard-process mass (GeV), written by event_file since generator version 2
_FILTER_MARGIN = 15.0  # GeV added on both sides of the mass window at parton level
_FILTER_COS_MARGIN = 0.05  # parton-level photons within |cos theta| < cos_max + margin
_MB_TO_FB = 1e12


class ProcessSample(NamedTuple):
    """Cut flow and normalisation of one generated process.

    ``sigma_fb`` is Pythia's ``info.sigmaGen()`` after the generator-level cuts (fb),
    ``efficiency = selected / generated``, ``sigma_selected_fb = sigma_fb * efficiency`` and
    ``luminosity_ifb = generated / sigma_fb`` the integrated luminosity (fb^-1) the
    sample represents.
    """

    process: str
    label: int
    generator_cuts: str
    sigma_fb: float
    sigma_err_fb: float
    generated: int
    passed_filter: int
    selected: int
    efficiency: float
    sigma_selected_fb: float
    luminosity_ifb: float


def _cut_settings(process: str, window: tuple[float, float]) -> list[str]:
    """Pythia settings of the generator-level cuts of ``process`` (described in :data:`GENERATOR_CUTS`).

    e+e- -> gamma gamma reaches the window only by radiative return, so its hard-process
    mass after ISR (``mHat``) is restricted to the window +- 25 GeV, and Pythia quotes the
    cross section of that region. e+e- -> Z/gamma* gamma keeps the full energy: its second
    photon comes from ISR/FSR, not from a lower ``mHat``; only the collinear hard photon
    (``pTHat`` < 5 GeV, far outside the |cos theta| < 0.9 acceptance) is cut.
    """
    if process == "gammagamma":
        return [
            f"PhaseSpace:mHatMin = {max(window[0] - _MHAT_MARGIN, 10.0)}",
            f"PhaseSpace:mHatMax = {window[1] + _MHAT_MARGIN}",
        ]
    if process == "zgamma":
        return ["PhaseSpace:pTHatMin = 5.0"]
    return []


def _pythia(process: str, *, seed: int, sqrt_s: float, window: tuple[float, float]):
    """A quiet Pythia8 instance for one process of e+e- at ``sqrt_s`` (GeV), hadronisation deferred."""
    with needs_extra("qml"):
        import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    settings = [
        "Beams:idA = 11",
        "Beams:idB = -11",
        f"Beams:eCM = {sqrt_s}",
        "PDF:lepton = on",
        "HadronLevel:all = off",
        "Random:setSeed = on",
        f"Random:seed = {seed % 900_000_000 + 1}",
        "Next:numberCount = 0",
        "Print:quiet = on",
        *PROCESSES[process],
        *_cut_settings(process, window),
    ]
    for line in settings:
        pythia.readString(line)
    if not pythia.init():
        raise DataError(f"Pythia8 failed to initialise the process {process!r}")
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


def _photons(event, e_min: float, cos_max: float = 1.0) -> list[np.ndarray]:
    """Final-state photons above ``e_min`` GeV with ``|cos theta| < cos_max`` as (E, px, py, pz) arrays."""
    out = []
    for i in range(event.size()):
        p = event[i]
        if p.id() == 22 and p.isFinal() and p.e() > e_min and abs(p.pz()) < cos_max * p.pAbs():
            out.append(np.array([p.e(), p.px(), p.py(), p.pz()]))
    return out


def _passes_filter(photons: list[np.ndarray], *, window: tuple[float, float]) -> bool:
    """Parton-level filter: the two leading photons have a mass near the window."""
    if len(photons) < 2:
        return False
    lead = sorted(photons, key=lambda p: -p[0])[:2]
    return window[0] - _FILTER_MARGIN < _pair_mass(lead[0], lead[1]) < window[1] + _FILTER_MARGIN


def smear_energies(energy: np.ndarray, *, stochastic: float, constant: float, rng: np.random.Generator) -> np.ndarray:
    """Calorimeter energy smearing: ``sigma/E = stochastic/sqrt(E/GeV) (+) constant`` (in quadrature).

    Energies in GeV; negative draws are clipped to zero. Returns a new array.
    """
    energy = np.asarray(energy, dtype=float)
    rel = np.sqrt(stochastic**2 / np.maximum(energy, 1e-9) + constant**2)
    return np.clip(energy * (1.0 + rel * rng.standard_normal(energy.shape)), 0.0, None)


def select_diphoton(
    final: np.ndarray,
    smeared: np.ndarray,
    *,
    window: tuple[float, float],
    e_min: float,
    cos_max: float,
    iso_cone: float,
    iso_frac: float,
) -> np.ndarray | None:
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


class _Generator:
    """One process: its Pythia instance, smearing generator and cut-flow counters."""

    def __init__(self, process: str, *, seed: int, cfg: dict[str, Any]):
        self.process = process
        self.label = SIGNAL_CODE if process == "zh" else 0
        offset = PROCESS_NAMES.index(process)
        self.pythia = _pythia(process, seed=seed + offset, sqrt_s=cfg["sqrt_s"], window=tuple(cfg["mass_window"]))
        self.rng = np.random.default_rng([seed, offset])
        self.cfg = cfg
        self.generated = self.passed_filter = 0
        self.rows: list[list[float]] = []

    def luminosity(self) -> float:
        """Integrated luminosity generated so far (fb^-1); 0 before the first event."""
        sigma = self.pythia.infoPython().sigmaGen() * _MB_TO_FB
        return self.generated / sigma if self.generated and sigma > 0 else 0.0

    def next(self) -> bool:
        """Generate one event; True when it passed the selection (its row is appended)."""
        cfg, window = self.cfg, tuple(self.cfg["mass_window"])
        self.generated += 1
        photons = (
            _photons(self.pythia.event, 0.8 * cfg["e_min"], min(1.0, cfg["cos_max"] + _FILTER_COS_MARGIN))
            if self.pythia.next()
            else []
        )
        if not _passes_filter(photons, window=window):
            return False
        self.passed_filter += 1
        if not self.pythia.forceHadronLevel():
            return False
        final = _final_state(self.pythia.event)
        smeared = smear_energies(
            final[:, 1], stochastic=cfg["resolution"][0], constant=cfg["resolution"][1], rng=self.rng
        )
        selected = select_diphoton(
            final,
            smeared,
            window=window,
            e_min=cfg["e_min"],
            cos_max=cfg["cos_max"],
            iso_cone=cfg["iso_cone"],
            iso_frac=cfg["iso_frac"],
        )
        if selected is None:
            return False
        info = self.pythia.infoPython()
        self.rows.append([*selected.ravel(), final[:, 6].sum(), info.code(), info.mHat()])
        return True

    def summary(self) -> dict[str, Any]:
        info = self.pythia.infoPython()
        return {
            "process": self.process,
            "label": self.label,
            "generated": self.generated,
            "passed_filter": self.passed_filter,
            "selected": len(self.rows),
            "sigma_mb": info.sigmaGen(),
            "sigma_err_mb": info.sigmaErr(),
        }


def _generate(kind: str, n_events: int, *, seed: int, cfg: dict[str, Any]) -> list[_Generator]:
    """Generate ``n_events`` selected events of ``kind`` ('signal' or 'background').

    Background processes are generated side by side at equal luminosity: the next event
    comes from the process with the least ``N_generated / sigmaGen``, so the selected
    events are mixed by cross section times efficiency.
    """
    from tqdm.auto import tqdm

    processes = ("zh",) if kind == "signal" else tuple(cfg["backgrounds"])
    gens = [_Generator(name, seed=seed, cfg=cfg) for name in processes]
    max_attempts, window, e_min = cfg["max_attempts_per_event"] * max(n_events, 1), cfg["mass_window"], cfg["e_min"]
    selected = 0
    with tqdm(total=n_events, desc=f"{kind} events", leave=False) as bar:
        while selected < n_events:
            gen = min(gens, key=_Generator.luminosity)
            if sum(g.generated for g in gens) >= max_attempts:
                raise DataError(
                    f"only {selected} of {n_events} {kind} events passed the selection in {max_attempts} "
                    f"attempts; widen mass_window (got {tuple(window)}) or lower photon_e_min (got {e_min})"
                )
            if gen.next():
                selected += 1
                bar.update(1)
    return gens


def _write_ntuple(path: Path, gens: list[_Generator]) -> None:
    with needs_extra("qml"):
        import uproot

    rows = [np.array(g.rows, dtype=float).reshape(-1, 11) for g in gens]
    data = np.concatenate(rows)
    branches = {
        "label": np.concatenate([np.full(len(r), g.label) for g, r in zip(gens, rows, strict=True)]).astype(np.int32),
        "process": data[:, 9].astype(np.int32),
    }
    for k, name in enumerate(("g1_e", "g1_px", "g1_py", "g1_pz", "g2_e", "g2_px", "g2_py", "g2_pz")):
        branches[name] = data[:, k]
    branches["n_charged"] = data[:, 8].astype(np.int32)
    branches["m_hat"] = data[:, 10]
    summaries = [g.summary() for g in gens]
    generation = {"process": np.array([PROCESS_NAMES.index(s["process"]) for s in summaries], dtype=np.int32)}
    for key in ("label", "generated", "passed_filter", "selected"):
        generation[key] = np.array([s[key] for s in summaries], dtype=np.int64)
    for key in ("sigma_mb", "sigma_err_mb"):
        generation[key] = np.array([s[key] for s in summaries], dtype=np.float64)
    with uproot.recreate(path) as fh:
        fh["events"] = branches
        fh["generation"] = generation


def event_file(
    n_signal: int,
    n_background: int,
    *,
    seed: int = 0,
    sqrt_s: float = 240.0,
    mass_window: tuple[float, float] = (115.0, 135.0),
    resolution: tuple[float, float] = (0.17, 0.01),
    photon_e_min: float = 20.0,
    cos_max: float = 0.9,
    iso_cone: float = 0.2,
    iso_frac: float = 0.1,
    backgrounds: tuple[str, ...] = BACKGROUNDS,
    max_attempts_per_event: int = 20000,
) -> Path:
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
        Background processes, each with its own generator-level cuts (:data:`GENERATOR_CUTS`),
        mixed by cross section times efficiency: ``"gammagamma"`` (e+e- -> gamma gamma with
        radiative return to the window, fast) and ``"zgamma"`` (e+e- -> Z/gamma* gamma at full
        energy with a second photon from ISR/FSR; the larger and slower part).
    max_attempts_per_event
        Generated events allowed per selected event before giving up with an error.

    Returns
    -------
    Path of the ROOT file: tree ``events`` (``label``, ``process`` (Pythia code),
    ``g{1,2}_{e,px,py,pz}`` in GeV, ``n_charged``, ``m_hat`` (hard-process mass, GeV)) and
    tree ``generation`` (per-process cut flow and cross section, see :func:`sample_composition`).
    """
    cfg = _config(
        sqrt_s=sqrt_s,
        mass_window=mass_window,
        resolution=resolution,
        photon_e_min=photon_e_min,
        cos_max=cos_max,
        iso_cone=iso_cone,
        iso_frac=iso_frac,
        backgrounds=backgrounds,
        max_attempts_per_event=max_attempts_per_event,
    )
    _check_config(n_signal, n_background, cfg)
    params = {"n_signal": int(n_signal), "n_background": int(n_background), "seed": int(seed), **cfg}

    def build(path: Path) -> None:
        gens = [
            g
            for kind, n in (("signal", n_signal), ("background", n_background))
            for g in _generate(kind, n, seed=int(seed), cfg=cfg)
        ]
        _write_ntuple(path, gens)

    return cached_file("qml_events", params, GENERATOR_VERSION, build, suffix=".root")


def _config(
    *,
    sqrt_s: float = 240.0,
    mass_window: tuple[float, float] = (115.0, 135.0),
    resolution: tuple[float, float] = (0.17, 0.01),
    photon_e_min: float = 20.0,
    cos_max: float = 0.9,
    iso_cone: float = 0.2,
    iso_frac: float = 0.1,
    backgrounds: tuple[str, ...] = BACKGROUNDS,
    max_attempts_per_event: int = 20000,
) -> dict[str, Any]:
    """The generation recipe as plain JSON-able values (the defaults of :func:`event_file`)."""
    return {
        "sqrt_s": float(sqrt_s),
        "mass_window": [float(v) for v in mass_window],
        "resolution": [float(v) for v in resolution],
        "e_min": float(photon_e_min),
        "cos_max": float(cos_max),
        "iso_cone": float(iso_cone),
        "iso_frac": float(iso_frac),
        "backgrounds": list(backgrounds),
        "max_attempts_per_event": int(max_attempts_per_event),
    }


def cut_flow(process: str, n_generated: int, *, seed: int = 0, **options: Any) -> tuple[ProcessSample, np.ndarray]:
    """Generate ``n_generated`` events of one process with its own cuts; its cut flow and ``mHat`` values.

    ``options`` are the selection options of :func:`event_file` (``mass_window``, ...).
    Returns the :class:`ProcessSample` and the hard-process mass ``mHat`` (GeV) of every
    generated event, which shows what the generator-level cuts keep: e+e- -> Z/gamma*
    gamma peaks at the full 240 GeV, e+e- -> gamma gamma sits in the radiative-return window.

    Raises
    ------
    ParameterError
        For an unknown process name.
    """
    if process not in PROCESSES:
        raise ParameterError(f"unknown process {process!r}; choose one of: {', '.join(PROCESS_NAMES)}")
    gen = _Generator(process, seed=int(seed), cfg=_config(**options))
    m_hat = np.empty(int(n_generated))
    for k in range(int(n_generated)):
        gen.next()
        m_hat[k] = gen.pythia.infoPython().mHat()
    return _process_sample(gen.summary()), m_hat


def _process_sample(summary: dict[str, Any]) -> ProcessSample:
    name, sigma = summary["process"], float(summary["sigma_mb"]) * _MB_TO_FB
    generated, selected = int(summary["generated"]), int(summary["selected"])
    eff = selected / generated if generated else 0.0
    return ProcessSample(
        name,
        int(summary["label"]),
        GENERATOR_CUTS[name],
        sigma,
        float(summary["sigma_err_mb"]) * _MB_TO_FB,
        generated,
        int(summary["passed_filter"]),
        selected,
        eff,
        sigma * eff,
        generated / sigma if sigma > 0 else float("inf"),
    )


def _check_config(n_signal: int, n_background: int, cfg: dict[str, Any]) -> None:
    for name, n in (("n_signal", n_signal), ("n_background", n_background)):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ParameterError(f"{name} must be a positive integer, got {n!r}")
    unknown = [b for b in cfg["backgrounds"] if b not in BACKGROUNDS]
    if unknown or not cfg["backgrounds"]:
        raise ParameterError(
            f"unknown or empty background processes {cfg['backgrounds']}; "
            f"choose one or more of: {', '.join(BACKGROUNDS)}"
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
        names = [*BRANCHES, *(b for b in OPTIONAL_BRANCHES if b in tree.keys())]
        return {name: tree[name].array(library="np") for name in names}


def load_events(n_signal: int, n_background: int, **options: Any) -> dict[str, np.ndarray]:
    """Generate or load from the cache, then read: ``read_events(event_file(...))``."""
    return read_events(event_file(n_signal, n_background, **options))


def sample_composition(path: Path | str) -> pd.DataFrame:
    """Per-process cross section, cut flow, efficiency and effective luminosity of an event file.

    One row per process (index: process name) with the fields of :class:`ProcessSample`,
    plus ``fraction``: the share of the selected events of its class. The background rows
    share one luminosity (they are generated side by side), up to one event.

    Raises
    ------
    DataError
        If the file has no ``generation`` tree of this generator (an external file).
    """
    import pandas as pd
    import uproot

    path = Path(path)
    with uproot.open(path) as fh:
        if "generation" not in fh or "sigma_mb" not in fh["generation"].keys():
            raise DataError(
                f"{path} has no per-process 'generation' tree; composition is known only for files "
                f"written by qml.event_file (generator version {GENERATOR_VERSION})"
            )
        gen = fh["generation"].arrays(library="np")
    rows = [
        _process_sample({**{key: gen[key][k] for key in gen}, "process": PROCESS_NAMES[int(gen["process"][k])]})
        for k in range(len(gen["process"]))
    ]
    table = pd.DataFrame(rows).set_index("process")
    table["fraction"] = table["selected"] / table.groupby("label")["selected"].transform("sum")
    return table
