"""Tests of hepml_nb.core.trust and of the cache's use of it (issue #22, holes 2 and 3): what another
user of the machine can change is never run, never written through, and a cache in a folder anyone can
replace is refused; data in a shared read-only cache keeps working."""

import contextlib
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from hepml_nb.core.cache import cache_dir, cached_file, native_dir
from hepml_nb.core.errors import OutputError
from hepml_nb.core.results import TMP_TAG, atomic_output
from hepml_nb.core.trust import is_private, why_not_private

NOBODY = 65534
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="files owned by another user can only be made as root"
)


@pytest.fixture
def open_tmp():
    """A folder other users can reach (pytest's tmp_path sits below an owner-only folder, which is private)."""
    folder = Path(tempfile.mkdtemp(prefix="hepml-nb-trust-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
def private_home(tmp_path, monkeypatch):
    """The user's own cache (the private fallback) in a private temporary folder."""
    home = tmp_path / "home-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def _victim_file(tmp_path: Path) -> Path:
    victim = tmp_path / "victim-secret.txt"
    victim.write_text("secret")
    victim.chmod(0o600)
    return victim


# is_private / why_not_private -----------------------------------------------------------------------------


def test_is_private_own_folder_and_file(open_tmp):
    (open_tmp / "lib").mkdir()
    lib = open_tmp / "lib" / "x.so"
    lib.write_bytes(b"\x7fELF")
    lib.chmod(0o755)
    assert is_private(lib, open_tmp) and why_not_private(lib, open_tmp) is None


@pytest.mark.parametrize(
    ("where", "mode", "reason"),
    [("folder", 0o775, "writable by its group"), ("folder", 0o757, "writable by everyone"), ("file", 0o664, "group")],
)
def test_why_not_private_names_the_writable_component(open_tmp, where, mode, reason):
    folder = open_tmp / "kind"
    folder.mkdir()
    lib = folder / "x.so"
    lib.write_bytes(b"")
    (folder if where == "folder" else lib).chmod(mode)
    assert not is_private(lib, open_tmp)
    assert reason in why_not_private(lib, open_tmp) and str(folder if where == "folder" else lib) in why_not_private(
        lib, open_tmp
    )


def test_why_not_private_refuses_symlinks_below_the_root(open_tmp):
    real = open_tmp / "real"
    real.mkdir()
    (real / "x.so").write_bytes(b"")
    (open_tmp / "link").symlink_to(real)
    assert "symbolic link" in why_not_private(open_tmp / "link" / "x.so", open_tmp)
    (open_tmp / "y.so").symlink_to(real / "x.so")
    assert "symbolic link" in why_not_private(open_tmp / "y.so", open_tmp)
    assert "does not exist" in why_not_private(open_tmp / "missing.so", open_tmp)


def test_why_not_private_refuses_a_path_outside_the_root(open_tmp, tmp_path):
    assert "not inside" in why_not_private(tmp_path, open_tmp)


def test_is_private_inside_an_owner_only_folder_whatever_the_modes_below(open_tmp):
    sealed = open_tmp / "sealed"
    (sealed / "sub").mkdir(parents=True)
    lib = sealed / "sub" / "x.so"
    lib.write_bytes(b"")
    lib.chmod(0o777)
    (sealed / "sub").chmod(0o777)
    sealed.chmod(0o700)  # nobody else can enter: what lies below cannot be changed by them
    assert is_private(lib, open_tmp)


def test_is_private_accepts_a_sticky_world_writable_ancestor(open_tmp):
    """/tmp-like folders (sticky): others cannot rename or remove what is yours."""
    assert stat.S_IMODE(os.stat(tempfile.gettempdir()).st_mode) & stat.S_ISVTX
    assert is_private(open_tmp, open_tmp)
    sticky = open_tmp / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    (sticky / "mine").mkdir()
    assert is_private(sticky / "mine", sticky / "mine")
    assert "writable by everyone" in why_not_private(sticky, sticky)  # entries may be planted in it


@needs_root
def test_why_not_private_names_a_file_of_another_user(open_tmp):
    lib = open_tmp / "x.so"
    lib.write_bytes(b"")
    os.chown(lib, NOBODY, NOBODY)
    assert f"owned by uid {NOBODY}" in why_not_private(lib, open_tmp)
    assert not is_private(lib, lib)


# cache_dir: a folder anyone could replace is refused ----------------------------------------------------------


def test_cache_dir_refuses_world_writable_parent_without_sticky_bit(open_tmp, monkeypatch):
    parent = open_tmp / "everyone"
    parent.mkdir()
    parent.chmod(0o777)
    monkeypatch.setenv("HEPML_NB_CACHE", str(parent / "cache"))
    with pytest.raises(OutputError, match=rf"every user can write {parent}, .*chmod o-w.*chmod \+t.*HEPML_NB_CACHE"):
        cache_dir()
    assert not (parent / "cache").exists()  # refused before anything was created
    parent.chmod(0o1777)  # sticky, like /tmp: fine
    assert cache_dir() == parent / "cache"


def test_cache_dir_refuses_a_world_writable_cache_folder(open_tmp, monkeypatch):
    cache = open_tmp / "cache"
    cache.mkdir()
    cache.chmod(0o777)
    monkeypatch.setenv("HEPML_NB_CACHE", str(cache))
    with pytest.raises(OutputError, match=rf"every user can write {cache}, .*chmod o-w {cache}`, or set"):
        cached_file("toy", {"n": 1}, "1", lambda p: p.write_text("x"))
    cache.chmod(0o1777)  # sticky or not: anyone could put entries into it
    with pytest.raises(OutputError, match=rf"every user can write {cache}"):
        cache_dir()


# native_dir: native code only from a private chain --------------------------------------------------------


def test_native_dir_uses_a_private_cache(open_tmp, monkeypatch, capsys):
    monkeypatch.setenv("HEPML_NB_CACHE", str(open_tmp / "cache"))
    folder = native_dir("hls4ml")
    assert folder == (open_tmp / "cache" / "hls4ml").resolve() and folder.is_dir()
    assert capsys.readouterr().err == ""


def test_native_dir_falls_back_to_the_users_own_cache(open_tmp, private_home, monkeypatch, capsys):
    shared = open_tmp / "shared"
    shared.mkdir()
    shared.chmod(0o775)  # an instructor's umask 002
    monkeypatch.setenv("HEPML_NB_CACHE", str(shared))
    folder = native_dir("hls4ml")
    assert folder.is_relative_to(private_home) and is_private(folder, folder)
    err = capsys.readouterr().err
    assert f"{shared} is writable by its group" in err and str(folder) in err and len(err.splitlines()) == 1


def test_native_dir_explicit_folder_not_private_falls_back(open_tmp, private_home, capsys):
    explicit = open_tmp / "projects"
    explicit.mkdir()
    explicit.chmod(0o777)
    assert native_dir("rtl", explicit).is_relative_to(private_home)
    assert native_dir("rtl", open_tmp) == open_tmp.resolve()


def test_native_dir_without_private_user_cache_uses_a_private_temporary_folder(open_tmp, monkeypatch, capsys, tmp_path):
    shared = open_tmp / "shared"
    shared.mkdir()
    shared.chmod(0o775)
    monkeypatch.setenv("HEPML_NB_CACHE", str(shared))
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))  # the user's own cache is no better
    monkeypatch.setattr(tempfile, "tempdir", str(open_tmp))
    folder = native_dir("rtl")
    assert folder == (open_tmp / f"hepml-nb-{os.getuid()}" / "rtl").resolve()
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700 and is_private(folder, folder)


# lock and temporary files never follow a planted symlink --------------------------------------------------


def test_key_lock_never_follows_a_planted_symlink(open_tmp, tmp_path, monkeypatch):
    from hepml_nb.core.cache import cache_key

    shared = open_tmp / "shared"
    (shared / "toy").mkdir(parents=True)
    for folder in (shared, shared / "toy"):
        folder.chmod(0o775)
    monkeypatch.setenv("HEPML_NB_CACHE", str(shared))
    victim = _victim_file(tmp_path)
    absent = tmp_path / "created-through-the-link"
    key = cache_key({"n": 1}, "1")
    (shared / "toy" / f".{key}.lock").symlink_to(victim)
    with pytest.raises(OutputError, match=r"lock file .*\.lock is a symbolic link.*remove it"):
        cached_file("toy", {"n": 1}, "1", lambda p: p.write_text("x"))
    assert victim.read_text() == "secret" and stat.S_IMODE(victim.stat().st_mode) == 0o600
    (shared / "toy" / f".{key}.lock").unlink()
    (shared / "toy" / f".{key}.lock").symlink_to(absent)
    with pytest.raises(OutputError, match="symbolic link"):
        cached_file("toy", {"n": 1}, "1", lambda p: p.write_text("x"))
    assert not absent.exists()


def test_key_lock_refuses_a_planted_fifo(open_tmp, monkeypatch):
    from hepml_nb.core.cache import cache_key

    monkeypatch.setenv("HEPML_NB_CACHE", str(open_tmp))
    (open_tmp / "toy").mkdir()
    fifo = open_tmp / "toy" / f".{cache_key({'n': 1}, '1')}.lock"
    os.mkfifo(fifo)

    def unblock():  # a reader that blocked on the fifo would hang the test: open its other end
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    watchdog = threading.Timer(5.0, unblock)
    watchdog.start()
    try:
        with pytest.raises(OutputError, match="lock file .* is not a regular file"):
            cached_file("toy", {"n": 1}, "1", lambda p: p.write_text("x"))
    finally:
        watchdog.cancel()


def test_atomic_output_in_a_folder_others_can_write_never_writes_through_a_swapped_name(open_tmp, tmp_path):
    shared = open_tmp / "shared"
    shared.mkdir()
    shared.chmod(0o775)
    victim = _victim_file(tmp_path)
    with atomic_output(shared / "entry.txt") as tmp:
        tmp.write_text("data")
    entry = shared / "entry.txt"
    assert not entry.is_symlink() and entry.read_text() == "data"
    assert stat.S_IMODE(entry.stat().st_mode) == 0o666 & ~_umask()
    with (  # noqa: PT012 - atomic_output raises it on leaving the block
        pytest.raises(OutputError, match=r"was replaced by someone else .*nothing was written through it"),
        atomic_output(entry) as tmp,
    ):
        for planted in shared.glob(f".*{TMP_TAG}*"):  # what another member of the group can do meanwhile
            planted.unlink()
            planted.symlink_to(victim)
        tmp.write_text("new data")
    assert victim.read_text() == "secret" and stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert entry.read_text() == "data" and sorted(p.name for p in shared.iterdir()) == ["entry.txt"]


def test_atomic_output_in_a_folder_others_can_write_leaves_nothing_on_failure(open_tmp):
    shared = open_tmp / "shared"
    shared.mkdir()
    shared.chmod(0o775)
    with pytest.raises(KeyboardInterrupt), atomic_output(shared / "entry.txt") as tmp:  # noqa: PT012 - a half-written file
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(shared.iterdir()) == []


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# data keep working from a shared cache --------------------------------------------------------------------


@needs_root
def test_cached_file_reads_data_another_user_warmed(open_tmp, monkeypatch):
    """Data files are read from a cache the instructor owns (read-only for the student)."""
    cache = open_tmp / "instructor"
    monkeypatch.setenv("HEPML_NB_CACHE", str(cache))
    path = cached_file("toy", {"n": 1}, "1", lambda p: p.write_text("warm"), suffix=".txt")
    for item in [cache, *cache.rglob("*")]:
        os.chown(item, NOBODY, NOBODY)
    assert cached_file("toy", {"n": 1}, "1", None, suffix=".txt") == path and path.read_text() == "warm"


def test_native_dir_last_resort_is_one_private_temporary_folder_per_process(open_tmp, monkeypatch, capsys):
    shared = open_tmp / "shared"
    shared.mkdir()
    shared.chmod(0o775)
    monkeypatch.setenv("HEPML_NB_CACHE", str(shared))
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    taken = open_tmp / f"hepml-nb-{os.getuid()}"
    taken.mkdir(mode=0o777)
    taken.chmod(0o777)  # planted by someone else, or left open: not used
    monkeypatch.setattr(tempfile, "tempdir", str(open_tmp))
    first = native_dir("hls4ml-scratch-test")
    assert first.parent == open_tmp.resolve() and first.name.startswith("hepml-nb-hls4ml-scratch-test-")
    assert stat.S_IMODE(first.stat().st_mode) == 0o700 and native_dir("hls4ml-scratch-test") == first
    assert len(capsys.readouterr().err.splitlines()) == 1
