"""Model checkpoints: a torch state dict plus a JSON recipe card, written atomically, read safely.

Every model the project ships or trains from a script (the jets ParticleNet-Lite, the calo
generator) is stored the same way:

- ``name.pt``: ``{"kind", "config", "state_dict", ...}`` written with ``torch.save``; read
  with ``torch.load(weights_only=True)``, which only rebuilds tensors and plain containers,
  never arbitrary pickled objects;
- ``name.json``: the recipe card: ``command`` (what made it), ``parameters``, ``metrics``,
  ``versions``, plus ``kind``, ``config`` and ``weights_sha256``, which :func:`load_checkpoint`
  checks against the weights file so that a card never describes other weights.

Both files are written through :func:`hepml_nb.core.results.atomic_output`.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hepml_nb.core.errors import DataError
from hepml_nb.core.results import atomic_output, to_jsonable, write_json_atomic

__all__ = ["CARD_FORMAT", "Checkpoint", "card_path", "load_checkpoint", "recipe_card", "save_checkpoint", "versions"]

CARD_FORMAT = "hepml-nb-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` read: ``state_dict`` (CPU tensors), model ``config``, recipe ``card``,
    ``extra`` (other entries of the weights file, e.g. ``feature_names``) and the ``path``."""

    state_dict: dict[str, Any]
    config: dict[str, Any]
    card: dict[str, Any]
    extra: dict[str, Any]
    path: Path

    def load_into(self, model):
        """Load the weights into ``model`` (strict) and return it in eval mode; DataError when they do not fit."""
        try:
            model.load_state_dict(self.state_dict)
        except RuntimeError as exc:
            raise DataError(
                f"checkpoint {self.path.name} does not fit the model built from its config "
                f"{self.config}: {str(exc).splitlines()[0]}"
            ) from exc
        return model.eval()


def card_path(path: Path | str) -> Path:
    """The recipe card beside a weights file: ``model.pt`` -> ``model.json``."""
    return Path(path).with_suffix(".json")


def versions() -> dict[str, str]:
    """Versions of Python, hepml_nb and the numerical libraries, for a recipe card."""
    import numpy as np
    import torch

    from hepml_nb._version import __version__

    return {
        "python": platform.python_version(),
        "hepml_nb": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def recipe_card(
    *, parameters: Mapping[str, Any], metrics: Mapping[str, Any], command: str | None = None, **more: Any
) -> dict[str, Any]:
    """A recipe card: ``command`` (default: this process's command line), ``parameters``, ``metrics``,
    ``versions`` and any further entries (``history``, ``data`` ...)."""
    if command is None:
        command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    return {
        "command": command,
        "parameters": dict(parameters),
        "metrics": dict(metrics),
        "versions": versions(),
        **more,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_checkpoint(
    path: Path | str,
    state_dict: Mapping[str, Any],
    *,
    kind: str,
    config: Mapping[str, Any],
    card: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``path`` (weights) and its recipe card ``path.with_suffix('.json')``, each atomically.

    Parameters
    ----------
    path
        The ``.pt`` file.
    state_dict
        ``model.state_dict()``; tensors are detached and copied to the CPU.
    kind
        What the weights are (``"particlenet"``, ``"calogan_generator"``); checked on loading.
    config
        JSON-able keyword arguments that rebuild the model.
    card
        The recipe card (see :func:`recipe_card`); ``kind``, ``config``, ``format`` and
        ``weights_sha256`` are added.
    extra
        More plain entries stored in the weights file (e.g. ``feature_names``).
    """
    import torch

    path = Path(path)
    config = to_jsonable(dict(config))
    blob = {
        "kind": kind,
        "config": config,
        "state_dict": {k: v.detach().cpu().clone() for k, v in state_dict.items()},
        **dict(extra or {}),
    }
    with atomic_output(path) as tmp:
        torch.save(blob, tmp)
        digest = _sha256(tmp)
    write_json_atomic(
        card_path(path), {**dict(card), "format": CARD_FORMAT, "kind": kind, "config": config, "weights_sha256": digest}
    )
    return path


def _read_card(path: Path) -> dict[str, Any]:
    card_file = card_path(path)
    if not card_file.is_file():
        return {}
    try:
        return json.loads(card_file.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(
            f"recipe card {card_file} is not valid JSON ({exc}); restore it or save the model again"
        ) from exc


def _check_card(path: Path, card: Mapping[str, Any], kind: str | None, config: Mapping[str, Any]) -> None:
    problems = []
    if "weights_sha256" in card and card["weights_sha256"] != _sha256(path):
        problems.append("its weights_sha256 differs from the weights file's")
    if "config" in card and to_jsonable(card["config"]) != to_jsonable(config):
        problems.append(f"its config {card['config']} differs from the weights file's {config}")
    if kind is not None and card.get("kind", kind) != kind:
        problems.append(f"it describes a {card['kind']!r} model")
    if problems:
        raise DataError(
            f"the recipe card {card_path(path).name} does not match {path.name}: {'; '.join(problems)}; "
            "save the model again (both files are rewritten together) or restore the matching card"
        )


def load_checkpoint(path: Path | str, *, kind: str | None = None) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` and check its card.

    Files written before the ``kind`` entry existed (``{"config", "state_dict", ...}``) load too.

    Raises
    ------
    DataError
        The file is missing, is not a checkpoint (or holds pickled objects other than tensors
        and plain containers), holds another ``kind`` of model, or its card does not match it.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} not found; check the path, or train and save a model first")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError/RuntimeError for foreign or unsafe files
        raise DataError(f"{path} is not a hepml_nb checkpoint that loads safely: {str(exc).splitlines()[0]}") from exc
    if not isinstance(blob, dict) or not {"config", "state_dict"} <= set(blob):
        found = sorted(blob) if isinstance(blob, dict) else type(blob).__name__
        raise DataError(f"{path} is not a hepml_nb checkpoint (needs entries 'config' and 'state_dict'; found {found})")
    if kind is not None and blob.get("kind", kind) != kind:
        raise DataError(f"{path} holds a {blob['kind']!r} model, not a {kind!r} model")
    config = to_jsonable(dict(blob["config"]))
    card = _read_card(path)
    _check_card(path, card, kind or blob.get("kind"), config)
    extra = {k: v for k, v in blob.items() if k not in ("kind", "config", "state_dict")}
    return Checkpoint(dict(blob["state_dict"]), config, card, extra, path)
