"""The offline school pack (hepml_nb.core.pack, `hepml-nb pack`)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from hepml_nb.core.catalog import TOPICS
from hepml_nb.core.errors import OutputError
from hepml_nb.core.pack import MANIFEST, build_pack, frozen_constraints, verify_manifest, write_manifest


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """A tiny pack: no wheelhouse, no site, with a (fake) warmed data cache."""
    cache = tmp_path_factory.mktemp("cache")
    (cache / "jets").mkdir()
    (cache / "jets" / "top.root").write_bytes(b"generated data")
    out = tmp_path_factory.mktemp("school") / "pack"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEPML_NB_CACHE", str(cache))
        result = build_pack(out, wheels=False, site=False, cache=True)
    return result


def test_build_pack_holds_notebooks_student_builds_cache_and_installer(pack):
    out = pack.out
    names = {t.notebook for t in TOPICS.values()}
    assert {p.name for p in (out / "notebooks").glob("*.ipynb")} == names
    assert {p.name for p in (out / "student").glob("*.ipynb")} == names
    assert "BEGIN SOLUTION" not in (out / "student" / "00_setup_check.ipynb").read_text()
    assert (out / "cache" / "jets" / "top.root").read_bytes() == b"generated data"
    assert (out / "install.sh").stat().st_mode & 0o111
    assert json.loads((out / "pack.json").read_text())["wheels"] is False
    assert pack.n_files == len([p for p in out.rglob("*") if p.is_file()])


def test_build_pack_manifest_lists_every_file_with_its_checksum(pack):
    lines = (pack.out / MANIFEST).read_text().splitlines()
    listed = {line.split("  ", 1)[1] for line in lines}
    on_disk = {p.relative_to(pack.out).as_posix() for p in pack.out.rglob("*") if p.is_file() and p.name != MANIFEST}
    assert listed == on_disk and verify_manifest(pack.out) == []


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum (coreutils)")
def test_install_script_checks_checksums_before_installing(pack, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(pack.out, copy)
    assert subprocess.run(["bash", "-n", str(copy / "install.sh")]).returncode == 0
    done = subprocess.run(["bash", str(copy / "install.sh")], capture_output=True, text=True)
    assert done.returncode == 1 and "no wheels/ folder" in done.stderr  # checksums passed, then no wheels
    (copy / "notebooks" / "00_setup_check.ipynb").write_text("{}")
    done = subprocess.run(["bash", str(copy / "install.sh")], capture_output=True, text=True)
    assert done.returncode == 1 and "damaged or changed" in done.stderr
    assert verify_manifest(copy) == ["notebooks/00_setup_check.ipynb"]


def test_write_manifest_and_verify_missing_file(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    write_manifest(tmp_path)
    (tmp_path / "sub" / "b.txt").unlink()
    assert verify_manifest(tmp_path) == ["sub/b.txt"]


def test_build_pack_refuses_non_empty_folder_and_empty_cache(tmp_path, monkeypatch):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(OutputError, match="is not empty; give a new folder or add --force"):
        build_pack(tmp_path / "full", wheels=False, site=False)
    monkeypatch.setenv("HEPML_NB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(OutputError, match="data cache .* is empty"):
        build_pack(tmp_path / "new", wheels=False, site=False, cache=True)


def test_frozen_constraints_pin_installed_versions_without_hepml_nb():
    pins = frozen_constraints().splitlines()
    assert any(p.lower().startswith("numpy==") for p in pins)
    assert not any(p.lower().startswith("hepml-nb") for p in pins)


def test_pack_command_quick_pack(tmp_path, capsys):
    from hepml_nb.cli import main

    assert main(["pack", "--out", str(tmp_path / "p"), "--no-wheels", "--no-site"]) == 0
    assert "school pack in" in capsys.readouterr().out
    assert verify_manifest(tmp_path / "p") == []
