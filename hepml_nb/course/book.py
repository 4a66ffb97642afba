"""The tutorial website: a Sphinx book (MyST-NB + sphinx-book-theme) of the executed notebooks.

:func:`build_book` executes every topic's notebook in a profile (``default`` for the real site,
``ci`` for tests and CI), stages the executed notebooks, the intro pages of ``docs/``, the workshop
guides and instructor notes of ``tutorials/`` and a parameter table per topic (generated from the
parameters cells and the catalog) into a source folder, and runs Sphinx on it. The result is static
HTML that works opened from disk with no network: nothing is loaded from a CDN (the ipywidgets
embedding is off; MathJax 2 is served from the site itself when Debian's ``libjs-mathjax`` is
installed, math shows as LaTeX source otherwise).

Execution cache: each executed notebook is kept in a run folder
``<build_dir>/executed/<topic>-<profile>-<key>``, where ``key`` hashes the notebook, the merged
parameters and the hepml-nb version (:func:`execution_key` of the run plan, which read the notebook
once); a later build with the same key reuses it, and the run folders of older keys of a built topic
and profile are removed. Sphinx's environment is kept in ``<build_dir>/doctrees``, staged files are
rewritten only when they change, and a build whose staged sources and options are unchanged is
skipped altogether (a stamp in the output folder), so an unchanged rebuild costs nothing.

A notebook that fails to execute, or whose executed copy holds an error output, fails the build
(:class:`~hepml_nb.core.errors.NotebookExecutionError`), and so does a Sphinx error.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from hepml_nb._version import __version__
from hepml_nb.core.errors import HepmlError, NotebookExecutionError, OutputError
from hepml_nb.course.catalog import PROFILES, TOPICS, get_topic, notebook_path
from hepml_nb.course.params import read_parameters
from hepml_nb.course.runner import RunPlan, launch, prepare_run, read_status

__all__ = [
    "BookResult",
    "execution_key",
    "executed_run_dir",
    "executed_notebook",
    "parameter_table",
    "stage_sources",
    "build_book",
    "MATHJAX_DIR",
    "DEFAULT_REPOSITORY",
]

MATHJAX_DIR = Path("/usr/share/javascript/mathjax")
DEFAULT_REPOSITORY = "https://github.com/hepml-nb/hepml-nb"
_STAMP = ".hepml-book-stamp.json"
_FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" '
    'fill="#1f4e79"/><path d="M6 22 L16 10 L26 22" stroke="#f5b700" stroke-width="3" fill="none"/></svg>\n'
)
_ROOT = Path(__file__).resolve().parents[2]
_MATHJAX_PARTS = (
    "MathJax.js",
    "config/TeX-AMS_CHTML.js",
    "extensions",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "jax/element",
    "fonts/HTML-CSS/TeX/woff",
    "localization/en",
)


class BookResult(NamedTuple):
    """Where the site went, the run folder of each topic, which of them were reused, whether Sphinx ran."""

    out: Path
    runs: dict[str, Path]
    reused: list[str]
    built: bool
    seconds: float


def execution_key(plan: RunPlan) -> str:
    """Hash of a run plan's notebook, its parameters and the hepml-nb version (16 hex digits)."""
    import nbformat

    digest = hashlib.sha256(nbformat.writes(plan.source).encode())
    digest.update(
        json.dumps(
            {"topic": plan.topic, "parameters": plan.params, "version": __version__}, sort_keys=True, default=str
        ).encode()
    )
    return digest.hexdigest()[:16]


def executed_run_dir(build_dir: Path | str, plan: RunPlan) -> Path:
    """The run folder of the execution cache for a run plan (its topic, profile and :func:`execution_key`)."""
    return Path(build_dir).resolve() / "executed" / f"{plan.topic}-{plan.profile}-{execution_key(plan)}"


def _error_outputs(nb: Any) -> list[str]:
    """``ename: evalue`` of every error output of a notebook."""
    return [
        f"code cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code")
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def executed_notebook(topic: str, profile: str, build_dir: Path | str, *, log: bool = False) -> tuple[Path, bool]:
    """The executed notebook of ``topic`` from the execution cache, executing it first when missing.

    Returns (path, reused).

    Raises
    ------
    NotebookExecutionError
        The notebook failed, or its executed copy holds an error output.
    """
    import nbformat

    plan = prepare_run(topic, profile, force=True)
    folder = executed_run_dir(build_dir, plan)
    target = folder / plan.notebook.name
    reused = read_status(folder).get("status") == "ok" and target.exists()
    if not reused:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"book: executing {topic} ({profile} profile) into {folder}", file=sys.stderr)
        launch(plan._replace(folder=folder), log_output=log)
    errors = _error_outputs(nbformat.read(target, as_version=4))
    if errors:
        raise NotebookExecutionError(
            f"{target.name} ({topic}) holds error outputs, so the book is not built: "
            + "; ".join(errors)
            + f"; see the executed notebook {target}"
        )
    return target, reused


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def parameter_table(topic: str) -> str:
    """Markdown page: every parameter of ``topic`` with type, default, the ci / full overrides, rules and help."""
    key = get_topic(topic).key
    info, params = TOPICS[key], read_parameters(notebook_path(key))
    lines = [
        f"# Parameters: {info.title}",
        "",
        f"The parameters cell of `{info.notebook}`; its values are the `default` profile. Run with "
        f"`hepml-nb run {key} --profile ci` (or `full`), override one with `-p NAME VALUE`.",
        "",
        "| name | help | type | default | ci | full | allowed |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in params.values():
        ci, full = (info.profiles.get(name, {}) for name in ("ci", "full"))
        rule = info.rules[p.name].describe() if p.name in info.rules else ""
        shown = [
            f"`{p.name}`",
            p.help,
            p.type_name,
            f"`{p.default!r}`",
            f"`{ci[p.name]!r}`" if p.name in ci else "",
            f"`{full[p.name]!r}`" if p.name in full else "",
            rule,
        ]
        lines.append("| " + " | ".join(_cell(v) for v in shown) + " |")
    return "\n".join(lines) + "\n"


def _conf(*, repository: str, branch: str, binder: str, jupyterhub: str) -> str:
    options = {
        "repository_url": repository,
        "repository_branch": branch,
        "path_to_docs": "",
        "use_repository_button": True,
        "use_download_button": True,
        "launch_buttons": {"binderhub_url": binder, "jupyterhub_url": jupyterhub, "notebook_interface": "jupyterlab"},
    }
    return "\n".join(
        [
            "# generated by hepml_nb.course.book: edit the options of `hepml-nb book` instead",
            f"project = 'hepml-nb'\nauthor = 'hepml-nb authors'\nrelease = {__version__!r}",
            "extensions = ['myst_nb']",
            "nb_execution_mode = 'off'  # executed beforehand by hepml_nb.course.book (execution cache)",
            "nb_output_stderr = 'remove'  # progress bars and warnings of the kernel",
            "nb_ipywidgets_js = {}  # no widget JavaScript from a CDN: the site works offline",
            "myst_enable_extensions = ['dollarmath', 'amsmath']",
            "html_theme = 'sphinx_book_theme'",
            "html_title = 'hepml-nb: machine learning for HEP'",
            f"html_theme_options = {options!r}",
            "html_context = {'default_mode': 'auto'}  # the theme logs a console error without it",
            "html_static_path = ['_static']",
            "html_favicon = '_static/favicon.svg'  # no request for /favicon.ico",
            "exclude_patterns = ['_build', '**.ipynb_checkpoints']",
            "suppress_warnings = ['mystnb.unknown_mime_type', 'myst.xref_missing', 'misc.highlighting_failure']",
            "mathjax_path = 'mathjax/MathJax.js?config=TeX-AMS_CHTML'  # served by the site (a stub without "
            "libjs-mathjax: math shows as LaTeX source)",
            "mathjax2_config = {'tex2jax': {'processClass': 'tex2jax_process|mathjax_process|math|output_area'}}"
            "  # MyST-NB marks notebook pages tex2jax_ignore",
            "",
            "",
        ]
    )


def _rewrite_links(text: str) -> str:
    """Links of the tutorials' Markdown to the notebooks point to the notebook pages of the site."""
    for _key, info in TOPICS.items():
        stem = Path(info.notebook).stem
        for prefix in ("../../notebooks/", "../notebooks/", "notebooks/"):
            text = text.replace(f"]({prefix}{info.notebook})", f"](../notebooks/{stem}.ipynb)")
            text = text.replace(f"]({prefix}{stem}.py)", f"](../notebooks/{stem}.ipynb)")
    return text


def _index(topics: Sequence[str], guides: Sequence[str], profile: str) -> str:
    intro = _ROOT / "docs" / "intro.md"
    text = intro.read_text() if intro.exists() else "# hepml-nb\n"
    rows = ["", "| topic | notebook | what you do |", "|---|---|---|"]
    rows += [
        f"| `{k}` | [{TOPICS[k].title}](notebooks/{Path(TOPICS[k].notebook).stem}.ipynb) | {TOPICS[k].summary} |"
        for k in topics
    ]
    text += "\n".join(rows) + f"\n\nThe notebooks on this site were executed with the `{profile}` profile.\n"
    tocs = [
        ("Tutorials", [f"notebooks/{Path(TOPICS[k].notebook).stem}" for k in topics]),
        ("Parameters", [f"parameters/{k}" for k in topics]),
        ("Workshop", ["workshop"] + [f"guides/{k}" for k in guides] + [f"instructors/{k}" for k in guides]),
        ("Running", [p.stem for p in sorted((_ROOT / "docs").glob("*.md")) if p.stem != "intro"]),
    ]
    for caption, entries in tocs:
        if entries:
            text += f"\n```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n\n" + "\n".join(entries) + "\n```\n"
    return text


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def stage_sources(src: Path, notebooks: Mapping[str, Path], *, profile: str, conf: str) -> dict[str, str]:
    """Write the book's sources into ``src`` (only changed files are rewritten); return {relative path: sha256}."""
    files: dict[str, bytes] = {"conf.py": conf.encode()}
    guides = [k for k in notebooks if (_ROOT / "tutorials" / k / "README.md").exists()]
    files["index.md"] = _index(list(notebooks), guides, profile).encode()
    for key, path in notebooks.items():
        files[f"notebooks/{path.stem}.ipynb"] = path.read_bytes()
        files[f"parameters/{key}.md"] = parameter_table(key).encode()
    for key in guides:
        files[f"guides/{key}.md"] = _rewrite_links((_ROOT / "tutorials" / key / "README.md").read_text()).encode()
        notes = _ROOT / "tutorials" / key / "INSTRUCTOR_NOTES.md"
        if notes.exists():
            files[f"instructors/{key}.md"] = _rewrite_links(notes.read_text()).encode()
    workshop = _ROOT / "tutorials" / "README.md"
    files["workshop.md"] = (_rewrite_links(workshop.read_text()) if workshop.exists() else "# Workshop\n").encode()
    for page in sorted((_ROOT / "docs").glob("*.md")):
        if page.stem != "intro":
            files[page.name] = page.read_bytes()
    files["_static/favicon.svg"] = _FAVICON.encode()
    files["_static/mathjax/MathJax.js"] = b"/* no libjs-mathjax when the book was built: math shows as LaTeX */\n"
    if MATHJAX_DIR.is_dir():
        for part in _MATHJAX_PARTS:
            base = MATHJAX_DIR / part
            for item in [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()):
                files[f"_static/mathjax/{item.relative_to(MATHJAX_DIR)}"] = item.read_bytes()
    for stale in (
        [p for p in src.rglob("*") if p.is_file() and str(p.relative_to(src)) not in files] if src.exists() else []
    ):
        stale.unlink()
    for name, data in files.items():
        _write_if_changed(src / name, data)
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def _sphinx(src: Path, out: Path, doctrees: Path, *, quiet: bool) -> None:
    command = [
        sys.executable,
        "-P",  # the working folder stays off sys.path: a planted sphinx.py is never run
        "-m",
        "sphinx",
        "-b",
        "html",
        "-d",
        str(doctrees),
        *(["-q"] if quiet else []),
        str(src),
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise HepmlError(
            f"Sphinx failed building the book (exit {done.returncode}):\n{done.stderr[-3000:]}\n"
            f"command: {' '.join(command)}"
        )
    if not quiet:
        print(done.stdout[-2000:], file=sys.stderr)


def build_book(
    out: Path | str = "site",
    *,
    profile: str = "default",
    build_dir: Path | str = "build/book",
    topics: Sequence[str] | None = None,
    repository: str = DEFAULT_REPOSITORY,
    branch: str = "main",
    binder: str = "https://mybinder.org",
    jupyterhub: str = "",
    log: bool = False,
    quiet: bool = True,
) -> BookResult:
    """Execute (or reuse) the notebooks and build the static site into ``out``; see the module doc.

    Raises
    ------
    ParameterError
        An unknown topic or profile.
    NotebookExecutionError
        A notebook failed or holds an error output.
    OutputError
        ``out`` is a non-empty folder that holds no book built by hepml-nb.
    HepmlError
        Sphinx failed.
    """
    start = time.perf_counter()
    if profile not in PROFILES:
        from hepml_nb.core.errors import ParameterError

        raise ParameterError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    keys = [get_topic(t).key for t in topics] if topics else list(TOPICS)
    out, build_dir = Path(out).resolve(), Path(build_dir).resolve()
    notebooks, reused = {}, []
    for key in keys:
        notebooks[key], was_reused = executed_notebook(key, profile, build_dir, log=log)
        reused += [key] * was_reused
        for stale in (build_dir / "executed").glob(f"{key}-{profile}-*"):  # older notebooks or parameters
            if stale != notebooks[key].parent:
                shutil.rmtree(stale, ignore_errors=True)
    conf = _conf(repository=repository, branch=branch, binder=binder, jupyterhub=jupyterhub)
    hashes = stage_sources(build_dir / "src", notebooks, profile=profile, conf=conf)
    stamp = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()
    built = not (out / _STAMP).exists() or json.loads((out / _STAMP).read_text()).get("sources") != stamp
    if built:
        if out.exists() and any(out.iterdir()) and not (out / _STAMP).exists():
            raise OutputError(f"{out} is not empty and holds no book built by hepml-nb; give a new or empty folder")
        # Sphinx writes into build_dir/html (MyST-NB puts its jupyter_execute/ beside it), then the site is copied
        _sphinx(build_dir / "src", build_dir / "html", build_dir / "doctrees", quiet=quiet)
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(build_dir / "html", out, ignore=shutil.ignore_patterns(".buildinfo*", _STAMP))
        (out / _STAMP).write_text(json.dumps({"sources": stamp, "profile": profile, "topics": keys}) + "\n")
    runs = {key: path.parent for key, path in notebooks.items()}
    return BookResult(out, runs, reused, built, round(time.perf_counter() - start, 2))
