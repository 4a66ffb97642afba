"""The offline school pack (hepml_nb.course.pack, `hepml-nb pack`)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from hepml_nb.core.errors import OutputError
from hepml_nb.course.catalog import TOPICS
from hepml_nb.course.pack import MANIFEST, build_pack, frozen_constraints, verify_manifest, write_manifest


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """A tiny pack: no wheelhouse, no site, with a (fake) warmed data cache."""
    cache = tmp_path_factory.mktemp("cache")
    (cache / "jets").mkdir()
    (cache / "jets" / "top.root").write_bytes(b"generated data")
    out = tmp_path_factory.mktemp("school") / "pack"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEPML_NB_CACHE", str(cache))
        return build_pack(out, wheels=False, site=False, cache=True)


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
    from hepml_nb.course.cli import main

    assert main(["pack", "--out", str(tmp_path / "p"), "--no-wheels", "--no-site"]) == 0
    assert "school pack in" in capsys.readouterr().out
    assert verify_manifest(tmp_path / "p") == []


# --- issue 22, hole 5: the pack installs only what its manifest lists; --force never deletes a non-pack folder


def _wheel(folder, name, version, *, requires=(), extra_requires=(), script=None):
    """A tiny pure-Python wheel ``name-version-py3-none-any.whl`` in ``folder`` (a module ``name``)."""
    import base64
    import hashlib
    import zipfile

    dist = f"{name}-{version}.dist-info"
    meta = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
    meta += [f"Requires-Dist: {r}\n" for r in requires]
    if extra_requires:
        meta.append("Provides-Extra: all\n")
        meta += [f'Requires-Dist: {r}; extra == "all"\n' for r in extra_requires]
    files = {
        f"{name}.py": "def main():\n    print('tiny ok')\n",
        f"{dist}/METADATA": "".join(meta),
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    if script:
        files[f"{dist}/entry_points.txt"] = f"[console_scripts]\n{script} = {name}:main\n"
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name_in_zip, text in files.items():
            zf.writestr(name_in_zip, text)
    return path


def _pack_with_wheels(pack, tmp_path):
    """A copy of the tiny pack with a wheelhouse: a stand-in hepml_nb (extra 'all' needs tinydep) and tinydep."""
    copy = tmp_path / "copy"
    shutil.copytree(pack.out, copy)
    (copy / "wheels").mkdir()
    _wheel(copy / "wheels", "hepml_nb", "0.0.1", extra_requires=("tinydep",), script="hepml-nb")
    _wheel(copy / "wheels", "tinydep", "1.0")
    write_manifest(copy)
    return copy


def _install(copy, tmp_path, **env):
    import os
    import sys

    environ = {**os.environ, "PYTHON": sys.executable, "VENV": str(tmp_path / "venv"), **env}
    environ.pop("PIP_FIND_LINKS", None)
    return subprocess.run(["bash", str(copy / "install.sh")], capture_output=True, text=True, env=environ)


def _manifest_sha256(folder):
    import hashlib

    return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum (coreutils)")
def test_install_script_refuses_a_wheel_not_in_the_manifest(pack, tmp_path):
    copy = _pack_with_wheels(pack, tmp_path)
    _wheel(copy / "wheels", "pip", "99.0")  # planted after the manifest was written: today it is installed
    done = _install(copy, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "wheels/pip-99.0-py3-none-any.whl" in done.stderr and "not listed in MANIFEST.sha256" in done.stderr
    assert _manifest_sha256(copy) in done.stdout  # printed before anything else, to compare out of band
    assert not (tmp_path / "venv").exists()  # refused before any environment was made


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum (coreutils)")
def test_install_script_refuses_symlinks_and_an_existing_environment(pack, tmp_path):
    copy = _pack_with_wheels(pack, tmp_path)
    (copy / "notebooks" / "extra.ipynb").symlink_to(copy / "notebooks" / "00_setup_check.ipynb")
    done = _install(copy, tmp_path)
    assert done.returncode == 1 and "notebooks/extra.ipynb" in done.stderr
    (copy / "notebooks" / "extra.ipynb").unlink()
    (tmp_path / "venv" / "lib").mkdir(parents=True)  # a planted environment would keep its own pip
    done = _install(copy, tmp_path)
    assert done.returncode == 1 and "already exists" in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum (coreutils)")
def test_install_script_installs_the_listed_wheels_with_their_dependencies(pack, tmp_path):
    copy = _pack_with_wheels(pack, tmp_path)
    done = _install(copy, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"MANIFEST.sha256 sha256: {_manifest_sha256(copy)}" in done.stdout
    venv = tmp_path / "venv"
    assert subprocess.run([str(venv / "bin" / "hepml-nb")], capture_output=True, text=True).stdout == "tiny ok\n"
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import tinydep"], capture_output=True)
    assert probe.returncode == 0  # resolved from the listed wheels only (no index)


def test_build_pack_force_refuses_a_folder_that_is_not_a_pack(tmp_path):
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter1.tex").write_text("my work")
    with pytest.raises(OutputError, match=r"thesis is not a school pack \(no pack\.json.*\); --force replaces"):
        build_pack(tmp_path / "thesis", wheels=False, site=False, force=True)
    assert (tmp_path / "thesis" / "chapter1.tex").read_text() == "my work"  # today: the folder is deleted


def test_build_pack_force_replaces_a_previous_pack(pack, tmp_path):
    copy = tmp_path / "old"
    shutil.copytree(pack.out, copy)
    (copy / "stale.txt").write_text("from the last build")
    result = build_pack(copy, wheels=False, site=False, force=True)
    assert not (copy / "stale.txt").exists() and verify_manifest(copy) == []
    assert result.manifest_sha256 == _manifest_sha256(copy)


def test_pack_command_prints_the_manifest_sha256(tmp_path, capsys):
    from hepml_nb.course.cli import main

    assert main(["pack", "--out", str(tmp_path / "p"), "--no-wheels", "--no-site"]) == 0
    assert f"MANIFEST.sha256 sha256: {_manifest_sha256(tmp_path / 'p')}" in capsys.readouterr().out
