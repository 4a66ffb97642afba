"""The offline school pack: everything a school needs on machines with no network.

:func:`build_pack` writes into one folder:

- ``wheels/``: hepml-nb and every dependency of ``hepml-nb[all]`` for this platform and Python, as
  wheels (``pip wheel`` with the versions installed here as constraints, so the pack holds the stack
  that was tested here, CPU torch included when that is what is installed); ``wheels=False`` leaves it out;
- ``notebooks/`` and ``student/``: the notebooks and their student builds; ``tutorials/``: the guides;
- ``site/``: the tutorial website (:func:`hepml_nb.course.book.build_book`); ``site=False`` leaves it out;
- ``cache/``: a copy of the warmed data cache (:func:`hepml_nb.core.cache.cache_dir`), when asked;
- ``MANIFEST.sha256`` (``sha256sum`` format, every file) and ``pack.json`` (versions, platform);
- ``install.sh`` (Linux: bash 4, coreutils): prints the sha256 of ``MANIFEST.sha256`` (compare it with the
  one ``hepml-nb pack`` printed, published out of band), checks every checksum, refuses any file or
  symbolic link the manifest does not list and an existing environment folder, copies the listed wheels
  into a private temporary folder and checks them again there, creates ``.venv`` and installs with
  ``pip install --isolated --no-index --only-binary :all: --find-links <that folder> 'hepml-nb[all]'``:
  pip resolves the dependencies from the listed wheels only (no index, no pip configuration of the machine,
  nothing else of the pack); prints how to use the cache.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from hepml_nb._version import __version__
from hepml_nb.core.errors import HepmlError, OutputError
from hepml_nb.course.catalog import TOPICS, notebook_path

__all__ = [
    "PackResult",
    "MANIFEST",
    "PACK_INFO",
    "build_pack",
    "write_manifest",
    "verify_manifest",
    "frozen_constraints",
    "is_pack",
]

MANIFEST = "MANIFEST.sha256"
#: the pack's description (versions, platform); with MANIFEST it marks a folder as a pack
PACK_INFO = "pack.json"
_ROOT = Path(__file__).resolve().parents[2]
_INSTALL = r"""#!/usr/bin/env bash
# Install hepml-nb from this pack with no network (Linux: bash 4, coreutils).
#   bash install.sh            # creates ./.venv
#   VENV=~/hepml bash install.sh
# It installs only what MANIFEST.sha256 lists: any other file in the pack stops it. Compare the
# MANIFEST.sha256 digest it prints first with the one published by whoever built the pack.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -f MANIFEST.sha256 || -L MANIFEST.sha256 ]]; then
    echo "this pack has no MANIFEST.sha256: copy the pack again" >&2
    exit 1
fi
echo "MANIFEST.sha256 sha256: $(sha256sum MANIFEST.sha256 | cut -d ' ' -f 1)"
echo "  (compare it with the digest published with the pack: if they differ, stop here)"
echo "checking the checksums of every file (MANIFEST.sha256)"
if ! sha256sum --quiet --strict -c MANIFEST.sha256; then
    echo "a file of the pack is damaged or changed: copy the pack again" >&2
    exit 1
fi
VENV=${VENV:-.venv}
if [[ -e "$VENV" || -L "$VENV" ]]; then
    echo "$VENV already exists: remove it (rm -rf $VENV) or choose another folder (VENV=...)" >&2
    exit 1
fi
declare -A listed=()
while IFS= read -r line; do
    listed["${line#*  }"]=1
done < MANIFEST.sha256
while IFS= read -r -d '' entry; do
    name=${entry#./}
    [[ "$name" == MANIFEST.sha256 ]] && continue
    if [[ -L "$entry" || -z "${listed[$name]+x}" ]]; then
        echo "$name is not listed in MANIFEST.sha256 (or is a symbolic link): the pack changed after it was built" >&2
        echo "nothing was installed: remove $name, or copy the pack again" >&2
        exit 1
    fi
done < <(find . -mindepth 1 ! -type d -print0)
if [[ ! -d wheels ]]; then
    echo "this pack has no wheels/ folder (built with --no-wheels): install hepml-nb with network instead" >&2
    exit 1
fi
PYTHON=${PYTHON:-python__PYVER__}
if ! command -v "$PYTHON" >/dev/null; then
    echo "the wheels are for Python __PYVER__ ($PYTHON not found): set PYTHON=/path/to/python__PYVER__" >&2
    exit 1
fi
WHEELS=$(mktemp -d "${TMPDIR:-/tmp}/hepml-nb-wheels.XXXXXX")
trap 'rm -rf "$WHEELS"' EXIT
while IFS= read -r line; do
    name=${line#*  }
    [[ "$name" == wheels/* ]] || continue
    file=${name#wheels/}
    if [[ ! "$file" =~ ^[A-Za-z0-9][A-Za-z0-9_.+!-]*\.whl$ ]]; then
        echo "$name is not a wheel file name: the pack's wheels/ holds wheels only; copy the pack again" >&2
        exit 1
    fi
    cp -- "wheels/$file" "$WHEELS/$file"
    echo "${line%%  *}  $file" >> "$WHEELS/SHA256SUMS"
done < MANIFEST.sha256
if ! (cd "$WHEELS" && sha256sum --quiet --strict -c SHA256SUMS); then
    echo "a wheel changed while it was copied: copy the pack again" >&2
    exit 1
fi
rm "$WHEELS/SHA256SUMS"
"$PYTHON" -I -m venv "$VENV"
PIP_OPTIONS=(--isolated --no-index --no-cache-dir --only-binary :all: --find-links "$WHEELS")
"$VENV/bin/python" -I -m pip install "${PIP_OPTIONS[@]}" "hepml-nb[all]"
"$VENV/bin/hepml-nb" list >/dev/null
echo "installed: . $VENV/bin/activate && jupyter lab notebooks/   (site: site/index.html)"
if [[ -d cache ]]; then
    echo "data cache: export HEPML_NB_CACHE=$PWD/cache   (the generated data of the default profiles)"
fi
"""


class PackResult(NamedTuple):
    """The pack folder, its number of files, its size in bytes, the seconds it took and the sha256 of its
    ``MANIFEST.sha256`` (to publish, so that a school checks the copy it received)."""

    out: Path
    n_files: int
    size_bytes: int
    seconds: float
    manifest_sha256: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path | str) -> Path:
    """Write ``MANIFEST.sha256`` (``sha256sum -c`` format) of every file under ``folder`` but itself."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)
    lines = [f"{_sha256(p)}  {p.relative_to(folder).as_posix()}" for p in files]
    (folder / MANIFEST).write_text("\n".join(lines) + "\n")
    return folder / MANIFEST


def is_pack(folder: Path | str) -> bool:
    """True when ``folder`` holds a ``pack.json`` written by :func:`build_pack` and a ``MANIFEST.sha256``."""
    folder = Path(folder)
    info, manifest = folder / PACK_INFO, folder / MANIFEST
    if not (info.is_file() and manifest.is_file()) or info.is_symlink() or manifest.is_symlink():
        return False
    try:
        described = json.loads(info.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(described, dict) and "hepml_nb" in described


def _replace_pack(out: Path, *, force: bool) -> None:
    """Make ``out`` an empty folder: a new or empty one as it is, a previous pack only with ``force``."""
    if not out.exists() or not any(out.iterdir()):
        return
    if not force:
        raise OutputError(f"the pack folder {out} is not empty; give a new folder or add --force to replace it")
    if not is_pack(out):
        raise OutputError(
            f"the folder {out} is not a school pack (no {PACK_INFO} and {MANIFEST} written by hepml-nb pack); "
            "--force replaces only a previous pack: give a new or empty folder"
        )
    shutil.rmtree(out)


def verify_manifest(folder: Path | str) -> list[str]:
    """Files of ``folder`` whose checksum differs from the manifest, or that are missing (empty: all good)."""
    folder = Path(folder)
    bad = []
    for line in (folder / MANIFEST).read_text().splitlines():
        digest, name = line.split("  ", 1)
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            bad.append(name)
    return bad


def frozen_constraints() -> str:
    """``name==version`` of every installed distribution but hepml-nb (pip constraints)."""
    names = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower().replace("_", "-") != "hepml-nb":
            names[name.lower()] = f"{name}=={dist.version}"
    return "\n".join(sorted(names.values())) + "\n"


def _wheelhouse(target: Path, *, extras: str = "all") -> None:
    constraints = target.parent / "constraints.txt"
    constraints.write_text(frozen_constraints())
    command = [
        sys.executable,
        "-P",  # the working folder stays off sys.path: a planted pip.py is never run
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--wheel-dir",
        str(target),
        "--constraint",
        str(constraints),
        f"{_ROOT}[{extras}]",
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise HepmlError(
            f"pip wheel failed (exit {done.returncode}): {done.stderr[-2000:]}\ncommand: "
            f"{' '.join(command)}; without a registry or pip cache, build the pack with --no-wheels"
        )


def _copy_notebooks(target: Path) -> None:
    from hepml_nb.course.teaching import write_student_notebooks

    paths = [notebook_path(key) for key in TOPICS]
    target.mkdir(parents=True)
    for path in paths:
        shutil.copy2(path, target / path.name)
    write_student_notebooks(paths, target.parent / "student")


def build_pack(
    out: Path | str,
    *,
    wheels: bool = True,
    site: bool = True,
    cache: bool = False,
    site_profile: str = "default",
    build_dir: Path | str = "build/book",
    force: bool = False,
) -> PackResult:
    """Build the school pack into ``out`` (see the module doc); ``force`` replaces a previous pack.

    Raises
    ------
    OutputError
        ``out`` exists and is not empty (without ``force``), ``out`` is not empty and not a previous
        pack (:func:`is_pack`; even with ``force``: nothing is deleted), or the data cache is empty
        when asked for.
    HepmlError
        pip could not build the wheelhouse, or the site could not be built.
    """
    from hepml_nb.core.cache import cache_dir

    start, out = time.perf_counter(), Path(out).resolve()
    _replace_pack(out, force=force)
    out.mkdir(parents=True, exist_ok=True)
    _copy_notebooks(out / "notebooks")
    if (_ROOT / "tutorials").is_dir():
        shutil.copytree(_ROOT / "tutorials", out / "tutorials")
    if cache:
        source = cache_dir()
        if not source.is_dir() or not any(source.iterdir()):
            raise OutputError(
                f"the data cache {source} is empty: warm it first with "
                "`hepml-nb run all --profile default`, or leave out --with-cache"
            )
        shutil.copytree(source, out / "cache", ignore=shutil.ignore_patterns("*.lock", ".*.tmp*"))
    if site:
        from hepml_nb.course.book import build_book

        build_book(out / "site", profile=site_profile, build_dir=build_dir)
        (out / "site" / ".hepml-book-stamp.json").unlink(missing_ok=True)
    if wheels:
        _wheelhouse(out / "wheels")
    pyver = f"{sys.version_info.major}.{sys.version_info.minor}"
    (out / "install.sh").write_text(_INSTALL.replace("__PYVER__", pyver))
    (out / "install.sh").chmod(0o755)
    info = {
        "hepml_nb": __version__,
        "python": pyver,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "wheels": wheels,
        "site": site,
        "cache": cache,
        "site_profile": site_profile if site else None,
    }
    (out / PACK_INFO).write_text(json.dumps(info, indent=2) + "\n")
    (out / "constraints.txt").unlink(missing_ok=True)
    digest = _sha256(write_manifest(out))
    files = [p for p in out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    return PackResult(out, len(files), size, round(time.perf_counter() - start, 1), digest)
