"""The pretrained ParticleNet-Lite shipped with the package, and saving/loading checkpoints.

The shipped checkpoint ``pretrained/particlenet_lite.pt`` is produced by
``python scripts/train_particlenet_checkpoint.py`` (the exact command and its recipe
are stored in ``pretrained/particlenet_lite.json`` with the test metrics), so a
workshop can skip training.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from hepml_nb.core.errors import DataError
from hepml_nb.jets.models import ParticleNet

__all__ = ["PRETRAINED_DIR", "pretrained_path", "save_checkpoint", "load_checkpoint", "load_pretrained"]

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"


def pretrained_path(name: str = "particlenet_lite") -> Path:
    """Path of a shipped checkpoint; DataError listing the available ones if absent."""
    path = PRETRAINED_DIR / f"{name}.pt"
    if not path.is_file():
        found = sorted(p.stem for p in PRETRAINED_DIR.glob("*.pt"))
        raise DataError(f"no pretrained checkpoint {name!r} in {PRETRAINED_DIR}; available: "
                        f"{', '.join(found) or 'none'} (create one with scripts/train_particlenet_checkpoint.py)")
    return path


def save_checkpoint(model: ParticleNet, path: Path | str, *, feature_names, info: dict[str, Any]) -> Path:
    """Save weights (float32 state dict), model configuration and feature names; ``info`` also as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"config": model.config, "feature_names": list(feature_names), "state_dict": state}, path)
    path.with_suffix(".json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return path


def load_checkpoint(path: Path | str, *, feature_names=None) -> tuple[ParticleNet, dict[str, Any]]:
    """Rebuild a ParticleNet from a checkpoint; return ``(model in eval mode, info)``.

    Raises
    ------
    DataError
        The file is missing or its feature names differ from ``feature_names``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} not found; train one with scripts/train_particlenet_checkpoint.py")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if feature_names is not None and list(feature_names) != blob["feature_names"]:
        raise DataError(f"checkpoint {path.name} expects the particle features {blob['feature_names']}, "
                        f"but the data has {list(feature_names)}; use files with the same branches "
                        "(part_charge and part_is* present) or train a new model")
    cfg = dict(blob["config"])
    model = ParticleNet(cfg.pop("input_dims"), cfg.pop("num_classes"), k=cfg["k"],
                        blocks=cfg["blocks"], fc=tuple(cfg["fc"]))
    model.load_state_dict(blob["state_dict"])
    info_path = path.with_suffix(".json")
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    return model.eval(), info


def load_pretrained(name: str = "particlenet_lite", *, feature_names=None) -> tuple[ParticleNet, dict[str, Any]]:
    """The shipped pretrained model and its recipe/metrics (see :func:`load_checkpoint`)."""
    return load_checkpoint(pretrained_path(name), feature_names=feature_names)
