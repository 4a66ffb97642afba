"""Write the time and memory tables of the docs from the benchmark's records, never by hand.

``benchmarks/bench_notebooks.py`` writes one record per topic and profile into ``benchmarks/results/``.
This script renders them into every markdown file that holds a marked block::

    <!-- BEGIN bench_notebooks: all -->        (or the key of one topic, ``results-<topic>``: that topic's
    ...the generated table...                     headline figures, ``score-<record>``: a generator score
                                                  record, or ``concurrent``, or ``referee``)
    <!-- END bench_notebooks -->

and writes ``hepml_nb/course/measured.json`` (each topic's measured peak and time per profile, from which
``hepml-nb run`` warns before a run that will not fit the session's memory).

    python benchmarks/tables.py            # rewrite the blocks and measured.json
    python benchmarks/tables.py --check    # exit 1 when a block or measured.json differs from the records

``tests/test_docs_tables.py`` runs the check, so a figure typed into a block, or a record newer than
its block, fails the tests.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MEASURED = ROOT / "hepml_nb" / "course" / "measured.json"
DOCS = (ROOT / "tutorials" / "README.md", *sorted((ROOT / "tutorials").glob("*/README.md")))
BLOCK = re.compile(
    r"(<!-- BEGIN bench_notebooks: (?P<what>[\w-]+) -->\n)(?P<body>.*?)(<!-- END bench_notebooks -->)", re.S
)
PROFILE_ORDER = ("ci", "default", "full")
#: the budgets of issue #23: peak of the kernel and its children [MiB] and wall time [s], per profile
BUDGETS = {"ci": (1024, None), "default": (1536, 600)}


def load_records(folder: Path = RESULTS) -> list[dict[str, Any]]:
    """The cold-cache records of ``bench_notebooks.py`` (one per topic and profile), in topic and profile order."""
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("notebooks-*.json"))]
    return _order([r for r in records if "topic" in r and r.get("cache") == "cold"])


def _order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from hepml_nb.course.catalog import TOPICS

    keys = list(TOPICS)

    def order(record: dict[str, Any]) -> tuple[int, int, str]:
        topic = keys.index(record["topic"]) if record["topic"] in keys else len(keys)
        return topic, PROFILE_ORDER.index(record["profile"]), _profile(record)

    return sorted(records, key=order)


def _profile(record: dict[str, Any]) -> str:
    """The profile, with the parameters a record changed from it (``default, train_gan=True``)."""
    changed = record.get("params", {})
    return ", ".join([record["profile"], *(f"{k}={v}" for k, v in changed.items())])


def _commit(record: dict[str, Any]) -> str:
    """The record's commit, short, with ``+`` when the tree had changes (else the package version)."""
    commit = record["commit"].get("commit") or record["commit"].get("version", "?")
    return f"{commit[:8]}{'+' if record['commit'].get('dirty') else ''}"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60):02d} s" if seconds >= 60 else f"{seconds:.0f} s"


def _budget(record: dict[str, Any]) -> str:
    peak_budget, time_budget = BUDGETS.get(record["profile"], (None, None))
    checks = []
    if peak_budget is not None:
        checks.append((record["peak_kernel_tree_mib"] or 0) <= peak_budget)
    if time_budget is not None:
        checks.append(record["wall_s"] <= time_budget)
    return "" if not checks else ("yes" if all(checks) else "**no**")


def _who(record: dict[str, Any]) -> str:
    """`` (the cache owned by root, the runs as nobody)`` where the record says who ran them."""
    if "user" not in record:
        return ""
    return f" (the cache owned by {record['cache_owner']}, the runs as {record['user']})"


def _cpu(record: dict[str, Any]) -> str:
    if "cpu_s" not in record:
        return "-"
    return f"{_minutes(record['cpu_s'])} / {_minutes(record['other_cpu_s'])}"


def render(records: list[dict[str, Any]], topic: str = "all") -> str:
    """The markdown table of ``records`` (every topic, or one), with where and when they were measured."""
    chosen = _order([r for r in records if topic == "all" or r["topic"] == topic])
    if not chosen:
        return f"(no benchmark record for {topic!r} yet: run `python benchmarks/bench_notebooks.py`)\n"
    lines = [
        "| topic | profile | peak memory, kernel + children | wall time (cold cache) | CPU time: run / other jobs "
        "| within budget | commit |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in chosen:
        lines.append(
            f"| {r['topic']} | {_profile(r)} | {r['peak_kernel_tree_mib'] or 0:,.0f} MiB | {_minutes(r['wall_s'])} | "
            f"{_cpu(r)} | {_budget(r)} | `{_commit(r)}` |"
        )
    machine = chosen[0]["machine"]
    lines += [
        "",
        f"Measured by `python benchmarks/bench_notebooks.py` ({', '.join(sorted({r['profile'] for r in chosen}))} "
        f"profiles) on {machine['usable_cpus']} CPU cores ({machine['cpu_model']}), {machine['memory_gib']} GiB, "
        f"{chosen[0]['date'][:10]}: each run in a fresh process with an empty data cache; the peak is the sum over the "
        "kernel and every process it starts of their proportional resident memory (PSS: pages a forked worker "
        "shares with the kernel counted once, as a session's memory limit counts them), sampled five times a "
        "second. CPU time: the run's (user + system, every process it started) and, in the same wall time, other "
        "jobs' on the same machine (a shared machine's wall times are upper bounds; - : not recorded). "
        "Budgets: `ci` 1 GiB; `default` 1.5 GiB and 10 minutes.",
    ]
    return "\n".join(lines) + "\n"


def measured(records: list[dict[str, Any]]) -> dict[str, Any]:
    """``measured.json``: per topic and profile, the peak of the kernel tree, the wall time and the commit
    (of the profile as it is: records with changed parameters are left out)."""
    table: dict[str, Any] = {}
    for r in _order([r for r in records if not r.get("params")]):
        table.setdefault(r["topic"], {})[r["profile"]] = {
            "peak_kernel_tree_mib": r["peak_kernel_tree_mib"],
            "wall_s": r["wall_s"],
            "commit": r["commit"].get("commit") or "",
            "date": r["date"][:10],
        }
    return table


def render_concurrent(folder: Path = RESULTS) -> str:
    """The hub-scale check (``bench_notebooks.py --concurrent``) in words and a table."""
    path = folder / "notebooks-concurrent-ci.json"
    if not path.exists():
        return "(no record of the concurrent check yet: run `python benchmarks/bench_notebooks.py --concurrent 4`)\n"
    r = json.loads(path.read_text())
    lines = ["| topic | peak memory, kernel + children | wall time | status |", "|---|---|---|---|"]
    for run in r["runs"]:
        peak = run["peak_kernel_tree_mib"] or 0
        lines.append(f"| {run['topic']} | {peak:,.0f} MiB | {_minutes(run['wall_s'])} | {run['status']} |")
    same = all(r["metrics_as_alone"].values())
    lines += [
        "",
        f"Four `ci` runs at once ({', '.join(r['topics'])}) on {r['machine']['usable_cpus']} CPU cores, sharing one "
        f"data cache warmed beforehand and made read-only{_who(r)}: "
        f"{'all ended ok' if r['all_ok'] else 'not all ended ok'}, "
        f"{'each with the metrics it gives alone' if same else 'with metrics that differ from a run alone'}, "
        f"{'nothing in the cache changed' if r['cache_unchanged'] else 'the cache changed'}; the sum of their peaks "
        f"was {r['sum_of_peaks_mib']:,.0f} MiB, the last ended after {_minutes(r['wall_s'])} "
        f"(`{r['command']}`, commit `{(r['commit'].get('commit') or '?')[:8]}`, {r['date'][:10]}).",
    ]
    return "\n".join(lines) + "\n"


def render_results(records: list[dict[str, Any]], topic: str) -> str:
    """The headline figures of ``topic``'s recorded runs (what ``hepml-nb run`` prints last): a row per figure,
    a column per recorded run."""
    chosen = [r for r in _order(records) if r["topic"] == topic and r.get("results")]
    if not chosen:
        return f"(no benchmark record with results for {topic!r} yet: run `python benchmarks/bench_notebooks.py`)\n"
    table: dict[str, dict[str, str]] = {}
    for r in chosen:
        for line in r["results"]:
            figure, _, value = line.rpartition(": ")
            table.setdefault(figure, {})[_profile(r)] = value.replace("+-", "±")
    columns = [_profile(r) for r in chosen]
    lines = [f"| figure | {' | '.join(columns)} |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {figure} | {' | '.join(row.get(c, '-') for c in columns)} |" for figure, row in table.items()]
    runs = "; ".join(f"{_profile(r)}: commit `{_commit(r)}`, {r['date'][:10]}" for r in chosen)
    return "\n".join(lines) + (
        f"\n\nThe runs of the table above (`python benchmarks/bench_notebooks.py`, cold cache, seed as the profile "
        f"sets it): {runs}. Errors are the bootstrap errors the notebook computes.\n"
    )


def render_score(name: str, folder: Path = RESULTS) -> str:
    """A ``score_calo_generators.py --json`` record (``benchmarks/results/<name>.jsonl``): AUC and JSD per model."""
    path = folder / f"{name}.jsonl"
    if not path.exists():
        return f"(no record {_shown(path)} yet: run `python benchmarks/score_calo_generators.py --json ...`)\n"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    levels = [lv for lv in ("high", "low") if f"auc_{lv}" in rows[0]]
    head = [f"{what} {lv}" for lv in levels for what in ("AUC", "JSD")]
    lines = [f"| {rows[0]['preset']} preset, {rows[0]['n']:,} vs {rows[0]['n']:,} | {' | '.join(head)} |"]
    lines.append("|---" * (len(head) + 1) + "|")
    for r in rows:
        cells = [f"{r[f'{w}_{lv}']:.3f} ± {r[f'{w}_err_{lv}']:.3f}" for lv in levels for w in ("auc", "jsd")]
        lines.append(f"| {r['name']} | {' | '.join(cells)} |")
    first = rows[0]
    return "\n".join(lines) + (
        f"\n\n`{first['command']}` (split `{first['split']}`, commit `{first['commit']}`, {first['date']}; "
        "errors: bootstrap over the test showers).\n"
    )


def render_referee(folder: Path = RESULTS, model: str = "ParticleNet_full") -> str:
    """The published JetClass model as a referee of the project's jets (``scripts/referee_table.py --json``)."""
    from hepml_nb.jets.study import referee_markdown

    path = folder / f"referee-{model}.json"
    if not path.exists():
        return f"(no referee record yet: run `python scripts/referee_table.py --json {_shown(path)}`)\n"
    r = json.loads(path.read_text())
    return referee_markdown(r["rows"]) + (
        f"\nThe published `{r['model']}` (sha256 `{r['model_sha256'][:12]}`) on jets of generator "
        f"`{r['generator_version']}`: "
        f"`{r['command']}` (commit `{(r['commit'].get('commit') or '?')[:8]}`, {r['date'][:10]}).\n"
    )


def _block(what: str, records: list[dict[str, Any]]) -> str:
    if what == "concurrent":
        return render_concurrent()
    if what == "referee":
        return render_referee()
    if what.startswith("score-"):
        return render_score(what.removeprefix("score-"))
    if what.startswith("results-"):
        return render_results(records, what.removeprefix("results-"))
    return render(records, what)


def _rewritten(text: str, records: list[dict[str, Any]]) -> str:
    return BLOCK.sub(lambda m: m.group(1) + _block(m.group("what"), records) + m.group(4), text)


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def differences(records: list[dict[str, Any]] | None = None) -> list[str]:
    """The docs blocks and the measured.json that differ from what ``records`` give (empty when all agree)."""
    records = load_records() if records is None else records
    stale = [_shown(p) for p in DOCS if p.exists() and _rewritten(p.read_text(), records) != p.read_text()]
    current = json.loads(MEASURED.read_text()) if MEASURED.exists() else None
    if current != measured(records):
        stale.append(_shown(MEASURED))
    return stale


def write(records: list[dict[str, Any]] | None = None) -> list[Path]:
    """Rewrite every block and measured.json from ``records``; the files changed."""
    records = load_records() if records is None else records
    changed = []
    for path in DOCS:
        if path.exists():
            text = _rewritten(path.read_text(), records)
            if text != path.read_text():
                path.write_text(text)
                changed.append(path)
    table = json.dumps(measured(records), indent=2, sort_keys=True) + "\n"
    if not MEASURED.exists() or MEASURED.read_text() != table:
        MEASURED.write_text(table)
        changed.append(MEASURED)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when something is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = differences()
        for name in stale:
            print(f"stale: {name} (run python benchmarks/tables.py)")
        return 1 if stale else 0
    for path in write():
        print(f"wrote {_shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
