"""Exercise checkers: tell the learner Correct, or Incorrect with the reason and a hint.

A topic's ``exercises`` module writes each checker as a plain function that raises
:class:`Incorrect` when the answer is wrong, and decorates it with :func:`checker`.
The decorated checker prints the verdict, records it in the run folder and returns
None (so Jupyter shows nothing after the message); it never raises, so a notebook
with an unsolved exercise still runs to the end::

    @checker
    def check_rejection(answer, y_true, score):
        expected = rejection_at(y_true, score, 0.5)
        expect_close(answer, expected, rtol=1e-3, what="1/eps_B at eps_S = 50 %",
                     hint="invert the background efficiency, do not quote eps_B itself")

The answer is the checker's first argument; an answer that is None (the student
build's ``name = None  # YOUR CODE HERE``) is "not attempted", not wrong.

Verdicts go to ``exercises.json`` in the run folder (:func:`hepml_nb.core.results.run_dir`):
a JSON list with one entry per checker, in the order first checked::

    [{"exercise": "check_rejection", "verdict": "correct" | "incorrect" | "not attempted",
      "reason": "...", "hint": "..."}]

Checking an exercise again replaces its entry. :func:`load_verdicts` reads the list back.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hepml_nb.core.results import run_dir, write_json_atomic

__all__ = [
    "Incorrect",
    "checker",
    "expect_close",
    "expect_shape",
    "expect_true",
    "load_verdicts",
    "verdict_of",
    "EXERCISES_FILE",
    "VERDICTS",
]

EXERCISES_FILE = "exercises.json"
VERDICTS = ("correct", "incorrect", "not attempted")


class Incorrect(Exception):
    """Raised inside a checker: ``reason`` says what is wrong, ``hint`` how to get there."""

    def __init__(self, reason: str, hint: str = ""):
        super().__init__(reason)
        self.reason, self.hint = reason, hint


def load_verdicts(folder: Path | str | None = None) -> list[dict[str, str]]:
    """Read the exercise verdicts of a run folder (default: the current run); empty if none recorded.

    Returns
    -------
    list of dict
        One ``{"exercise", "verdict", "reason", "hint"}`` per checker, in the order first checked;
        ``verdict`` is one of ``"correct"``, ``"incorrect"``, ``"not attempted"``.
    """
    path = Path(folder if folder is not None else run_dir()) / EXERCISES_FILE
    if not path.exists():
        return []
    return json.loads(path.read_text())


def _record(exercise: str, verdict: str, reason: str, hint: str) -> None:
    entry = {"exercise": exercise, "verdict": verdict, "reason": reason, "hint": hint}
    try:
        folder = run_dir()
        verdicts = load_verdicts(folder)
        if not isinstance(verdicts, list):
            raise ValueError(f"{EXERCISES_FILE} does not hold a list")
        names = [v.get("exercise") for v in verdicts]
        if exercise in names:
            verdicts[names.index(exercise)] = entry
        else:
            verdicts.append(entry)
        write_json_atomic(folder / EXERCISES_FILE, verdicts)
    except (OSError, ValueError) as exc:  # a read-only folder or a damaged file must not stop the notebook
        print(f"(the verdict was not recorded in {EXERCISES_FILE}: {type(exc).__name__}: {exc})")


def _answer(fn: Callable[..., None], args: tuple, kwargs: dict) -> Any:
    """The checker's first argument (the learner's answer), given by position or by name."""
    if args:
        return args[0]
    first = next(iter(inspect.signature(fn).parameters), None)
    return kwargs.get(first) if first is not None else None


def verdict_of(fn: Callable[..., None], args: tuple, kwargs: dict) -> tuple[str, str, str]:
    """``(verdict, reason, hint)`` of the raising check function ``fn`` called with these arguments; never raises.

    The answer is the first argument: None is "not attempted".
    """
    if _answer(fn, args, kwargs) is None:
        return "not attempted", "your answer is still None", "write your code where it says `# YOUR CODE HERE`"
    try:
        fn(*args, **kwargs)
    except Incorrect as exc:
        return "incorrect", exc.reason, exc.hint
    except NotImplementedError:  # a student build from an older version of hepml_nb
        return "not attempted", "the exercise still raises NotImplementedError", "replace it with your code"
    except Exception as exc:  # noqa: BLE001 - the learner's answer broke the check: diagnose, do not crash
        return "incorrect", f"checking your answer raised {type(exc).__name__}: {exc}", ""
    return "correct", "", ""


def checker(fn: Callable[..., None]) -> Callable[..., None]:
    """Turn a raising check function into a checker that prints and records its verdict, and returns None."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        verdict, reason, hint = verdict_of(fn, args, kwargs)
        if verdict == "correct":
            print("Correct!")
        elif verdict == "not attempted":
            print(f"Not attempted yet: {reason}; {hint}.")
        else:
            print(f"Incorrect: {reason}" + (f"\nHint: {hint}" if hint else ""))
        _record(fn.__name__, verdict, reason, hint)

    wrapper.check = fn  # type: ignore[attr-defined]  # the raising function, for graders
    return wrapper


def expect_true(condition: bool, reason: str, hint: str = "") -> None:
    """Raise :class:`Incorrect` with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise Incorrect(reason, hint)


def expect_close(
    answer: Any, expected: Any, *, what: str, rtol: float = 1e-6, atol: float = 0.0, hint: str = ""
) -> None:
    """Check a number or array against the expected value within tolerances."""
    if answer is None:
        raise Incorrect(f"{what}: your answer is None", hint or "did you forget to assign or return it?")
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        raise Incorrect(f"{what}: expected a number or array, got {type(answer).__name__}", hint) from None
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        raise Incorrect(f"{what}: expected shape {want.shape}, got {got.shape}", hint)
    if not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
        shown = f"{float(got):.6g} (expected about {float(want):.6g})" if got.ndim == 0 else "values differ"
        raise Incorrect(f"{what}: {shown}", hint)


def expect_shape(answer: Any, shape: tuple[int, ...], *, what: str, hint: str = "") -> None:
    """Check that ``answer`` is array-like with the given shape."""
    got = np.shape(answer)
    if tuple(got) != tuple(shape):
        raise Incorrect(f"{what}: expected shape {tuple(shape)}, got {tuple(got)}", hint)
