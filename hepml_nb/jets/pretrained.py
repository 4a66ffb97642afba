"""The pretrained ParticleNet-Lite shipped with the package, and saving/loading checkpoints
(through :mod:`hepml_nb.core.checkpoints`: weights plus a JSON recipe card).

The shipped checkpoint ``pretrained/particlenet_lite.pt`` is produced by
``python scripts/train_particlenet_checkpoint.py`` (the exact command and its recipe
are stored in ``pretrained/particlenet_lite.json`` with the test metrics), so a
workshop can skip training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hepml_nb.core import checkpoints as core_checkpoints
from hepml_nb.core.errors import DataError
from hepml_nb.jets.models import ParticleNet

__all__ = [
    "PRETRAINED_DIR",
    "pretrained_path",
    "save_checkpoint",
    "load_checkpoint",
    "load_pretrained",
    "card_metrics_text",
]

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
KIND = "particlenet"


def pretrained_path(name: str = "particlenet_lite") -> Path:
    """Path of a shipped checkpoint; DataError listing the available ones if absent."""
    path = PRETRAINED_DIR / f"{name}.pt"
    if not path.is_file():
        found = sorted(p.stem for p in PRETRAINED_DIR.glob("*.pt"))
        raise DataError(
            f"no pretrained checkpoint {name!r} in {PRETRAINED_DIR}; available: "
            f"{', '.join(found) or 'none'} (create one with scripts/train_particlenet_checkpoint.py)"
        )
    return path


def save_checkpoint(model: ParticleNet, path: Path | str, *, feature_names, info: dict[str, Any]) -> Path:
    """Save weights, model configuration and feature names (``path``) and the recipe card ``info`` (.json).

    See :func:`hepml_nb.core.checkpoints.save_checkpoint`; ``info`` is best made with
    :func:`hepml_nb.core.checkpoints.recipe_card` (command, parameters, metrics, versions).
    """
    return core_checkpoints.save_checkpoint(
        path,
        model.state_dict(),
        kind=KIND,
        config=model.config,
        card=info,
        extra={"feature_names": list(feature_names)},
    )


def load_checkpoint(path: Path | str, *, feature_names=None) -> tuple[ParticleNet, dict[str, Any]]:
    """Rebuild a ParticleNet from a checkpoint; return ``(model in eval mode, recipe card)``.

    Raises
    ------
    DataError
        The file is missing, not a ParticleNet checkpoint, its card does not match it, or its
        feature names differ from ``feature_names``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} not found; train one with scripts/train_particlenet_checkpoint.py")
    ckpt = core_checkpoints.load_checkpoint(path, kind=KIND)
    expected = list(ckpt.extra.get("feature_names", ()))
    if feature_names is not None and list(feature_names) != expected:
        raise DataError(
            f"checkpoint {path.name} expects the particle features {expected}, "
            f"but the data has {list(feature_names)}; use files with the same branches "
            "(part_charge and part_is* present) or train a new model"
        )
    cfg = dict(ckpt.config)
    model = ParticleNet(
        cfg.pop("input_dims"), cfg.pop("num_classes"), k=cfg["k"], blocks=cfg["blocks"], fc=tuple(cfg["fc"])
    )
    return ckpt.load_into(model), ckpt.card


def load_pretrained(name: str = "particlenet_lite", *, feature_names=None) -> tuple[ParticleNet, dict[str, Any]]:
    """The shipped pretrained model and its recipe/metrics (see :func:`load_checkpoint`)."""
    return load_checkpoint(pretrained_path(name), feature_names=feature_names)


def card_metrics_text(recipe: dict[str, Any]) -> str:
    """One line of a recipe card's test metrics: AUC and 1/eps_B with its 68 % interval where the card has one.

    ``"AUC 0.9870, 1/eps_B at 50 % 312 (68 % CL 262-377, 12 of 3750 QCD jets pass)"``; a card
    without interval keys (older cards) gives the value alone.
    """
    from hepml_nb.core.metrics import Rejection, format_rejection

    m = recipe["metrics"]
    parts = [f"AUC {m['auc']:.4f}"]
    for wp in (50, 30):
        key = f"rej{wp}"
        if f"{key}_low" not in m:
            parts.append(f"1/eps_B at {wp} % {m[key]:.0f}")
            continue
        fields = ("low", "high", "n_pass", "n_background", "lower_limit")
        r = Rejection(m[key], *(m[f"{key}_{f}"] for f in fields))
        if r.is_lower_limit:  # the limit, not the (infinite) interpolated value
            r = r._replace(value=r.low)
        text = format_rejection(r)
        parts.append(f"1/eps_B at {wp} % {text} ({r.n_background_pass} of {r.n_background} QCD jets pass)")
    return ", ".join(parts)
