"""The time and memory tables of the docs equal what the benchmark's records give (issue #23)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from hepml_nb.course import memory

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_tables", ROOT / "benchmarks" / "tables.py")
tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tables)


def _record(topic="qml", profile="default", peak=1200.0, wall=400.0):
    return {
        "topic": topic,
        "profile": profile,
        "cache": "cold",
        "status": "ok",
        "peak_kernel_tree_mib": peak,
        "wall_s": wall,
        "commit": {"commit": "0123456789abcdef", "dirty": False},
        "machine": {"usable_cpus": 2, "cpu_model": "AMD EPYC", "memory_gib": 23.5},
        "date": "2026-12-06T12:00:00+00:00",
    }


def test_docs_tables_and_measured_needs_equal_the_records():
    assert tables.differences() == []


def test_every_guide_has_its_generated_table():
    for name in ("README.md", "particlenet/README.md", "qml/README.md", "calogan/README.md", "fpga/README.md"):
        text = (ROOT / "tutorials" / name).read_text()
        assert "<!-- BEGIN bench_notebooks:" in text and "<!-- END bench_notebooks -->" in text, name


def test_render_gives_the_figures_of_the_records_and_the_budget():
    shared = {**_record(topic="calogan", peak=1700.0, wall=700.0), "cpu_s": 650.0, "other_cpu_s": 75.0}
    text = tables.render([_record(), shared])
    assert "| qml | default | 1,200 MiB | 6 min 40 s | - | yes | `01234567` |" in text
    assert "| calogan | default | 1,700 MiB | 11 min 40 s | 10 min 50 s / 1 min 15 s | **no** |" in text
    assert tables.render([_record()], "fpga").startswith("(no benchmark record for 'fpga' yet")


def test_a_record_with_a_changed_parameter_is_its_own_row_and_not_the_profiles_need():
    plain = _record(topic="calogan", peak=1400.0, wall=500.0)
    trained = {**_record(topic="calogan", peak=1450.0, wall=650.0), "params": {"train_gan": "True"}}
    text = tables.render([trained, plain], "calogan")
    rows = [line for line in text.splitlines() if line.startswith("| calogan")]
    assert rows[0].startswith("| calogan | default | 1,400 MiB | 8 min 20 s |")
    assert rows[1].startswith("| calogan | default, train_gan=True | 1,450 MiB | 10 min 50 s | - | **no** |")
    assert tables.measured([trained, plain])["calogan"]["default"]["wall_s"] == 500.0


def test_results_block_gives_each_recorded_runs_headline_figures():
    plain = {**_record(topic="calogan"), "results": ["challenge AUC, high level: GAN: 0.677 +- 0.018"]}
    trained = {**plain, "params": {"train_gan": "True"}, "results": ["challenge AUC, high level: GAN: 0.7 +- 0.02"]}
    text = tables.render_results([trained, plain, _record()], "calogan")
    assert text.splitlines()[:3] == [
        "| figure | default | default, train_gan=True |",
        "|---|---|---|",
        "| challenge AUC, high level: GAN | 0.677 ± 0.018 | 0.7 ± 0.02 |",
    ]
    assert tables.render_results([_record()], "qml").startswith("(no benchmark record with results for 'qml'")


def test_score_block_gives_the_records_rows_and_what_made_them(tmp_path):
    row = {
        "name": "GAN (shipped)",
        "split": "test",
        "preset": "tutorial",
        "n": 100000,
        "command": "python x.py",
        "commit": "abc1234",
        "date": "2026-12-06",
        "auc_high": 0.979,
        "auc_err_high": 0.0012,
        "jsd_high": 0.75,
        "jsd_err_high": 0.004,
    }
    (tmp_path / "s.jsonl").write_text(json.dumps(row) + "\n")
    text = tables.render_score("s", tmp_path)
    assert text.splitlines()[:3] == [
        "| tutorial preset, 100,000 vs 100,000 | AUC high | JSD high |",
        "|---|---|---|",
        "| GAN (shipped) | 0.979 ± 0.001 | 0.750 ± 0.004 |",
    ]
    assert "`python x.py` (split `test`, commit `abc1234`, 2026-12-06" in text
    assert tables.render_score("missing", tmp_path).startswith("(no record")


def test_a_typed_figure_in_a_block_is_stale(tmp_path, monkeypatch):
    doc = tmp_path / "README.md"
    block = tables.render([_record()], "qml")
    doc.write_text(f"x\n<!-- BEGIN bench_notebooks: qml -->\n{block}<!-- END bench_notebooks -->\n")
    monkeypatch.setattr(tables, "DOCS", (doc,))
    monkeypatch.setattr(tables, "MEASURED", tmp_path / "measured.json")
    (tmp_path / "measured.json").write_text(json.dumps(tables.measured([_record()])))
    assert tables.differences([_record()]) == []
    doc.write_text(doc.read_text().replace("1,200 MiB", "1,100 MiB"))
    assert [Path(name).name for name in tables.differences([_record()])] == ["README.md"]


def test_memory_warning_names_the_need_and_a_smaller_profile(monkeypatch):
    needs = {"qml": {"ci": {"peak_kernel_tree_mib": 700, "commit": "abc"}, "default": {"peak_kernel_tree_mib": 1400}}}
    monkeypatch.setattr(memory, "measured_needs", lambda: needs)
    text = memory.memory_warning("qml", "default", available=(1000 * 2**20, "the memory limit of this session"))
    assert "default profile of qml peaked at 1400 MiB" in text and "1000 MiB the memory limit" in text
    assert "run --profile ci (measured 700 MiB)" in text
    assert memory.memory_warning("qml", "default", available=(2000 * 2**20, "x")) == ""
    assert memory.memory_warning("fpga", "default", available=(1, "x")) == ""  # never measured: nothing to say


@pytest.mark.parametrize("version", [1, 2])
def test_available_memory_reads_the_sessions_cgroup_limit(tmp_path, version):
    if version == 2:
        (tmp_path / "proc").write_text("0::/user/alice\n")
        base = tmp_path / "cg" / "user" / "alice"
        base.mkdir(parents=True)
        (base / "memory.max").write_text(str(2 * 2**30))
        (base / "memory.current").write_text(str(2**29))
    else:
        (tmp_path / "proc").write_text("5:cpu:/x\n4:memory:/jupyter/alice\n")
        base = tmp_path / "cg" / "memory" / "jupyter" / "alice"
        base.mkdir(parents=True)
        (base / "memory.limit_in_bytes").write_text(str(2 * 2**30))
        (base / "memory.usage_in_bytes").write_text(str(2**29))
    free, where = memory._cgroup_available(tmp_path / "proc", tmp_path / "cg")
    assert free == 2 * 2**30 - 2**29 and "memory limit of this session" in where


def test_no_cgroup_limit_means_the_free_memory_of_the_machine(tmp_path):
    (tmp_path / "proc").write_text("0::/\n")
    (tmp_path / "cg").mkdir()
    (tmp_path / "cg" / "memory.max").write_text("max")
    assert memory._cgroup_available(tmp_path / "proc", tmp_path / "cg") is None
    assert (
        memory.available_memory()[1] in ("the free memory of this machine",) or "limit" in memory.available_memory()[1]
    )


def test_referee_block_is_the_scripts_record(tmp_path):
    record = json.loads((ROOT / "benchmarks" / "results" / "referee-ParticleNet_full.json").read_text())
    text = tables.render_referee()
    first = record["rows"][0]
    assert f"| {first['background']} | {first['detector']} | {first['n_qcd']:,} |" in text
    assert f"{first['auc']:.4f}" in text and record["command"] in text
    assert tables.render_referee(tmp_path).startswith("(no referee record yet")
