"""Lazy topic packages (hepml_nb.core.lazy): nothing heavy on import, completion, missing-extra errors."""

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from hepml_nb.core.errors import HepmlError
from hepml_nb.core.lazy import TOPIC_EXTRAS, MissingDependencyError, lazy_module, needs_extra

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ("jets", "qml", "calo", "fpga")
HEAVY = (
    "torch",
    "qiskit",
    "qiskit_aer",
    "qiskit_machine_learning",
    "qiskit_ibm_runtime",
    "hls4ml",
    "pythia8mc",
    "fastjet",
    "onnx",
    "onnxruntime",
    "uproot",
    "awkward",
    "h5py",
)


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_lazy_module_topic_import_loads_no_heavy_dependency():
    out = _python(f"""
        import json, sys
        import hepml_nb, hepml_nb.jets, hepml_nb.qml, hepml_nb.calo, hepml_nb.fpga
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
    """)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize("topic", TOPICS)
def test_lazy_module_dir_lists_every_public_name(topic):
    import importlib

    package = importlib.import_module(f"hepml_nb.{topic}")
    names = dir(package)
    assert set(package.__all__) <= set(names)
    assert "exercises" in names  # submodules complete too
    for name in package.__all__:  # every advertised name resolves
        assert getattr(package, name) is not None


def test_lazy_module_unknown_name_raises_attribute_error():
    import hepml_nb.calo

    with pytest.raises(AttributeError, match="module 'hepml_nb.calo' has no attribute 'no_such_thing'"):
        hepml_nb.calo.no_such_thing  # noqa: B018


@pytest.mark.parametrize(
    ("topic", "missing", "name"),
    [
        ("calo", "torch", "train_wgan_gp"),
        ("jets", "torch", "models"),
        ("fpga", "hls4ml", None),
        ("qml", "qiskit", None),
    ],
)
def test_lazy_module_missing_dependency_names_the_extra(topic, missing, name):
    # the loader (an attribute of the package) or an import inside a function (fpga, qml)
    use = (
        f"getattr(hepml_nb.{topic}, {name!r})"
        if name
        else {"fpga": "hepml_nb.fpga.hls_config(None)", "qml": "hepml_nb.qml.fake_backend('fake_lagos')"}[topic]
    )
    out = _python(f"""
        import sys

        class Missing:  # simulate a package that is not installed (sys.modules[name] = None would
            def find_spec(self, name, path=None, target=None):  # also trip scipy's torch detection)
                if name.split(".")[0] == {missing!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

        sys.meta_path.insert(0, Missing())
        import hepml_nb.{topic}
        from hepml_nb.core.lazy import MissingDependencyError
        try:
            {use}
        except MissingDependencyError as exc:
            print(exc)
    """)
    assert out.returncode == 0, out.stderr
    pip_name = missing.replace("_", "-")
    assert out.stdout.strip().startswith(f"the {topic} topic needs {pip_name}: pip install 'hepml-nb[{topic}]'")


def test_needs_extra_leaves_other_missing_modules_alone():
    with pytest.raises(ModuleNotFoundError) as info, needs_extra("qml"):
        import hepml_nb_no_such_module  # noqa: F401
    assert not isinstance(info.value, HepmlError)


def test_needs_extra_error_is_a_hepml_and_module_not_found_error():
    with pytest.raises(MissingDependencyError, match=r"pip install 'hepml-nb\[calo\]'") as info, needs_extra("calo"):
        raise ModuleNotFoundError("No module named 'h5py'", name="h5py")
    assert isinstance(info.value, HepmlError) and isinstance(info.value, ModuleNotFoundError)
    assert info.value.name == "h5py"


def test_lazy_module_returns_getattr_dir_all():
    getattr_, dir_, all_ = lazy_module(
        "hepml_nb.calo", topic="calo", submodules=("plots",), attributes={"geometry": ("get_geometry",)}
    )
    assert all_ == ["get_geometry"] and dir_() == ["geometry", "get_geometry", "plots"]
    assert getattr_("get_geometry").__name__ == "get_geometry"


def test_topic_extras_match_pyproject():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]

    def names(topic: str) -> set[str]:
        out = set()
        for req in extras[topic]:
            dist = req.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip()
            if dist == "hepml-nb":
                for sub in req.split("[")[1].rstrip("]").split(","):
                    out |= names(sub)
            else:
                out.add(dist.replace("-", "_"))
        return out

    for topic in TOPICS:
        assert names(topic) == set(TOPIC_EXTRAS[topic]), topic
    assert set(extras["all"][0].split("[")[1].rstrip("]").split(",")) == set(TOPICS)
