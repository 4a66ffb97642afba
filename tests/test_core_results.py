import json

import matplotlib.pyplot as plt
import numpy as np

from hepml_nb.core.results import load_metrics, record_metrics, run_dir, save_figure, to_jsonable


def test_record_metrics_merges_and_converts(tmp_path, monkeypatch):
    monkeypatch.setenv("HEPML_NB_RUN_DIR", str(tmp_path))
    record_metrics({"auc": np.float32(0.5)}, n=np.int64(3))
    merged = record_metrics(rej50=float("inf"), per_class=np.array([1.0, 2.0]))
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk == merged == {"auc": 0.5, "n": 3, "rej50": None, "per_class": [1.0, 2.0]}
    assert load_metrics(tmp_path) == on_disk


def test_run_dir_without_runner_is_interactive_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("HEPML_NB_RUN_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run_dir() == tmp_path / "runs" / "interactive"
    assert run_dir().is_dir()


def test_save_figure_writes_png(tmp_path, monkeypatch):
    monkeypatch.setenv("HEPML_NB_RUN_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert save_figure(fig, "line") is None  # a cell ending with it shows no stray list of paths
    path = tmp_path / "line.png"
    assert path.read_bytes()[:4] == b"\x89PNG" and sorted(p.name for p in tmp_path.iterdir()) == ["line.png"]


def test_to_jsonable_nested():
    assert to_jsonable({"a": (np.bool_(True), {"b": np.nan})}) == {"a": [True, {"b": None}]}


def test_atomic_output_renames_on_success_and_cleans_on_failure(tmp_path):
    import pytest

    from hepml_nb.core.results import atomic_output

    target = tmp_path / "sub" / "data.h5"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:  # noqa: PT012 - the block is the half-written file
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert not target.exists() and list(target.parent.iterdir()) == []
    with atomic_output(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("full")
    assert target.read_text() == "full" and list(target.parent.iterdir()) == [target]
