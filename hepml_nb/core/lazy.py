"""Lazy topic packages and clear errors for missing optional dependencies.

Every topic package (``hepml_nb.jets``, ``.qml``, ``.calo``, ``.fpga``) is declared the
same way, in the spirit of SPEC 1 (``lazy_loader``)::

    __getattr__, __dir__, __all__ = lazy_module(
        __name__, topic="jets", submodules=("models", "training"),
        attributes={"generation": ("generate_jets", "PROCESSES")})

``import hepml_nb.jets`` then imports none of its submodules: ``hepml_nb.jets.generate_jets``
imports ``hepml_nb.jets.generation`` on first use, and torch, qiskit or hls4ml load only
with the code that needs them. ``dir()`` (tab completion in Jupyter) lists every lazy name.

A heavy dependency that is not installed raises a :class:`MissingDependencyError` naming
the extra to install ("the qml topic needs qiskit: pip install 'hepml-nb[qml]'"), both
from the lazy loader and from imports inside functions (:func:`needs_extra`).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping

from hepml_nb.core.errors import HepmlError

__all__ = ["TOPIC_EXTRAS", "MissingDependencyError", "lazy_module", "missing_dependency_error", "needs_extra"]

#: Import name -> distribution name, for every optional dependency of every topic extra.
DISTRIBUTIONS = {
    "torch": "torch",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "uproot": "uproot",
    "awkward": "awkward",
    "pythia8mc": "pythia8mc",
    "fastjet": "fastjet",
    "vector": "vector",
    "h5py": "h5py",
    "zuko": "zuko",
    "hls4ml": "hls4ml",
    "qiskit": "qiskit",
    "qiskit_aer": "qiskit-aer",
    "qiskit_machine_learning": "qiskit-machine-learning",
    "qiskit_ibm_runtime": "qiskit-ibm-runtime",
    "pyqpanda3": "pyqpanda3",
    "da4ml": "da4ml",
}

#: The import names each topic extra (``pip install 'hepml-nb[<topic>]'``) provides
#: (tests/test_core_lazy.py checks this against pyproject.toml).
TOPIC_EXTRAS: dict[str, tuple[str, ...]] = {
    "jets": ("torch", "onnx", "onnxruntime", "uproot", "awkward", "pythia8mc", "fastjet", "vector"),
    "qml": (
        "qiskit",
        "qiskit_aer",
        "qiskit_machine_learning",
        "qiskit_ibm_runtime",
        "pyqpanda3",
        "pythia8mc",
        "uproot",
        "awkward",
    ),
    "calo": ("torch", "h5py", "zuko"),
    "fpga": ("hls4ml", "da4ml", "torch", "onnx", "onnxruntime", "uproot", "awkward", "pythia8mc", "fastjet", "vector"),
}


class MissingDependencyError(HepmlError, ModuleNotFoundError):
    """An optional dependency of a topic is not installed; the message names the extra to install."""


def missing_dependency_error(exc: ModuleNotFoundError, topic: str) -> ModuleNotFoundError:
    """``exc`` turned into a :class:`MissingDependencyError` when it is a dependency of ``topic``'s extra.

    Any other missing module (a bug, or a dependency of a dependency) is returned unchanged.
    """
    root = (exc.name or "").split(".")[0]
    if isinstance(exc, MissingDependencyError) or root not in TOPIC_EXTRAS.get(topic, ()):
        return exc
    error = MissingDependencyError(
        f"the {topic} topic needs {DISTRIBUTIONS[root]}: pip install 'hepml-nb[{topic}]' "
        f"(or 'hepml-nb[all]' for every topic)",
        name=root,
    )
    error.__cause__ = exc
    return error


@contextlib.contextmanager
def needs_extra(topic: str) -> Iterator[None]:
    """Turn a missing optional dependency imported in the block into a :class:`MissingDependencyError`::

    with needs_extra("fpga"):
        import hls4ml
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        error = missing_dependency_error(exc, topic)
        if error is exc:
            raise
        raise error from exc


def lazy_module(
    package: str,
    *,
    topic: str,
    submodules: Iterable[str] = (),
    attributes: Mapping[str, Iterable[str]] | None = None,
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """Module-level ``__getattr__``, ``__dir__`` and ``__all__`` for a lazily loaded topic package.

    Parameters
    ----------
    package
        The package's ``__name__``.
    topic
        Its extra (``jets``, ``qml``, ``calo``, ``fpga``), named in missing-dependency errors.
    submodules
        Submodules reachable as attributes (``hepml_nb.jets.models``), imported on first access.
    attributes
        ``{submodule: names}``: public names re-exported from each submodule, imported on first access.

    Returns
    -------
    __getattr__, __dir__, __all__
        ``__all__`` holds the attribute names (not the submodules) in the order given.
    """
    where = {name: sub for sub, names in (attributes or {}).items() for name in names}
    subs = set(submodules) | set(attributes or {})
    public = list(where)

    def __getattr__(name: str) -> object:
        if name not in where and name not in subs:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        with needs_extra(topic):
            module = importlib.import_module(f"{package}.{where.get(name, name)}")
        value = getattr(module, name) if name in where else module
        setattr(sys.modules[package], name, value)  # later look-ups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*public, *subs})

    return __getattr__, __dir__, public
