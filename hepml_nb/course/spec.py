"""The setup topic (notebook 00, the checks of :mod:`hepml_nb.course.setup_check`): notebook, profiles, rules."""

from __future__ import annotations

from hepml_nb.core.rules import Cost, between, size
from hepml_nb.core.topics import Headline, topic

__all__ = ["TOPIC"]

#: Pythia8 pp events with anti-kT clustering (DESIGN.md: about 4 ms per event)
_PP_EVENT = Cost("event", seconds=4e-3, basis="Pythia8 pp events with anti-kT clustering, about 4 ms each")

TOPIC = topic(
    "setup",
    "00_setup_check.ipynb",
    "Setup check",
    "checks every dependency a workshop needs and shows OK / FAILED with the fix",
    rules={"n_events": size(1, 100_000, _PP_EVENT), "jet_radius": between(0.05, 2.0)},
    ci={"n_events": 5},
    full={"n_events": 200},
    headline=(Headline("checks", "n_checks"), Headline("failed", "n_failed")),
)
