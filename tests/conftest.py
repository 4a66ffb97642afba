"""Shared fixtures: Agg backend, a session-wide data cache and run folder, a seed, exercise verdicts,
and notebook runs in the ci profile."""

from __future__ import annotations

import collections
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: no spinning threads on shared cores

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--paper",
        action="store_true",
        help="also run the tests marked 'paper' (acceptance checks at an issue's full scale, long on 2 CPU cores)",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--paper"):
        return
    skip = pytest.mark.skip(reason="paper-scale acceptance check: run with --paper")
    for item in items:
        if "paper" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    """Generated data go to one cache per test session ($HEPML_NB_TEST_CACHE keeps it between sessions)."""
    old = os.environ.get("HEPML_NB_CACHE")
    os.environ["HEPML_NB_CACHE"] = os.environ.get("HEPML_NB_TEST_CACHE") or str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("HEPML_NB_CACHE", None)
    else:
        os.environ["HEPML_NB_CACHE"] = old


@pytest.fixture(scope="session", autouse=True)
def _session_run_dir(tmp_path_factory):
    """Results written outside a test's own run folder (checker verdicts, metrics) land in a temporary folder."""
    old = os.environ.get("HEPML_NB_RUN_DIR")
    os.environ["HEPML_NB_RUN_DIR"] = str(tmp_path_factory.mktemp("run"))
    yield
    if old is None:
        os.environ.pop("HEPML_NB_RUN_DIR", None)
    else:
        os.environ["HEPML_NB_RUN_DIR"] = old


@pytest.fixture
def verdict(tmp_path, monkeypatch):
    """``verdict(check, *args, **kwargs) -> str``: call an exercise checker, return the verdict it recorded.

    The checker must return None (nothing for Jupyter to display); the verdict is read back from
    ``exercises.json`` of a private run folder: "correct", "incorrect" or "not attempted".
    """
    from hepml_nb.core.exercises import load_verdicts

    folder = tmp_path / "verdicts"
    monkeypatch.setenv("HEPML_NB_RUN_DIR", str(folder))

    def _call(check, *args, **kwargs) -> str:
        assert check(*args, **kwargs) is None
        return next(v["verdict"] for v in load_verdicts(folder) if v["exercise"] == check.__name__)

    return _call


@pytest.fixture
def seed() -> int:
    return 12345


@pytest.fixture
def feature_blobs(seed):
    """600 jets of 16 shifted features in 5 Gaussian classes (X float32 (600, 16), y (600,)), for the fpga tagger."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, 600)
    centres = rng.normal(scale=3.0, size=(5, 16))
    return (centres[y] + rng.normal(size=(600, 16)) * 2 + 10).astype(np.float32), y


def count_notebook_reads(mp: pytest.MonkeyPatch) -> collections.Counter:
    """Count, by resolved path, the notebook files read from now on with ``nbformat.read`` or papermill's file
    reader (issue #26: each notebook is read once per run); ``mp`` undoes it."""
    import nbformat
    from papermill.iorw import LocalHandler

    reads: collections.Counter = collections.Counter()
    read, local_read = nbformat.read, LocalHandler.read

    def counted_read(fp, *args, **kwargs):
        if isinstance(fp, (str, os.PathLike)):
            reads[Path(fp).resolve()] += 1
        return read(fp, *args, **kwargs)

    def counted_local_read(self, path):
        reads[Path(path).resolve()] += 1
        return local_read(self, path)

    mp.setattr(nbformat, "read", counted_read)
    mp.setattr(LocalHandler, "read", counted_local_read)
    return reads


@pytest.fixture
def notebook_reads(monkeypatch) -> collections.Counter:
    """The notebook files read during the test, by resolved path (:func:`count_notebook_reads`)."""
    return count_notebook_reads(monkeypatch)


@pytest.fixture
def h5_opens(monkeypatch) -> list[str]:
    """The names of the files opened for reading with ``h5py.File`` during the test, in order."""
    import h5py

    opened, real = [], h5py.File

    def counting(name, mode="r", *args, **kwargs):
        if mode == "r":
            opened.append(Path(name).name)
        return real(name, mode, *args, **kwargs)

    monkeypatch.setattr(h5py, "File", counting)
    return opened


@pytest.fixture
def root_opens(monkeypatch) -> list[str]:
    """The names of the files opened with ``uproot.open`` during the test, in order."""
    import uproot

    opened, real = [], uproot.open

    def counting(path, *args, **kwargs):
        opened.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(uproot, "open", counting)
    return opened


def write_jet_file(path: Path, n: int = 3) -> Path:
    """A JetClass-schema file of ``n`` QCD jets of two particles each, written with hepml_nb's writer (test helper)."""
    import awkward as ak

    from hepml_nb.jets.io import write_jetclass

    def eta(v: float) -> float:  # of a particle (v, v, v), the jet at eta = 0: JetClass's part_deta
        return float(np.arcsinh(v / np.hypot(v, v)))

    part = {k: ak.Array([[3.0, 1.0]] * n) for k in ("px", "py", "pz", "energy", "dphi")}
    part["deta"] = ak.Array([[eta(3.0), eta(1.0)]] * n)
    arrays = {
        "part": part,
        "jet_pt": np.full(n, 600.0),
        "jet_eta": np.zeros(n),
        "jet_phi": np.zeros(n),
        "jet_energy": np.full(n, 700.0),
    }
    return write_jetclass(path, arrays, label="label_QCD")


@pytest.fixture
def cuda_unqueried(monkeypatch):
    """A resolved ``torch.device("cpu")``; resolving a device name (its check, or asking torch whether CUDA is
    there) fails the test. Issue #26: the notebook resolves ``device`` once, and the library takes the resolved
    device without resolving it again."""
    import torch

    import hepml_nb.core.devices as devices

    def resolved_again(*args):
        raise AssertionError(f"a device was resolved again {args}: pass the resolved torch.device down")

    monkeypatch.setattr(torch.cuda, "is_available", resolved_again)
    monkeypatch.setattr(devices, "check_device_name", resolved_again)
    return torch.device("cpu")


@pytest.fixture
def one_torch_thread():
    """Tiny tensors: one torch thread avoids OpenMP spin-waiting on a shared CPU."""
    from hepml_nb.core.devices import torch_threads

    with torch_threads(1):
        yield


FAKE_IBM_TOKEN = "fake-ibm-token-7d1e5b3a-never-print-me"
CI_RUN_LOG = "ci_run_output.txt"


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory):
    """``ci_run(topic) -> (run_dir, metrics)``: the topic's notebook executed once per session, ci profile.

    Every run sees the fake IBM token ``FAKE_IBM_TOKEN`` in ``$QISKIT_IBM_TOKEN`` (a secret must never
    show up in a run's files), and the notebook's streamed output is kept in ``run_dir / CI_RUN_LOG``.
    """
    import contextlib
    import io

    from hepml_nb.course.runner import execute

    done: dict[str, tuple[Path, dict] | BaseException] = {}
    base = tmp_path_factory.mktemp("ci_runs")

    def _run(topic: str) -> tuple[Path, dict]:
        if topic not in done:
            log = io.StringIO()
            try:
                with (
                    pytest.MonkeyPatch.context() as mp,
                    contextlib.redirect_stdout(log),
                    contextlib.redirect_stderr(log),
                ):
                    mp.setenv("QISKIT_IBM_TOKEN", FAKE_IBM_TOKEN)
                    result = execute(topic, "ci", base / topic, log_output=True)
                (result.run_dir / CI_RUN_LOG).write_text(log.getvalue())
                done[topic] = (result.run_dir, result.metrics)
            except Exception as exc:  # noqa: BLE001 - remember the failure: later requests fail the same way
                (base / topic).mkdir(parents=True, exist_ok=True)
                (base / topic / CI_RUN_LOG).write_text(log.getvalue())
                done[topic] = exc
        outcome = done[topic]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return _run


def write_notebook(path: Path, params: str, *cells: str, kernel: str = "python3") -> Path:
    """Write a small notebook: an import cell, a parameters cell, then ``cells`` (test helper)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    param_cell = new_code_cell(params, metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[new_code_cell("import hepml_nb as hn"), param_cell, *(new_code_cell(c) for c in cells)])
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def toy_notebooks(tmp_path, monkeypatch):
    """A notebooks folder whose 'setup' notebook is a fast toy that records metrics (and can fail on demand)."""
    folder = tmp_path / "notebooks"
    write_notebook(
        folder / "00_setup_check.ipynb",
        "n_events = 20  # events\njet_radius = 0.4  # radius\ncheck_fpga = True  # fpga\n"
        "seed = 1  # seed\nfail_on_error = True  # fail",
        "value = n_events * jet_radius + seed",
        "if seed < 0:\n    raise ValueError(f'negative seed {seed}')",
        "hn.record_metrics(value=value, n_events=n_events)",
        kernel="no-such-kernel",
    )
    monkeypatch.setenv("HEPML_NB_NOTEBOOKS", str(folder))
    return folder


@pytest.fixture
def net_483(seed):
    """A 4-8-3 quantised network with random weights (4-bit weights, 6-bit activations), for the RTL tests."""
    from hepml_nb.fpga import rtl
    from hepml_nb.fpga.models import build_tagger

    model = build_tagger(4, 3, hidden=(8,), seed=seed)
    return rtl.quantize_tagger(
        model, input_type="ap_fixed<8,3>", weight_bits=4, activation_type="ap_ufixed<6,2>", output_type="ap_fixed<10,4>"
    )


@pytest.fixture
def jets(seed):
    """300 random standardised 4-feature inputs for the 4-8-3 network."""
    return np.random.default_rng(seed).normal(scale=2.0, size=(300, 4))


def toy_showers(geometry: str, n: int, *, seed: int, response: float = 0.9):
    """Showers with a depth profile, a radial falloff, empty cells and fluctuations in any layout,
    including those GFlash cannot simulate into (dataset 1): for files the tests write."""
    from hepml_nb.calo.data import ShowerSet
    from hepml_nb.calo.geometry import get_geometry

    geo = get_geometry(geometry)
    rng = np.random.default_rng(seed)
    e_gev = np.exp(rng.uniform(np.log(1.0), np.log(100.0), n))
    layer = geo.cell_layer()
    x, y = geo.cell_centres()
    depth = layer / max(geo.n_layers - 1, 1)
    peak = rng.normal(0.3, 0.05, (n, 1)) + 0.05 * np.log(e_gev)[:, None]  # deeper at higher energy
    shape = np.exp(-0.5 * ((depth - peak) / 0.2) ** 2) * np.exp(-np.hypot(x, y) / rng.uniform(15, 25, (n, 1)))
    cells = shape * rng.lognormal(0.0, 0.5, shape.shape) * (rng.random(shape.shape) > 0.3)
    total = response * 1000.0 * e_gev * rng.normal(1.0, 0.05, n)
    cells = cells / cells.sum(1, keepdims=True) * total[:, None]
    return ShowerSet(e_gev, cells.astype(np.float32), geometry)
