"""The tutorial website (hepml_nb.course.book, `hepml-nb book`)."""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import write_notebook

from hepml_nb.core.errors import NotebookExecutionError, ParameterError
from hepml_nb.course.book import build_book, execution_key, parameter_table
from hepml_nb.course.runner import prepare_run

_TOY_PARAMS = (
    "n_events = 20  # events\njet_radius = 0.4  # radius\ncheck_fpga = True  # fpga\n"
    "seed = 1  # seed\nfail_on_error = True  # fail"
)


def test_parameter_table_lists_every_parameter_with_profiles():
    table = parameter_table("setup")
    assert (
        "| `n_events` | Pythia8 pp -> dijet events to generate and cluster | int | `20` | `5` | `200` | 1 to 100000 |"
        in table
    )
    assert table.count("\n| `") == 5 and "hepml-nb run setup --profile ci" in table


def _key(profile: str) -> str:
    return execution_key(prepare_run("setup", profile, force=True))


def test_execution_key_changes_with_notebook_and_profile(toy_notebooks):
    key = _key("ci")
    assert key == _key("ci") and key != _key("default")
    nb_path = toy_notebooks / "00_setup_check.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("changed"))
    nbformat.write(nb, nb_path)
    assert _key("ci") != key


def test_build_book_unknown_profile_and_topic(tmp_path):
    with pytest.raises(ParameterError, match="unknown profile 'tiny'; choose one of: ci, default, full"):
        build_book(tmp_path / "site", profile="tiny")
    with pytest.raises(ParameterError, match="unknown topic 'nope'"):
        build_book(tmp_path / "site", topics=["nope"])


@pytest.mark.slow
def test_build_book_builds_static_site_and_reuses_cache(toy_notebooks, tmp_path):
    site, build = tmp_path / "site", tmp_path / "build"
    first = build_book(site, profile="ci", build_dir=build, topics=["setup"], jupyterhub="https://hub.example.org")
    assert first.built and first.reused == []
    page = (site / "notebooks" / "00_setup_check.html").read_text()
    assert "mybinder.org/v2/gh/" in page and "urlpath=lab/tree/notebooks/00_setup_check.ipynb" in page
    assert "hub.example.org/hub/user-redirect/git-pull" in page
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', page), "the site must not load from the web"
    assert (site / "parameters" / "setup.html").exists() and (site / "search.html").exists()
    assert (site / "running.html").exists() and "grades.summary.csv" in (site / "running.html").read_text()
    again = build_book(site, profile="ci", build_dir=build, topics=["setup"], jupyterhub="https://hub.example.org")
    assert (again.built, again.reused) == (False, ["setup"])
    nb_path = toy_notebooks / "00_setup_check.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A changed notebook is executed again."))
    nbformat.write(nb, nb_path)
    changed = build_book(site, profile="ci", build_dir=build, topics=["setup"])
    assert (
        changed.built
        and changed.reused == []
        and "executed again" in (site / "notebooks" / "00_setup_check.html").read_text()
    )
    assert [p.name for p in (build / "executed").iterdir()] == [changed.runs["setup"].name]  # the old run is gone


@pytest.mark.slow
def test_build_book_broken_notebook_fails_the_build(toy_notebooks, tmp_path):
    write_notebook(toy_notebooks / "00_setup_check.ipynb", _TOY_PARAMS, "raise ZeroDivisionError('broken on purpose')")
    with pytest.raises(NotebookExecutionError, match="ZeroDivisionError: broken on purpose"):
        build_book(tmp_path / "site", profile="ci", build_dir=tmp_path / "build", topics=["setup"])
    assert not (tmp_path / "site" / "index.html").exists()


@pytest.mark.slow
def test_build_book_error_output_fails_the_build(toy_notebooks, tmp_path):
    from hepml_nb.course.book import executed_run_dir

    build_book(tmp_path / "site", profile="ci", build_dir=tmp_path / "build", topics=["setup"])
    executed = executed_run_dir(tmp_path / "build", prepare_run("setup", "ci", force=True)) / "00_setup_check.ipynb"
    nb = nbformat.read(executed, as_version=4)
    nb.cells[-1].outputs.append(nbformat.v4.new_output("error", ename="KeyError", evalue="'x'", traceback=[]))
    nbformat.write(nb, executed)
    with pytest.raises(NotebookExecutionError, match="holds error outputs.*KeyError"):
        build_book(tmp_path / "site", profile="ci", build_dir=tmp_path / "build", topics=["setup"])


@pytest.mark.slow
def test_book_command_builds_real_setup_notebook_in_ci_profile(tmp_path, capsys):
    from hepml_nb.course.cli import main

    assert (
        main(
            [
                "book",
                "--out",
                str(tmp_path / "site"),
                "--profile",
                "ci",
                "--topics",
                "setup",
                "--build-dir",
                str(tmp_path / "build"),
            ]
        )
        == 0
    )
    assert "book built" in capsys.readouterr().out
    page = (tmp_path / "site" / "notebooks" / "00_setup_check.html").read_text()
    assert "Setup check" in page and "Traceback" not in page and "checks OK" in page
