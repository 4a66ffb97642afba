"""What a topic is: its notebook, its run profiles and the rules of its parameters.

Each topic package owns a small, import-light ``spec`` module (``hepml_nb/<package>/spec.py``) that
builds its :class:`Topic` with :func:`topic` from the topic's own constants; the course catalog
(:mod:`hepml_nb.course.catalog`) finds the spec modules and assembles them. Adding a topic is writing
its package and its spec: nothing in ``core`` or ``course`` changes.

A profile is a dict of parameter overrides applied on top of the notebook's own ``parameters``
cell: ``ci`` (tiny, about a minute on 2 CPU cores), ``default`` (the notebook's defaults, a few
minutes on a laptop) and ``full`` (paper scale, for a GPU or a cluster).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, get_args

from hepml_nb.core.devices import check_device_name
from hepml_nb.core.errors import ParameterError
from hepml_nb.core.rules import Rule

__all__ = ["PROFILES", "Profile", "Headline", "Topic", "topic", "DEVICE_RULE", "check_device_name"]

Profile = Literal["ci", "default", "full"]
PROFILES: tuple[Profile, ...] = get_args(Profile)


class Headline(NamedTuple):
    """A headline figure of a run: its label and its ``metrics.json`` key, with its uncertainty.

    ``key`` may hold one ``*`` (``auc_*``: every tagger); ``error`` (a +- uncertainty) or ``low`` and
    ``high`` (an interval) then hold the same ``*``.
    """

    label: str
    key: str
    error: str | None = None
    low: str | None = None
    high: str | None = None


@dataclass(frozen=True)
class Topic:
    """One tutorial: its key, notebook file, title, summary, profiles (parameter overrides), rules and headline."""

    key: str
    notebook: str
    title: str
    summary: str
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    rules: Mapping[str, Rule] = field(default_factory=dict)
    headline: tuple[Headline, ...] = ()


def topic(
    key: str,
    notebook: str,
    title: str,
    summary: str,
    *,
    rules: Mapping[str, Rule],
    headline: tuple[Headline, ...] = (),
    **profiles: dict,
) -> Topic:
    """A frozen :class:`Topic`; ``profiles`` are ``ci=``, ``full=`` (``default`` is the notebook's own).

    ``headline`` lists the few figures ``hepml-nb run`` prints at the end of a run.
    """
    unknown = set(profiles) - set(PROFILES)
    if unknown:
        raise ParameterError(f"unknown profiles {sorted(unknown)} for topic {key!r}; choose from {', '.join(PROFILES)}")
    profiles.setdefault("default", {})
    frozen = {name: MappingProxyType(dict(p)) for name, p in profiles.items()}
    return Topic(key, notebook, title, summary, MappingProxyType(frozen), MappingProxyType(dict(rules)), headline)


#: the rule of every topic's ``device`` parameter (a torch device name)
DEVICE_RULE = Rule(validator=check_device_name)
