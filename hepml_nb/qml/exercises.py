"""Checkers for the exercises of the quantum-kernel notebook (print Correct/Incorrect, never raise)."""

from __future__ import annotations

import numpy as np

from hepml_nb.core.exercises import checker, expect_close, expect_true
from hepml_nb.qml.circuits import circuit_estimate

__all__ = ["check_recoil_mass", "check_fidelity", "check_circuit_count"]


@checker
def check_recoil_mass(answer, events: dict[str, np.ndarray], *, sqrt_s: float = 240.0) -> None:
    """Recoil mass against the diphoton system, one value per event (GeV)."""
    e = events["g1_e"] + events["g2_e"]
    p2 = sum((events[f"g1_{c}"] + events[f"g2_{c}"]) ** 2 for c in ("px", "py", "pz"))
    expected = np.sqrt(np.clip(sqrt_s**2 - 2 * sqrt_s * e + (e**2 - p2), 0.0, None))
    answer = np.asarray(answer, dtype=float)
    expect_true(
        answer.shape == expected.shape,
        f"expected one recoil mass per event, shape {expected.shape}, got {answer.shape}",
        "compute it with array operations on whole branches",
    )
    hint = (
        "the recoil four-momentum is (sqrt(s) - E_gg, -p_gg): m^2 = s - 2 sqrt(s) E_gg + m_gg^2; "
        "did you forget the m_gg^2 term or the square root?"
    )
    expect_close(np.median(answer), np.median(expected), what="median recoil mass [GeV]", rtol=1e-3, hint=hint)
    expect_close(answer, expected, what="recoil masses", rtol=1e-4, atol=1e-3, hint=hint)


@checker
def check_fidelity(answer, psi_a: np.ndarray, psi_b: np.ndarray) -> None:
    """Fidelity |<a|b>|^2 of two statevectors."""
    expected = abs(np.vdot(psi_a, psi_b)) ** 2
    if np.ndim(answer) == 0 and abs(complex(answer).imag) > 1e-12:
        expect_true(
            False,
            "the fidelity is a real number, your answer is complex",
            "take the absolute value squared of the overlap",
        )
    if abs(float(np.real(answer)) - np.sqrt(expected)) < 1e-9 < abs(expected - np.sqrt(expected)):
        expect_true(False, "you returned |<a|b>|, the overlap's modulus", "square it: fidelity = |<a|b>|^2")
    expect_close(
        float(np.real(answer)),
        expected,
        what="fidelity",
        rtol=1e-9,
        atol=1e-12,
        hint="the bra is the complex conjugate: np.vdot(a, b) conjugates its first argument, np.dot does not",
    )


@checker
def check_circuit_count(answer, n_train: int, n_test: int) -> None:
    """Circuits a compute-uncompute device needs for the training and the test kernel."""
    expected = circuit_estimate(n_train)["circuits"] + circuit_estimate(n_test, n_train)["circuits"]
    if int(answer) == n_train * n_train + n_test * n_train:
        expect_true(
            False,
            f"{answer} counts every training pair twice and the diagonal",
            "the training kernel is symmetric with K_ii = 1: only i < j needs a circuit",
        )
    expect_close(
        int(answer),
        expected,
        what="number of circuits",
        rtol=0,
        hint="training: N(N-1)/2 distinct pairs; test: one circuit per (test, train) pair",
    )
