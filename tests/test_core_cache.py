import numpy as np
import pytest

from hepml_nb.core.cache import cache_key, cached_arrays, cached_file


def test_cache_key_depends_on_params_and_version():
    assert cache_key({"n": 1}, "1") == cache_key({"n": 1}, "1")
    assert cache_key({"n": 1}, "1") != cache_key({"n": 2}, "1")
    assert cache_key({"n": 1}, "1") != cache_key({"n": 1}, "2")


def test_cached_arrays_builds_once(tmp_path, monkeypatch):
    monkeypatch.setenv("HEPML_NB_CACHE", str(tmp_path))
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(5)}

    first = cached_arrays("toy", {"n": 5}, "1", build)
    second = cached_arrays("toy", {"n": 5}, "1", build)
    assert len(calls) == 1 and np.array_equal(first["x"], second["x"])
    cached_arrays("toy", {"n": 5}, "2", build)
    assert len(calls) == 2


def test_cached_file_leaves_nothing_when_build_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("HEPML_NB_CACHE", str(tmp_path))

    def build(path):
        path.write_text("half")
        raise KeyboardInterrupt  # a killed run

    with pytest.raises(KeyboardInterrupt):
        cached_file("toy", {"n": 1}, "1", build, suffix=".txt")
    assert list((tmp_path / "toy").iterdir()) == []
    path = cached_file("toy", {"n": 1}, "1", lambda p: p.write_text("full"), suffix=".txt")
    assert path.read_text() == "full" and path.suffix == ".txt"
    assert (tmp_path / "toy" / f"{path.stem}.recipe.json").exists()
