"""pyproject.toml, environment.yml and binder/ install the same packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower().replace("_", "-")


def _pip_section(path: Path) -> set[str]:
    env = yaml.safe_load(path.read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {_normalise(r) for r in pip if not r.startswith("-")}


def _pyproject_union() -> set[str]:
    """The core dependencies plus every extra's (references to hepml-nb's own extras and pytest left out).

    ``fpga-rtl`` (WebAssembly builds of Yosys and nextpnr, an alternative to the system tools for users
    without root) is not part of the environments.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [
        r for name, reqs in project["optional-dependencies"].items() if name not in ("dev", "fpga-rtl") for r in reqs
    ]
    return {_normalise(r) for r in [*project["dependencies"], *extras] if not _normalise(r).startswith("hepml-nb")}


def _dev_pip_only() -> set[str]:
    """The dev extra's packages that environment.yml installs with pip (not conda packages): weaver-core."""
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    conda = {d for d in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"] if isinstance(d, str)}
    return {_normalise(r) for r in dev if not r.startswith("hepml-nb") and r not in conda}


def test_environment_files_match_pyproject():
    deps = _pyproject_union()
    assert _dev_pip_only() == {"weaver-core>=0.5.3"}
    assert _pip_section(ROOT / "environment.yml") == deps | _dev_pip_only()
    assert _pip_section(ROOT / "binder" / "environment.yml") == deps


def test_binder_postbuild_installs_package():
    post = ROOT / "binder" / "postBuild"
    assert "pip install" in post.read_text() and "-e ." in post.read_text()
    assert post.stat().st_mode & 0o111, "postBuild must be executable"


def test_ci_runs_readme_test_command():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    command = re.search(r"<!-- test-command -->\s*```(?:bash)?\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in ci
