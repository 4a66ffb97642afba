"""The pretrained taggers shipped with the package (ParticleNet-Lite, the small ParT), and
saving/loading checkpoints of any tagger (through :mod:`hepml_nb.core.checkpoints`: weights plus
a JSON recipe card).

A shipped checkpoint ``pretrained/<name>.pt`` is produced by
``python scripts/train_tagger_checkpoint.py --model <name>`` (the exact command and its recipe
are stored in ``pretrained/<name>.json`` with the test metrics), so a workshop can skip training.
The checkpoint's ``kind`` (``particlenet`` or ``part``) names the model family and its ``config``
the keyword arguments that rebuild it.

The models the JetClass authors published (weaver-core state dicts, not hepml_nb checkpoints) load
with :func:`load_jetclass` (from :mod:`hepml_nb.jets.jetclass`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from hepml_nb.core import checkpoints as core_checkpoints
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.jets.jetclass import load_jetclass
from hepml_nb.jets.models import ParticleNet
from hepml_nb.jets.transformer import ParticleTransformer

__all__ = [
    "PRETRAINED_DIR",
    "available_pretrained",
    "pretrained_path",
    "save_checkpoint",
    "load_checkpoint",
    "load_pretrained",
    "load_jetclass",
    "card_metrics_text",
]

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
#: checkpoint kind of each model family
KINDS = {"particlenet": ParticleNet, "part": ParticleTransformer}
_SCRIPT = "scripts/train_tagger_checkpoint.py"


def _kind(model) -> str:
    for kind, cls in KINDS.items():
        if isinstance(model, cls):
            return kind
    raise ParameterError(
        f"cannot save a {type(model).__name__}: checkpoints hold one of {', '.join(c.__name__ for c in KINDS.values())}"
    )


def available_pretrained() -> tuple[str, ...]:
    """Names of the shipped checkpoints (``particlenet_lite``, ``part_small``)."""
    return tuple(sorted(p.stem for p in PRETRAINED_DIR.glob("*.pt")))


def pretrained_path(name: str = "particlenet_lite") -> Path:
    """Path of a shipped checkpoint; DataError listing the available ones if absent."""
    path = PRETRAINED_DIR / f"{name}.pt"
    if not path.is_file():
        raise DataError(
            f"no pretrained checkpoint {name!r} in {PRETRAINED_DIR}; available: "
            f"{', '.join(available_pretrained()) or 'none'} (create one with python {_SCRIPT} --model {name})"
        )
    return path


def save_checkpoint(model: nn.Module, path: Path | str, *, feature_names, info: dict[str, Any]) -> Path:
    """Save weights, model kind and configuration, tagger name and feature names (``path``) and the
    recipe card ``info`` (.json) of a ParticleNet or Particle Transformer.

    See :func:`hepml_nb.core.checkpoints.save_checkpoint`; ``info`` is best made with
    :func:`hepml_nb.core.checkpoints.recipe_card` (command, parameters, metrics, versions).
    """
    return core_checkpoints.save_checkpoint(
        path,
        model.state_dict(),
        kind=_kind(model),
        config=model.config,
        card=info,
        extra={"feature_names": list(feature_names), "tagger": getattr(model, "name", None)},
    )


def load_checkpoint(path: Path | str, *, feature_names=None) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a tagger from a checkpoint; return ``(model in eval mode, recipe card)``.

    Raises
    ------
    DataError
        The file is missing, not a tagger checkpoint, its card does not match it, or its
        feature names differ from ``feature_names``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} not found; train one with python {_SCRIPT}")
    ckpt = core_checkpoints.load_checkpoint(path)
    # the card's kind equals the file's (checked on loading); without a card, the config tells
    kind = ckpt.card.get("kind") or ("part" if "embed_dims" in ckpt.config else "particlenet")
    if kind not in KINDS:
        raise DataError(f"{path.name} holds a {kind!r} model, not a jet tagger ({', '.join(KINDS)})")
    expected = list(ckpt.extra.get("feature_names", ()))
    if feature_names is not None and list(feature_names) != expected:
        raise DataError(
            f"checkpoint {path.name} expects the particle features {expected}, "
            f"but the data has {list(feature_names)}; use files with the same branches "
            "(part_charge and part_is* present) or train a new model"
        )
    model = KINDS[kind](**ckpt.config)
    if ckpt.extra.get("tagger"):
        model.name = ckpt.extra["tagger"]
    return ckpt.load_into(model), ckpt.card


def load_pretrained(name: str = "particlenet_lite", *, feature_names=None) -> tuple[nn.Module, dict[str, Any]]:
    """The shipped pretrained tagger ``name`` (``particlenet_lite``, ``part_small``) and its recipe/metrics
    (see :func:`load_checkpoint`)."""
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
