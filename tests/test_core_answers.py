"""Exercise answers exported from a kernel and read back by the grader (hepml_nb.core.answers), never as pickles."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from hepml_nb.calo.geometry import Material
from hepml_nb.core import answers
from hepml_nb.core.errors import DataError


@pytest.fixture
def answers_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(answers.ANSWERS_ENV, str(tmp_path))
    return tmp_path


def test_export_and_load_give_back_the_values(answers_dir):
    frame = pd.DataFrame({"g1_e": [1.0, 2.0], "n": [3, 4]})
    values = (np.arange(6.0).reshape(2, 3), 0.5, float("nan"), None, True, "x", [1, (2, 3)], {"a": np.int64(4)}, frame)
    answers.export("00-check", *values, eps_s=0.5)
    args, kwargs = answers.load(answers_dir / "00-check.npz")
    np.testing.assert_array_equal(args[0], values[0])
    assert args[1:2] == [0.5] and np.isnan(args[2]) and args[3:6] == [None, True, "x"]
    assert args[6] == [1, (2, 3)] and args[7] == {"a": 4} and kwargs == {"eps_s": 0.5}
    pd.testing.assert_frame_equal(args[8], frame)


def test_objects_of_hepml_nb_only_from_a_trusted_file(answers_dir):
    material = Material("PbLAr", 82.0, 7.43, 3.2)
    answers.export("01-ref", material, strict=True)
    assert answers.load(answers_dir / "01-ref.npz", objects=True)[0] == [material]
    with pytest.raises(DataError, match="not plain data"):
        answers.load(answers_dir / "01-ref.npz")  # a student's answer file: no objects


def test_a_value_that_cannot_be_exported_is_reported_not_raised(answers_dir):
    answers.export("02-x", {1, 2})  # a set
    with pytest.raises(DataError, match="the answer is a value of type set, which cannot be graded"):
        answers.load(answers_dir / "02-x.npz")
    with pytest.raises(TypeError, match="type set"):
        answers.export("02-y", {1, 2}, strict=True)


def test_outside_a_graded_run_export_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(answers.ANSWERS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    answers.export("03-z", 1.0)
    assert list(tmp_path.iterdir()) == []


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_load_refuses_pickles_links_and_large_files(tmp_path):
    tree = np.frombuffer(
        json.dumps({"args": {"__list__": [{"__array__": "a0"}]}, "kwargs": {"__dict__": {}}}).encode(), np.uint8
    )
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(_npz(**{"values.json": tree, "a0": np.array([object()], dtype=object)}))
    with pytest.raises(DataError, match="not a readable answer file"):
        answers.load(pickled)
    link = tmp_path / "link.npz"
    link.symlink_to(pickled)
    with pytest.raises(DataError, match="cannot be opened"):
        answers.load(link)
    big = tmp_path / "big.npz"
    big.write_bytes(_npz(**{"values.json": tree, "a0": np.zeros(1000)}))
    with pytest.raises(DataError, match="not a regular file of at most 100 bytes"):
        answers.load(big, limit=100)


def test_load_refuses_a_file_that_unpacks_beyond_the_limit(tmp_path):
    bomb = tmp_path / "bomb.npz"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a0.npy", b"\0" * 2_000_000)
    bomb.write_bytes(buffer.getvalue())
    assert bomb.stat().st_size < 100_000
    with pytest.raises(DataError, match="unpacks to more than 100000 bytes"):
        answers.load(bomb, limit=100_000)


@pytest.mark.parametrize("text", [b"not a zip", b""])
def test_load_refuses_what_is_not_an_answer_file(tmp_path, text):
    path = tmp_path / "x.npz"
    path.write_bytes(text)
    with pytest.raises(DataError, match="not a readable answer file"):
        answers.load(path)
