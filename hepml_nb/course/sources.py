"""Notebook sources: jupytext pairs in sync, committed notebooks without outputs, copies for users.

Each notebook ``notebooks/NN_name.ipynb`` has a text source ``notebooks/NN_name.py`` in
jupytext's ``py:percent`` format; the pairing is set in ``notebooks/jupytext.toml``
(``formats = "ipynb,py:percent"``), which ``jupytext --sync`` and JupyterLab with jupytext
both read. The ``.py`` is the source of truth that is reviewed and linted; the ``.ipynb``
is what papermill, nbval and learners open, and is committed without outputs.

``python -m hepml_nb.course.sources --check`` (pre-commit and CI) prints what is wrong and
how to fix it, and exits 1 when anything is.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hepml_nb.core.errors import OutputError

__all__ = ["check_notebook_sources", "copy_notebooks", "main"]

# cell metadata that Jupyter sets while you work and jupytext keeps out of the text file
_VOLATILE_METADATA = frozenset({"autoscroll", "collapsed", "scrolled", "trusted", "execution", "ExecuteTime"})


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (for copy-paste commands)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _cells(nb) -> list[tuple[str, str, dict]]:
    return [
        (c.cell_type, c.source, {k: v for k, v in c.metadata.items() if k not in _VOLATILE_METADATA}) for c in nb.cells
    ]


def _pair_problem(ipynb: Path, text: Path) -> str | None:
    """How the cells of ``text`` and ``ipynb`` differ (first difference), or None when in sync."""
    import jupytext
    import nbformat

    ours, theirs = _cells(jupytext.read(text, fmt="py:percent")), _cells(nbformat.read(ipynb, as_version=4))
    fix = f"run `jupytext --sync {_shown(text)}` (the newer file of the pair wins)"
    if len(ours) != len(theirs):
        return f"{_shown(text)} has {len(ours)} cells, {ipynb.name} has {len(theirs)}: out of sync; {fix}"
    for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        what = [name for name, x, y in zip(("type", "source", "metadata"), a, b, strict=True) if x != y]
        if what:
            return (
                f"{_shown(text)} and {ipynb.name} differ in the {' and '.join(what)} of cell {index + 1}: "
                f"out of sync; {fix}"
            )
    return None


def _output_problem(ipynb: Path) -> str | None:
    import nbformat

    nb = nbformat.read(ipynb, as_version=4)
    dirty = [
        i + 1
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    if not dirty:
        return None
    return (
        f"{_shown(ipynb)} carries outputs (cells {', '.join(map(str, dirty))}); notebooks are committed "
        f"without them: run `nbstripout --keep-id {_shown(ipynb)}` (or `pre-commit run nbstripout --all-files`)"
    )


def _id_problem(ipynb: Path) -> str | None:
    import nbformat

    ids = [c.get("id") for c in nbformat.read(ipynb, as_version=4).cells]
    doubled = sorted({i for i in ids if i is not None and ids.count(i) > 1})
    if None in ids or doubled:
        return (
            f"{_shown(ipynb)}: cell ids missing or repeated ({', '.join(map(str, doubled)) or 'missing'}); "
            f"give the cells unique ids, e.g. `jupytext --sync {_shown(ipynb.with_suffix('.py'))}`"
        )
    return None


def check_notebook_sources(folder: Path | str | None = None) -> list[str]:
    """Problems with the notebooks of ``folder`` (default: :func:`~hepml_nb.course.catalog.notebooks_dir`).

    Every ``*.ipynb`` must have its ``py:percent`` text source beside it with the same cells
    (type, source, metadata), carry no outputs, and have unique cell ids; every text
    source must have its notebook.

    Returns
    -------
    list of str
        One line per problem, naming the file and the command that fixes it; empty when all is well.

    Raises
    ------
    OutputError
        When jupytext is not installed (it comes with ``pip install 'hepml-nb[dev]'``).
    """
    from hepml_nb.course.catalog import notebooks_dir

    try:
        import jupytext  # noqa: F401
    except ImportError:
        raise OutputError(
            "checking notebook sources needs jupytext: pip install jupytext (or pip install 'hepml-nb[dev]')"
        ) from None
    folder = Path(folder) if folder is not None else notebooks_dir()
    problems = []
    for ipynb in sorted(folder.glob("*.ipynb")):
        text = ipynb.with_suffix(".py")
        if not text.is_file():
            problems.append(
                f"{_shown(ipynb)} has no text source {text.name}; create it with "
                f"`jupytext --sync {_shown(ipynb)}` (pairing from {folder.name}/jupytext.toml)"
            )
        else:
            problems.append(_pair_problem(ipynb, text) or "")
        problems += [_output_problem(ipynb) or "", _id_problem(ipynb) or ""]
    for text in sorted(folder.glob("*.py")):
        if not text.with_suffix(".ipynb").is_file():
            problems.append(
                f"{_shown(text)} has no paired notebook {text.stem}.ipynb; "
                f"create it with `jupytext --sync {_shown(text)}`"
            )
    return [p for p in problems if p]


def _topic_notebooks() -> list[Path]:
    from hepml_nb.course.catalog import TOPICS, notebooks_dir

    folder = notebooks_dir()
    return [folder / topic.notebook for topic in TOPICS.values()]


def _plan(pairs: list[tuple[Path, Path]], force: bool) -> None:
    """Raise before anything is written when a copy would replace a file that differs from ours."""
    changed = [target for source, target in pairs if target.exists() and not filecmp.cmp(source, target, shallow=False)]
    if changed and not force:
        raise OutputError(
            f"{len(changed)} notebook(s) in the way differ from the ones being copied (your edits?): "
            f"{', '.join(map(_shown, changed))}; nothing was copied. Choose another folder, move them "
            "away, or pass --force (force=True from Python) to replace them"
        )


def copy_notebooks(out: Path | str, *, student: bool = False, force: bool = False) -> list[Path]:
    """Copy the topic notebooks into ``out`` (for JupyterLab users of an installed hepml-nb).

    Parameters
    ----------
    out
        Folder to copy into; created when missing.
    student
        Also write the student builds (solutions removed, see
        :func:`hepml_nb.course.teaching.write_student_notebooks`) into ``out/student``.
    force
        Replace files in ``out`` that differ from the ones being copied. Without it such a
        file (a notebook you edited) is never replaced and nothing is copied.

    Returns
    -------
    list of Path
        The notebooks now in ``out`` (identical files already there are left as they are).

    Raises
    ------
    OutputError
        When a file in the way differs and ``force`` is False, or ``out`` cannot be written.
    """
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        pairs = [(path, out / path.name) for path in _topic_notebooks()]
        if student:
            from hepml_nb.course.teaching import write_student_notebooks

            built = write_student_notebooks([source for source, _ in pairs], tmp)
            pairs += [(path, out / "student" / path.name) for path, _ in built]
        _plan(pairs, force)
        try:
            for source, target in pairs:
                target.parent.mkdir(parents=True, exist_ok=True)
                if not (target.exists() and filecmp.cmp(source, target, shallow=False)):
                    shutil.copyfile(source, target)
        except OSError as exc:
            raise OutputError(f"cannot copy the notebooks into {out}: {exc}; choose a folder you can write") from None
    return [target for _, target in pairs]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hepml_nb.course.sources --check [FOLDER]``: print the problems, exit 1 when there are any."""
    parser = argparse.ArgumentParser(prog="python -m hepml_nb.course.sources", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        required=True,
        help="check that every notebook is in sync with its text source and has no outputs",
    )
    parser.add_argument("folder", nargs="?", help="notebooks folder (default: the package's notebooks)")
    args = parser.parse_args(argv)
    try:
        problems = check_notebook_sources(args.folder)
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("notebook sources OK: every .ipynb is in sync with its .py and has no outputs")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
