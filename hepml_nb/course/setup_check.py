"""Checks behind the setup notebook: does every piece a workshop needs work on this machine?

Each check returns a :class:`Check` (name, ok, detail, fix) and never raises, so a
participant sees the whole table, with the fix for every failure, in one run.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hepml_nb.core.devices import cpu_threads, torch_seed
from hepml_nb.core.exercises import checker, expect_close

__all__ = [
    "Check",
    "PACKAGES",
    "check_imports",
    "check_hardware",
    "check_uproot",
    "check_qiskit",
    "check_hls4ml",
    "check_pythia_fastjet",
    "run_checks",
    "checks_table",
    "check_invariant_mass",
]

PIP_FIX = "reinstall the project with every topic: pip install -e '.[all]' (from the repository folder)"
PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
    "mplhep",
    "hist",
    "sklearn",
    "torch",
    "onnx",
    "onnxruntime",
    "uproot",
    "awkward",
    "h5py",
    "zuko",
    "pythia8mc",
    "fastjet",
    "qiskit",
    "qiskit_aer",
    "qiskit_machine_learning",
    "qiskit_ibm_runtime",
    "hls4ml",
    "papermill",
    "nbval",
    "ipywidgets",
    "dask",
    "distributed",
    "tqdm",
)


class Check(NamedTuple):
    """Outcome of one check: ``detail`` says what was seen, ``fix`` what to do when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _guarded(name: str, fix: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, True, fn())
    except Exception as exc:  # noqa: BLE001 - every failure becomes a row of the table, never a crash
        return Check(name, False, f"{type(exc).__name__}: {exc}"[:300], fix)


def check_imports(packages: tuple[str, ...] = PACKAGES) -> list[Check]:
    """Import every package and report its version."""

    def one(pkg: str) -> str:
        module = importlib.import_module(pkg)
        return f"version {getattr(module, '__version__', '?')}"

    return [_guarded(f"import {pkg}", PIP_FIX, functools.partial(one, pkg)) for pkg in packages]


def check_hardware() -> list[Check]:
    """CPU threads available and whether torch sees a CUDA GPU (both informational)."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU is used)"
    return [Check("CPU threads", True, f"{cpu_threads()} on {platform.machine()}"), Check("CUDA GPU", True, gpu)]


def _uproot_roundtrip() -> str:
    import awkward as ak
    import uproot

    rng = np.random.default_rng(1)
    counts = rng.integers(1, 6, 50)
    px = ak.unflatten(rng.normal(size=counts.sum()), counts)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "check.root"
        with uproot.recreate(path) as fh:
            fh["tree"] = {"jet_pt": rng.exponential(100, 50), "part": ak.zip({"px": px})}
        back = uproot.open(path)["tree"].arrays()
    if len(back) != 50 or not ak.all(back["part", "px"] == px):
        raise RuntimeError("data read back differ from what was written")
    return f"50 entries with a jagged branch written and read back (uproot {uproot.__version__})"


def check_uproot() -> Check:
    """Write and read back a small ROOT file with a jagged branch."""
    return _guarded("ROOT I/O (uproot)", PIP_FIX, _uproot_roundtrip)


def _bell_counts(shots: int, seed: int) -> dict[str, int]:
    from qiskit import QuantumCircuit, transpile
    from qiskit_aer import AerSimulator

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    sim = AerSimulator(seed_simulator=seed)
    return sim.run(transpile(circuit, sim), shots=shots).result().get_counts()


def check_qiskit(shots: int = 1000, seed: int = 1) -> Check:
    """A 2-qubit Bell state on the Aer simulator gives only 00 and 11, about half each."""

    def run() -> str:
        counts = _bell_counts(shots, seed)
        if set(counts) != {"00", "11"} or abs(counts["00"] / shots - 0.5) > 0.1:
            raise RuntimeError(f"unexpected counts {counts}")
        return f"Bell state counts {dict(sorted(counts.items()))}"

    return _guarded("quantum circuit (qiskit-aer)", PIP_FIX, run)


def _hls4ml_roundtrip(seed: int) -> str:
    import hls4ml
    import torch

    if shutil.which("g++") is None:
        raise RuntimeError("no g++ on PATH")
    with torch_seed(seed):  # seeded weights without reseeding the caller's random stream
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).eval()
    x = np.random.default_rng(seed).uniform(-1, 1, (64, 4)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        config = hls4ml.utils.config_from_pytorch_model(
            model, (4,), granularity="model", default_precision="ap_fixed<16,6>", backend="Vitis"
        )
        hls_model = hls4ml.converters.convert_from_pytorch_model(
            model, hls_config=config, output_dir=str(Path(tmp) / "prj"), backend="Vitis", io_type="io_parallel"
        )
        start = time.perf_counter()
        hls_model.compile()
        seconds = time.perf_counter() - start
        y_hls = np.asarray(hls_model.predict(x)).reshape(64, 3)
    with torch.no_grad():
        y_torch = model(torch.from_numpy(x)).numpy()
    diff = float(np.max(np.abs(y_hls - y_torch)))
    if diff > 0.05:
        raise RuntimeError(f"fixed-point output differs from torch by {diff:.3g}")
    return f"compiled in {seconds:.1f} s; max |hls4ml - torch| = {diff:.2g} at ap_fixed<16,6>"


def check_hls4ml(seed: int = 1) -> Check:
    """Convert a tiny PyTorch model with hls4ml, compile it with g++ and compare with torch."""
    return _guarded(
        "FPGA emulation (hls4ml + g++)",
        "install a C++ compiler (Debian/Ubuntu: apt install g++; conda: conda install gxx)",
        lambda: _hls4ml_roundtrip(seed),
    )


def cluster_pythia_events(n_events: int, *, radius: float = 0.4, pt_min: float = 20.0, seed: int = 1) -> list[int]:
    """Generate ``n_events`` pp -> dijet events at 14 TeV and return anti-kT jets above ``pt_min`` per event."""
    import fastjet
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in (
        "Beams:eCM = 14000.",
        "HardQCD:all = on",
        "PhaseSpace:pTHatMin = 100.",
        "PartonLevel:MPI = off",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        "Next:numberCount = 0",
        "Print:quiet = on",
    ):
        pythia.readString(line)
    if not pythia.init():
        raise RuntimeError("Pythia8 failed to initialise")
    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, radius)
    counts = []
    for _ in range(n_events):
        if not pythia.next():
            continue
        particles = [
            fastjet.PseudoJet(p.px(), p.py(), p.pz(), p.e()) for p in pythia.event if p.isFinal() and p.isVisible()
        ]
        jets = fastjet.ClusterSequence(particles, definition).inclusive_jets(pt_min)
        counts.append(len(jets))
    return counts


def check_pythia_fastjet(n_events: int, *, radius: float = 0.4, seed: int = 1) -> Check:
    """Generate a few Pythia8 events and cluster them with fastjet."""

    def run() -> str:
        counts = cluster_pythia_events(n_events, radius=radius, seed=seed)
        if not counts or min(counts) < 1:
            raise RuntimeError(f"expected at least one jet per dijet event, got {counts}")
        return f"{len(counts)} events, {np.mean(counts):.1f} anti-kT R={radius} jets per event"

    return _guarded("event generation (Pythia8 + fastjet)", PIP_FIX, run)


def run_checks(*, n_events: int = 20, radius: float = 0.4, hls4ml: bool = True, seed: int = 1) -> list[Check]:
    """Every check of the setup notebook, in order."""
    checks = [*check_imports(), *check_hardware(), check_uproot(), check_qiskit(seed=seed)]
    if hls4ml:
        checks.append(check_hls4ml(seed))
    checks.append(check_pythia_fastjet(n_events, radius=radius, seed=seed))
    return checks


def checks_table(checks: list[Check]):
    """The checks as a pandas DataFrame with an OK / FAILED column and the fix."""
    import pandas as pd

    return pd.DataFrame(
        {
            "check": [c.name for c in checks],
            "status": ["OK" if c.ok else "FAILED" for c in checks],
            "detail": [c.detail for c in checks],
            "fix": [c.fix for c in checks],
        }
    )


def _mass(p1, p2) -> float:
    e, px, py, pz = np.asarray(p1, dtype=float) + np.asarray(p2, dtype=float)
    return float(np.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0)))


@checker
def check_invariant_mass(answer, p1, p2) -> None:
    """Exercise checker: invariant mass of two four-vectors (E, px, py, pz) in GeV."""
    expect_close(
        answer,
        _mass(p1, p2),
        what="invariant mass",
        rtol=1e-6,
        hint="m^2 = (E1+E2)^2 - |p1+p2|^2: add the four-vectors first, then take the square root",
    )
