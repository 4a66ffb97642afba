"""The catalog of topics, assembled from each topic package's ``spec`` module.

Every subpackage of ``hepml_nb`` that has a ``spec`` module defining ``TOPIC`` (a
:class:`~hepml_nb.core.topics.Topic`: notebook, title, profiles, parameter rules) is a topic; the
catalog lists them in the order of their notebooks. Nothing here names a topic or copies one of its
constants: adding a topic is writing its package and its spec.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.rules import Rule
from hepml_nb.core.topics import PROFILES, Topic

_PACKAGE = Path(__file__).resolve().parents[1]  # hepml_nb/, whose subpackages are searched for specs

__all__ = [
    "Topic",
    "TOPICS",
    "PROFILES",
    "discover_topics",
    "get_topic",
    "notebooks_dir",
    "notebook_path",
    "profile_overrides",
    "topic_rules",
]


def discover_topics(package: Any = None) -> dict[str, Topic]:
    """Every ``<package>.<subpackage>.spec.TOPIC`` (default package: hepml_nb), keyed by topic, in notebook order."""
    paths, prefix = (package.__path__, package.__name__) if package is not None else ([str(_PACKAGE)], "hepml_nb")
    found = []
    for info in pkgutil.iter_modules(paths, f"{prefix}."):
        name = f"{info.name}.spec"
        if info.ispkg and importlib.util.find_spec(name) is not None:
            spec = importlib.import_module(name)
            if isinstance(getattr(spec, "TOPIC", None), Topic):
                found.append(spec.TOPIC)
    keys = [t.key for t in found]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ParameterError(f"two spec modules define the topic(s) {', '.join(twice)}; give each topic one key")
    return {t.key: t for t in sorted(found, key=lambda t: t.notebook)}


TOPICS: Mapping[str, Topic] = MappingProxyType(discover_topics())


def get_topic(key: str) -> Topic:
    """Return the topic ``key``; raise a ParameterError listing the topics otherwise."""
    try:
        return TOPICS[key]
    except KeyError:
        raise ParameterError(
            f"unknown topic {key!r}; choose one of: {', '.join(TOPICS)} (`hepml-nb list` shows them)"
        ) from None


def notebooks_dir() -> Path:
    """Folder holding the notebooks.

    ``$HEPML_NB_NOTEBOOKS`` when set; otherwise the copy installed with the package
    (``hepml_nb/_notebooks``, package data built from the repository's ``notebooks/``);
    otherwise ``notebooks/`` of the checkout (editable install or a plain clone).
    """
    env = os.environ.get("HEPML_NB_NOTEBOOKS")
    if env:
        path = Path(env)
    else:
        installed = files("hepml_nb") / "_notebooks"
        path = Path(str(installed)) if installed.is_dir() else Path(__file__).resolve().parents[2] / "notebooks"
    if not path.is_dir():
        raise ParameterError(
            f"notebooks folder {path} not found; reinstall hepml-nb (`pip install .` from a clone ships "
            "the notebooks with the package), or set HEPML_NB_NOTEBOOKS to the folder holding them"
        )
    return path


def notebook_path(key: str) -> Path:
    """Path of the notebook of topic ``key``."""
    return notebooks_dir() / get_topic(key).notebook


def topic_rules(key: str) -> dict[str, Rule]:
    """Allowed values of the parameters of topic ``key`` that are restricted (choices, ranges, input files)."""
    return dict(get_topic(key).rules)


def profile_overrides(key: str, profile: str) -> dict[str, Any]:
    """Parameter overrides of ``profile`` for topic ``key`` (``default`` is empty)."""
    topic = get_topic(key)
    if profile not in PROFILES:
        raise ParameterError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    return dict(topic.profiles.get(profile, {}))
