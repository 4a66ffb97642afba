"""Notebook text sources (jupytext pairs), copies of the notebooks for users, and the package as a wheel."""

import ast
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

from hepml_nb.core.errors import OutputError
from hepml_nb.course.catalog import TOPICS
from hepml_nb.course.cli import main as cli_main
from hepml_nb.course.params import read_parameters
from hepml_nb.course.sources import check_notebook_sources, copy_notebooks
from hepml_nb.course.sources import main as sources_main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture
def pairs(tmp_path):
    """A copy of notebooks/ (pairs and jupytext.toml) to break."""
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return folder


def _sync(text: Path) -> None:
    """``jupytext --sync`` after making the text file the newer of the pair."""
    from jupytext.cli import jupytext

    later = text.with_suffix(".ipynb").stat().st_mtime + 10
    os.utime(text, (later, later))
    jupytext(["--quiet", "--sync", str(text)])


def _ids(path: Path) -> list[str]:
    return [c.id for c in nbformat.read(path, as_version=4).cells]


def test_check_notebook_sources_repository_in_sync():
    assert check_notebook_sources(NOTEBOOKS) == []
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.py")) == sorted(Path(t.notebook).stem for t in TOPICS.values())


@pytest.mark.parametrize("topic", [k for k, t in TOPICS.items() if "device" in read_parameters(NOTEBOOKS / t.notebook)])
def test_notebook_resolves_its_device_parameter_once(topic):
    """issue #26: ``device = hn.resolve_device(device)`` once, then the resolved torch.device goes to the library
    (which takes it as it is); no other cell resolves the parameter again."""
    tree = ast.parse((NOTEBOOKS / TOPICS[topic].notebook).with_suffix(".py").read_text())
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", "")) == "resolve_device"
        and any(isinstance(a, ast.Name) and a.id == "device" for a in node.args)
    ]
    assert len(calls) == 1, f"{topic}: resolve_device(device) {len(calls)} times"
    rebinds = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and node.value is calls[0]
        and [getattr(t, "id", None) for t in node.targets] == ["device"]
    ]
    assert rebinds, f"{topic}: write device = hn.resolve_device(device), so the cells after it pass the resolved one"


def test_check_notebook_sources_detects_edited_text(pairs):
    text = pairs / "01_particlenet_jet_tagging.py"
    text.write_text(text.read_text().replace("# ## 1. Generating jets", "# ## 1. Making jets", 1))
    problems = check_notebook_sources(pairs)
    assert len(problems) == 1
    assert "01_particlenet_jet_tagging.py" in problems[0] and "source" in problems[0]
    assert "jupytext --sync" in problems[0]


def test_check_notebook_sources_detects_added_cell(pairs):
    text = pairs / "00_setup_check.py"
    text.write_text(text.read_text() + "\n# %%\nprint('one more cell')\n")
    (problem,) = check_notebook_sources(pairs)
    assert "cells" in problem and "jupytext --sync" in problem


def test_check_notebook_sources_detects_outputs(pairs):
    path = pairs / "02_qml_qsvm_higgs.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.execution_count = 1
    code.outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    nbformat.write(nb, path)
    (problem,) = check_notebook_sources(pairs)
    assert "carries outputs" in problem and "nbstripout --keep-id" in problem


def test_check_notebook_sources_detects_missing_partner(pairs):
    (pairs / "03_gan_shower_validation.py").unlink()
    (pairs / "04_fpga_latency_hls4ml.ipynb").unlink()
    problems = check_notebook_sources(pairs)
    assert any("has no text source 03_gan_shower_validation.py" in p for p in problems)
    assert any("has no paired notebook 04_fpga_latency_hls4ml.ipynb" in p for p in problems)


def test_sources_main_check_exit_status(pairs, capsys):
    assert sources_main(["--check", str(pairs)]) == 0
    text = pairs / "00_setup_check.py"
    text.write_text(text.read_text().replace("n_events = 20", "n_events = 30", 1))
    assert sources_main(["--check", str(pairs)]) == 1
    assert "00_setup_check.py" in capsys.readouterr().err


def test_sync_keeps_cell_ids_of_other_cells(pairs):
    """Editing one cell's text, or inserting a cell, in the .py and syncing renumbers no other cell."""
    text, ipynb = pairs / "01_particlenet_jet_tagging.py", pairs / "01_particlenet_jet_tagging.ipynb"
    before = _ids(ipynb)
    source = text.read_text()
    assert source.count('use_style("ROOT")') == 1
    text.write_text(source.replace('use_style("ROOT")', 'use_style("ROOT")  # CMS-like style'))
    _sync(text)
    assert _ids(ipynb) == before
    assert check_notebook_sources(pairs) == []
    text.write_text(
        text.read_text().replace("# %% [markdown]\n# ## 1.", "# %%\nprint('new cell')\n\n# %% [markdown]\n# ## 1.", 1)
    )
    _sync(text)
    after = _ids(ipynb)
    assert len(after) == len(before) + 1 and len(set(after)) == len(after)
    assert [i for i in after if i in before] == before  # every old cell keeps its id, in order
    assert check_notebook_sources(pairs) == []


def test_copy_notebooks_copies_the_topic_notebooks(tmp_path):
    copied = copy_notebooks(tmp_path / "nb")
    assert sorted(p.name for p in copied) == sorted(t.notebook for t in TOPICS.values())
    assert all(p.read_bytes() == (NOTEBOOKS / p.name).read_bytes() for p in copied)
    assert copy_notebooks(tmp_path / "nb") == copied  # identical files: nothing to refuse


def test_copy_notebooks_refuses_to_replace_changed_file(tmp_path):
    out = tmp_path / "nb"
    copied = copy_notebooks(out)
    edited, removed = copied[1], copied[2]
    edited.write_text(edited.read_text().replace("Jet tagging", "My jet tagging", 1))
    removed.unlink()
    with pytest.raises(OutputError, match=r"differ .*01_particlenet_jet_tagging.ipynb.*nothing was copied.*--force"):
        copy_notebooks(out)
    assert "My jet tagging" in edited.read_text()
    assert not removed.exists()  # refused before anything was copied


def test_copy_notebooks_force_replaces(tmp_path):
    out = tmp_path / "nb"
    edited = copy_notebooks(out)[0]
    edited.write_text("{}")
    copy_notebooks(out, force=True)
    assert edited.read_bytes() == (NOTEBOOKS / edited.name).read_bytes()


def test_copy_notebooks_student_builds(tmp_path):
    copied = copy_notebooks(tmp_path / "nb", student=True)
    student = [p for p in copied if p.parent.name == "student"]
    assert len(student) == len(TOPICS) and len(copied) == 2 * len(TOPICS)
    text = (tmp_path / "nb" / "student" / "00_setup_check.ipynb").read_text()
    assert "YOUR CODE HERE" in text and "BEGIN SOLUTION" not in text
    assert copy_notebooks(tmp_path / "nb", student=True) == copied  # student builds are reproducible


def test_cli_notebooks_command(tmp_path, capsys):
    out = tmp_path / "nb"
    assert cli_main(["notebooks", str(out)]) == 0
    assert "00_setup_check.ipynb" in capsys.readouterr().out
    (out / "00_setup_check.ipynb").write_text("{}")
    assert cli_main(["notebooks", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert cli_main(["notebooks", str(out), "--force", "--student"]) == 0
    assert (out / "student" / "04_fpga_latency_hls4ml.ipynb").is_file()


def test_cli_version(capsys):
    import hepml_nb

    with pytest.raises(SystemExit) as exit_:
        cli_main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"hepml-nb {hepml_nb.__version__}"


def test_pyproject_lists_every_package_folder():
    """[tool.setuptools] packages is explicit (for the notebooks mapping): it must name every folder."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.relative_to(ROOT).parts)
        for p in [ROOT / "hepml_nb", *(ROOT / "hepml_nb").rglob("*")]
        if p.is_dir() and p.name != "__pycache__" and not p.name.startswith(".")
    }
    assert listed == found | {"hepml_nb._notebooks"}


def test_environment_has_dev_tools():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    pip = next(d["pip"] for d in conda if isinstance(d, dict) and "pip" in d)  # PyPI-only tools (weaver-core)
    assert {r for r in extra if not r.startswith("hepml-nb")} <= {d for d in conda if isinstance(d, str)} | set(pip)


@pytest.mark.slow
def test_wheel_ships_notebooks_and_pretrained_files(tmp_path):
    """Built as a wheel and installed (not editable), hepml_nb finds its notebooks inside the installation."""
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for name in ("hepml_nb", "notebooks"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(src)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("hepml_nb-*.whl")
    target = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    probe = (
        "import json, hepml_nb; from hepml_nb.course.catalog import notebooks_dir;"
        "from importlib.resources import files;"
        "d = notebooks_dir(); p = files('hepml_nb');"
        "print(json.dumps({'file': hepml_nb.__file__, 'dir': str(d), 'version': hepml_nb.__version__,"
        "'notebooks': sorted(x.name for x in d.iterdir()),"
        "'pretrained': sorted(str(x.name) for s in ('jets', 'calo') for x in (p / s / 'pretrained').iterdir())}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "HEPML_NB_NOTEBOOKS"} | {"PYTHONPATH": str(target)}
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    found = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], env=env, cwd=workdir, check=True, capture_output=True, text=True
        ).stdout
    )
    assert Path(found["file"]).is_relative_to(target), f"imported {found['file']}, not the installed wheel"
    assert Path(found["dir"]) == target / "hepml_nb" / "_notebooks"
    names = {t.notebook for t in TOPICS.values()}
    assert names | {Path(n).with_suffix(".py").name for n in names} <= set(found["notebooks"])
    assert {"particlenet_lite.pt", "particlenet_lite.json", "calogan_generator.pt", "calogan_generator.json"} <= set(
        found["pretrained"]
    )
    assert wheel.name.startswith(f"hepml_nb-{found['version']}-")


def test_notebooks_dir_environment_overrides(tmp_path, monkeypatch):
    from hepml_nb.core.errors import ParameterError
    from hepml_nb.course.catalog import notebooks_dir

    monkeypatch.setenv("HEPML_NB_NOTEBOOKS", str(tmp_path))
    assert notebooks_dir() == tmp_path
    monkeypatch.setenv("HEPML_NB_NOTEBOOKS", str(tmp_path / "missing"))
    with pytest.raises(ParameterError, match="not found; reinstall hepml-nb .* HEPML_NB_NOTEBOOKS"):
        notebooks_dir()


def test_notebooks_dir_of_a_checkout_is_the_repository_folder(monkeypatch):
    from hepml_nb.course.catalog import notebooks_dir

    monkeypatch.delenv("HEPML_NB_NOTEBOOKS", raising=False)
    assert notebooks_dir() == NOTEBOOKS
