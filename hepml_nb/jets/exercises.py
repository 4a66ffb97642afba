"""Checkers for the exercises of the ParticleNet notebook.

Each prints Correct, Incorrect with the reason and a hint, or Not attempted yet (answer
still None), records the verdict and never raises (see :mod:`hepml_nb.core.exercises`).
"""

from __future__ import annotations

import numpy as np

from hepml_nb.core.exercises import checker, expect_close, expect_shape, expect_true
from hepml_nb.core.metrics import rejection_at

__all__ = ["jet_masses", "nearest_neighbours", "check_jet_mass", "check_knn", "check_rejection"]


def jet_masses(four_vectors: np.ndarray) -> np.ndarray:
    """Invariant mass (GeV) of the sum of each jet's constituents, from (N, P, 4) ``px, py, pz, E``."""
    total = four_vectors.sum(axis=1)
    return np.sqrt(np.maximum(total[:, 3] ** 2 - (total[:, :3] ** 2).sum(axis=1), 0.0))


def nearest_neighbours(points: np.ndarray, mask: np.ndarray, particle: int, k: int) -> np.ndarray:
    """Indices of the ``k`` real particles closest to ``particle`` in (delta-eta, delta-phi), itself excluded."""
    dist = np.hypot(*(points - points[particle]).T)
    dist = np.where(mask, dist, np.inf)
    dist[particle] = np.inf
    return np.sort(np.argsort(dist, kind="stable")[:k])


@checker
def check_jet_mass(answer, four_vectors: np.ndarray) -> None:
    """Exercise 1: jet masses from the padded constituent four-vectors."""
    expected = jet_masses(four_vectors)
    expect_shape(
        answer,
        expected.shape,
        what="jet masses",
        hint="one mass per jet: sum the four-vectors over the particle axis (axis=1) first",
    )
    per_particle = np.sqrt(np.maximum(four_vectors[..., 3] ** 2 - (four_vectors[..., :3] ** 2).sum(-1), 0)).sum(1)
    expect_true(
        not np.allclose(answer, per_particle, rtol=1e-3, atol=1e-3),
        "you summed the masses of the particles, which are almost zero",
        "add the four-vectors first, then take m = sqrt(E^2 - px^2 - py^2 - pz^2) of the sum",
    )
    expect_close(
        answer,
        expected,
        rtol=1e-4,
        atol=1e-3,
        what="jet masses",
        hint="m^2 = (sum E)^2 - (sum px)^2 - (sum py)^2 - (sum pz)^2; padded particles are zero",
    )


@checker
def check_knn(answer, points: np.ndarray, mask: np.ndarray, particle: int, k: int) -> None:
    """Exercise 2: the k nearest neighbours of one particle (indices, any order)."""
    got = np.sort(np.asarray(answer, dtype=int).ravel())
    expected = nearest_neighbours(points, mask, particle, k)
    expect_shape(got, expected.shape, what="neighbour indices", hint=f"return exactly k = {k} indices")
    expect_true(
        particle not in got,
        "the particle itself is in your list",
        "its distance to itself is 0; exclude it (ParticleNet takes the k+1 closest and drops the first)",
    )
    expect_true(
        bool(mask[got].all()),
        "your list contains padded particles",
        "set the distance of padded particles (mask == False) to infinity before sorting",
    )
    expect_true(
        np.array_equal(got, expected),
        f"expected the particles {expected.tolist()}, got {got.tolist()}",
        "distance in the (delta-eta, delta-phi) plane: sqrt(deta^2 + dphi^2); sort and take the k smallest",
    )


@checker
def check_rejection(answer, y_true: np.ndarray, score: np.ndarray, eps_s: float = 0.5) -> None:
    """Exercise 3: background rejection 1/eps_B at a signal efficiency."""
    expected = rejection_at(y_true, score, eps_s)
    if np.ndim(answer) == 0 and 0 < float(answer) < 1 and expected > 1:
        expect_true(
            not np.isclose(1.0 / float(answer), expected, rtol=0.05),
            f"{float(answer):.4g} looks like the background efficiency eps_B, not the rejection",
            "the rejection is 1/eps_B",
        )
    expect_close(
        answer,
        expected,
        rtol=0.05,
        what=f"1/eps_B at eps_S = {eps_s:.0%}",
        hint="fpr, tpr, _ = roc_curve(y_test, score); eps_B = np.interp(eps_S, tpr, fpr); the rejection is 1 / eps_B",
    )
