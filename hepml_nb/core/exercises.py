"""Exercise checkers: tell the learner Correct, or Incorrect with the reason and a hint.

A topic's ``exercises`` module writes each checker as a plain function that raises
:class:`Incorrect` when the answer is wrong, and decorates it with :func:`checker`.
The decorated checker prints the verdict, returns True/False and never raises, so a
notebook with an unsolved exercise still runs to the end::

    @checker
    def check_rejection(answer, y_true, score):
        expected = rejection_at(y_true, score, 0.5)
        expect_close(answer, expected, rtol=1e-3, what="1/eps_B at eps_S = 50 %",
                     hint="invert the background efficiency, do not quote eps_B itself")
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

__all__ = ["Incorrect", "checker", "expect_close", "expect_shape", "expect_true"]


class Incorrect(Exception):
    """Raised inside a checker: ``reason`` says what is wrong, ``hint`` how to get there."""

    def __init__(self, reason: str, hint: str = ""):
        super().__init__(reason)
        self.reason, self.hint = reason, hint


def checker(fn: Callable[..., None]) -> Callable[..., bool]:
    """Turn a raising check function into a checker that prints its verdict and returns a bool."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> bool:
        try:
            fn(*args, **kwargs)
        except Incorrect as exc:
            print(f"Incorrect: {exc.reason}" + (f"\nHint: {exc.hint}" if exc.hint else ""))
            return False
        except NotImplementedError:
            print("Not attempted yet: replace `raise NotImplementedError()` with your code.")
            return False
        except Exception as exc:  # the learner's answer broke the check: diagnose, do not crash
            print(f"Incorrect: checking your answer raised {type(exc).__name__}: {exc}")
            return False
        print("Correct!")
        return True

    return wrapper


def expect_true(condition: bool, reason: str, hint: str = "") -> None:
    """Raise :class:`Incorrect` with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise Incorrect(reason, hint)


def expect_close(answer: Any, expected: Any, *, what: str, rtol: float = 1e-6, atol: float = 0.0,
                 hint: str = "") -> None:
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
