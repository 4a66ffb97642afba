"""The published JetClass models (ParticleNet and Particle Transformer trained on 100 million jets)
as the project's own networks, and their 10-class outputs.

Qu, Li, Qian, "Particle Transformer for Jet Tagging", arXiv:2202.03772, published the models
they trained on the full JetClass training set in github.com/jet-universe/particle_transformer,
``models/ParticleNet_{kin,kinpid,full}.pt`` and ``models/ParT_{kin,kinpid,full}.pt``: state dicts
of weaver-core's ``ParticleNet`` and ``ParticleTransformer`` (github.com/hqucms/weaver-core),
built by that repository's ``networks/example_ParticleNet.py`` and
``networks/example_ParticleTransformer.py`` from the data configs ``data/JetClass/JetClass_*.yaml``.
:func:`load_jetclass` builds the project's :class:`~hepml_nb.jets.models.ParticleNet` or
:class:`~hepml_nb.jets.transformer.ParticleTransformer` in that configuration and maps the
weights into it: the same network, so on the same jets it gives weaver-core's scores
(``tests/test_jets_jetclass.py`` checks it against weaver-core to 1e-5).

The inputs are the project's own: :func:`hepml_nb.jets.io.load_jets` with the model's
``feature_set`` and ``max_particles=128`` (JetClass's padding length) computes the yaml's
variables, standardisation and clipping. Two conventions differ and do not change a score:
weaver pads with copies of the jet's particles (``pad_mode: wrap``) and the project with
zeros (both networks mask the padding); weaver keeps the first 128 particles in the file's
order, the project the 128 of highest pT: the same particles in files sorted by decreasing pT, as
the project writes them (JetClass's look sorted too), and the networks do not depend on the
order of the particles.

weaver-core 0.5 changed its ParT layer (no reordering of the attention output's channels), so it
computes another function from the published ParT files (trained with weaver-core <= 0.4, whose
``torch.nn.MultiheadAttention`` keys ``attn.in_proj_weight`` they carry); :func:`load_jetclass`
reads the layout from those keys and reproduces the one the weights were trained with.

The files are never shipped or downloaded: a user passes the path of their copy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.jets.features import FEATURE_SETS
from hepml_nb.jets.io import JETCLASS_LABELS
from hepml_nb.jets.models import CONFIGS as PN_CONFIGS
from hepml_nb.jets.models import ParticleNet
from hepml_nb.jets.transformer import CONFIGS as PART_CONFIGS
from hepml_nb.jets.transformer import PAIR_FEATURES, ParticleTransformer

__all__ = [
    "JETCLASS_CLASSES",
    "JETCLASS_MAX_PARTICLES",
    "PUBLISHED_SHA256",
    "SOURCE",
    "binary_score",
    "how_to_get",
    "jetclass_class",
    "jetclass_discriminant",
    "jetclass_probabilities",
    "load_jetclass",
    "published_name",
]

#: the 10 JetClass classes, in the order of the models' outputs (the yamls' ``labels``)
JETCLASS_CLASSES = tuple(name.removeprefix("label_") for name in JETCLASS_LABELS)
#: padding length of JetClass's data configs (``length: 128``)
JETCLASS_MAX_PARTICLES = 128
#: where the published files are
SOURCE = "https://github.com/jet-universe/particle_transformer, folder models/ (commit 2925bdb)"
#: sha256 of the published ParticleNet files (checked on copies of them; the ParT files are not listed)
PUBLISHED_SHA256 = {
    "ParticleNet_kin.pt": "73aff244c657db0f7b62abe9ad13ec007c17cf10057ff1ad54c320f3bd4a4f26",
    "ParticleNet_kinpid.pt": "f56876afb26a7f0782407fc4fde2502ac23656b47a970ad912e58502a0b8839b",
    "ParticleNet_full.pt": "375b81543769f4a0bd2de9818c5885a04c735b5462a64dcadc2a088edaf3d1d2",
}
#: the project's class names and label branches -> JetClass class
_JETCLASS_OF = {
    "qcd": "QCD",
    "g": "QCD",
    "q": "QCD",
    "w": "Wqq",
    "z": "Zqq",
    "t": "Tbqq",
    "top": "Tbqq",
    **{f"label_{c}": c for c in JETCLASS_CLASSES},
}

# weaver-core names -> the project's (regular expressions on keys without the wrapper's "mod.")
_PARTICLENET_KEYS = (
    (r"bn_fts\.(.+)", r"input_norm.\1"),
    (r"edge_convs\.(\d+)\.convs\.(\d+)\.weight", r"blocks.\1.linears.\2.weight"),
    (r"edge_convs\.(\d+)\.bns\.(\d+)\.(.+)", r"blocks.\1.norms.\2.\3"),
    (r"edge_convs\.(\d+)\.sc\.weight", r"blocks.\1.shortcut.weight"),
    (r"edge_convs\.(\d+)\.sc_bn\.(.+)", r"blocks.\1.shortcut_norm.\2"),
    (r"fc\.0\.0\.(.+)", r"head.0.\1"),
    (r"fc\.1\.(.+)", r"head.3.\1"),
)
_BLOCK = r"((?:cls_)?blocks\.\d+)\."
_PART_KEYS = (
    (r"embed\.input_bn\.(.+)", r"embed.input_norm.\1"),
    (r"embed\.embed\.(.+)", r"embed.mlp.\1"),
    (r"pair_embed\.embed\.(.+)", r"pair_embed.mlp.\1"),
    (_BLOCK + r"attn\.in_proj[._](weight|bias)", r"\1.in_proj.\2"),  # torch's MultiheadAttention: in_proj_weight
    (_BLOCK + r"attn\.out_proj\.(.+)", r"\1.out_proj.\2"),
    (_BLOCK + r"c_attn", r"\1.head_scale"),
    (_BLOCK + r"w_resid", r"\1.resid_scale"),
    (_BLOCK + r"((?:pre|post)_(?:attn|fc)_norm|fc1|fc2)\.(.+)", r"\1.\2.\3"),
    (r"(cls_token|norm\.weight|norm\.bias)", r"\1"),
    (r"fc\.0\.(.+)", r"head.\1"),
)
#: weaver's pair features (ln kT, ln z, ln Delta, ln m^2) in the order of the project's PAIR_FEATURES
_PAIR_ORDER = [("ln_kt", "ln_z", "ln_delta", "ln_m2").index(name) for name in PAIR_FEATURES]
_ARCHITECTURES = {"particlenet": "ParticleNet", "part": "Particle Transformer"}
_EXAMPLES = {"particlenet": "networks/example_ParticleNet.py", "part": "networks/example_ParticleTransformer.py"}


def _rename(state: Mapping[str, torch.Tensor], rules) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Keys renamed by the first matching rule; the keys no rule matches."""
    out, unknown = {}, []
    for key, value in state.items():
        for pattern, replacement in rules:
            if re.fullmatch(pattern, key):
                out[re.sub(pattern, replacement, key)] = value
                break
        else:
            unknown.append(key)
    return out, unknown


def _particlenet_state(state: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """weaver-core ParticleNet -> the project's: renamed keys, 1x1 convolution kernels squeezed to matrices."""
    out, unknown = _rename(state, _PARTICLENET_KEYS)
    for key, value in out.items():
        if re.fullmatch(r"blocks\.\d+\.(linears\.\d+|shortcut)\.weight", key):
            out[key] = value.reshape(value.shape[0], -1) if value.dim() > 2 else value
    return out, unknown


def _fold_head_scales(out: dict[str, torch.Tensor], *, interleaved: bool) -> None:
    """Fold weaver's per-head scale of the attention output (``c_attn``) into the output projection.

    weaver-core scales the output of ``out_proj`` per head, viewed as (heads, head_dim); up to
    version 0.4.17 it also reorders the channels to (head_dim, heads) (``einsum('tbhd,h->tbdh')``),
    the layout the published ParT was trained with. Both are a fixed reordering and scaling of
    ``out_proj``'s rows, so the project's block, with its own head scale set to 1, computes the same.
    """
    for prefix in sorted(k.rsplit(".", 1)[0] for k in out if k.endswith(".head_scale")):
        scale = out[f"{prefix}.head_scale"]
        heads, width = scale.numel(), out[f"{prefix}.out_proj.weight"].shape[0]
        channel = torch.arange(width)
        if interleaved:  # output channel c = d * heads + h comes from row h * head_dim + d of out_proj
            rows, factor = (channel % heads) * (width // heads) + channel // heads, scale[channel % heads]
        else:  # output channel c = h * head_dim + d
            rows, factor = channel, scale[channel // (width // heads)]
        out[f"{prefix}.out_proj.weight"] = out[f"{prefix}.out_proj.weight"][rows] * factor[:, None]
        out[f"{prefix}.out_proj.bias"] = out[f"{prefix}.out_proj.bias"][rows] * factor
        out[f"{prefix}.head_scale"] = torch.ones_like(scale)


def _part_weights(state: dict[str, torch.Tensor], *, interleaved: bool) -> dict[str, torch.Tensor]:
    """Renamed weaver ParticleTransformer weights (shapes checked) -> the project's: pair features
    reordered, head scales folded into the output projections (``interleaved``: weaver-core <= 0.4)."""
    out = dict(state)
    for key in [k for k in out if k.startswith("pair_embed.mlp.0.") and k != "pair_embed.mlp.0.num_batches_tracked"]:
        out[key] = out[key][_PAIR_ORDER]  # BatchNorm of the pair features
    out["pair_embed.mlp.1.weight"] = out["pair_embed.mlp.1.weight"][:, _PAIR_ORDER]  # first 1x1 convolution
    _fold_head_scales(out, interleaved=interleaved)
    return out


def _published_model(architecture: str, input_dims: int) -> nn.Module:
    """The project's network in the configuration of particle_transformer's example networks."""
    classes = len(JETCLASS_CLASSES)
    if architecture == "particlenet":
        return ParticleNet(input_dims, classes, **PN_CONFIGS["particlenet"])
    return ParticleTransformer(input_dims, classes, **PART_CONFIGS["part"], class_query_norm=False)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a state dict saved with torch.save, read with ``weights_only=True``."""
    how = f"give one of the published files (models/ParticleNet_full.pt, ...) from {SOURCE}"
    if not path.is_file():
        where = "" if path.parent.is_dir() else f" (the folder {path.parent} does not exist either)"
        raise DataError(f"JetClass model {path} not found{where}; {how}")
    with path.open("rb") as fh:
        head = fh.read(4)
    if not head.startswith((b"PK\x03\x04", b"\x80")):
        raise DataError(f"{path} is not a PyTorch weights file (it starts with {head!r}); {how}")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - UnpicklingError, RuntimeError, KeyError ... on foreign files
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        what = f"pickled Python objects ({found.group(1)})" if found else f"no readable tensors ({type(exc).__name__})"
        raise DataError(
            f"{path} holds {what}; only state dicts (tensors) are loaded, with torch.load(weights_only=True), "
            f"never pickled code; {how}"
        ) from None
    if isinstance(blob, Mapping) and {"config", "state_dict"} <= set(blob):
        raise DataError(
            f"{path} is a hepml_nb checkpoint, not a published JetClass model: load it with "
            "hepml_nb.jets.pretrained.load_checkpoint"
        )
    if not isinstance(blob, Mapping) or not blob or not all(isinstance(v, torch.Tensor) for v in blob.values()):
        found = type(blob).__name__ if not isinstance(blob, Mapping) else f"a dict with keys {sorted(blob)[:5]}"
        raise DataError(f"{path} is not a state dict (a dict of tensors): it holds {found}; {how}")
    return {re.sub(r"^(module\.)?mod\.", "", k): v for k, v in blob.items()}


def _architecture(state: Mapping[str, torch.Tensor], path: Path) -> tuple[str, int]:
    """``("particlenet" | "part", number of particle inputs)`` from the keys of a weaver state dict."""
    for architecture, key in (("particlenet", "bn_fts.weight"), ("part", "embed.input_bn.weight")):
        if key in state:
            return architecture, int(state[key].shape[0])
    raise DataError(
        f"{path} is not a state dict of weaver-core's ParticleNet or ParticleTransformer (no 'bn_fts' or "
        f"'embed.input_bn' entries; its first keys: {', '.join(list(state)[:4])}); give one of the published "
        f"JetClass models from {SOURCE}"
    )


def _input_set(input_dims: int, path: Path, architecture: str) -> str:
    sets = {len(v): k for k, v in FEATURE_SETS.items()}
    if input_dims not in sets:
        raise DataError(
            f"{path} is a {_ARCHITECTURES[architecture]} with {input_dims} particle inputs, which is none of "
            f"JetClass's input sets ({', '.join(f'{k} {len(v)}' for k, v in FEATURE_SETS.items())})"
        )
    return sets[input_dims]


def _check_fit(model: nn.Module, state: Mapping[str, torch.Tensor], unknown: list[str], path: Path, arch: str):
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    wrong = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    extra = [k for k in state if k not in expected] + unknown
    if missing or wrong or extra:
        details = "; ".join(
            f"{label}: {', '.join(items[:4])}{' ...' if len(items) > 4 else ''}"
            for label, items in (("missing", missing), ("other shapes", wrong), ("unexpected", extra))
            if items
        )
        raise DataError(
            f"{path} is a {_ARCHITECTURES[arch]} but not in the JetClass paper's configuration that "
            f"load_jetclass builds (particle_transformer's {_EXAMPLES[arch]}, 10 classes): {details}"
        )


def load_jetclass(path: Path | str, *, feature_set: str | None = None) -> nn.Module:
    """A published JetClass model as the project's ParticleNet or Particle Transformer, in eval mode.

    Parameters
    ----------
    path
        A state dict saved by weaver-core (``ParticleNet_{kin,kinpid,full}.pt`` or
        ``ParT_{kin,kinpid,full}.pt`` of particle_transformer's ``models/``), read with
        ``torch.load(weights_only=True)``.
    feature_set
        The input set the data will have (``kin``, ``kinpid``, ``full``); the file must have been
        trained on it. None takes the file's own.

    Returns
    -------
    torch.nn.Module
        :class:`~hepml_nb.jets.models.ParticleNet` (k = 16, EdgeConv blocks (64, 64, 64),
        (128, 128, 128), (256, 256, 256), FC 256) or
        :class:`~hepml_nb.jets.transformer.ParticleTransformer` (the paper's ``part``
        configuration, class-attention query as in weaver-core) with 10 outputs (logits) in
        the order of :data:`JETCLASS_CLASSES`. Extra attributes: ``name``
        (``particlenet_jetclass`` or ``part_jetclass``), ``class_names``, ``feature_set`` and
        ``source`` (the path). Its inputs: ``model.inputs`` of a
        :func:`~hepml_nb.jets.io.load_jets` result with ``feature_set=model.feature_set`` and
        ``max_particles=128`` (see :func:`jetclass_probabilities`).

    Raises
    ------
    DataError
        The file is missing, not a PyTorch file, holds pickled objects or is a hepml_nb checkpoint,
        is not a weaver ParticleNet or ParticleTransformer, is one in another configuration, or
        was trained on another input set than ``feature_set``.
    """
    if feature_set is not None and feature_set not in FEATURE_SETS:
        raise ParameterError(
            f"unknown feature_set {feature_set!r}; choose one of {', '.join(map(repr, FEATURE_SETS))} or None "
            "(the file's own)"
        )
    path = Path(path).expanduser()
    raw = _read_state_dict(path)
    architecture, input_dims = _architecture(raw, path)
    own = _input_set(input_dims, path, architecture)
    if feature_set is not None and feature_set != own:
        raise DataError(
            f"{path} was trained on JetClass's {own!r} inputs ({input_dims} per particle), but "
            f"feature_set={feature_set!r} has {len(FEATURE_SETS[feature_set])}: give the model trained on "
            f"{feature_set!r} inputs (e.g. ParticleNet_{feature_set}.pt), or pass feature_set={own!r} and load "
            f"the jets with it"
        )
    if architecture == "particlenet":
        state, unknown = _particlenet_state(raw)
    else:
        state, unknown = _rename(raw, _PART_KEYS)
    model = _published_model(architecture, input_dims)
    _check_fit(model, state, unknown, path, architecture)
    if architecture == "part":
        # torch's MultiheadAttention keys (in_proj_weight): weaver-core <= 0.4, the published files' layout
        state = _part_weights(state, interleaved=any(k.endswith("attn.in_proj_weight") for k in raw))
    model.load_state_dict(state)
    model.name = f"{architecture}_jetclass"
    model.class_names = JETCLASS_CLASSES
    model.feature_set = own
    model.source = str(path)
    return model.eval()


def jetclass_class(name: str) -> str:
    """The JetClass class of a project class name or label branch: ``top`` -> ``Tbqq``, ``w`` -> ``Wqq``,
    ``z`` -> ``Zqq``, ``qcd``, ``g``, ``q`` -> ``QCD``, ``label_Hbb`` -> ``Hbb``; a JetClass name is itself."""
    if name in JETCLASS_CLASSES:
        return name
    if name not in _JETCLASS_OF:
        raise ParameterError(
            f"class {name!r} has no JetClass counterpart; known: {', '.join(_JETCLASS_OF)} and "
            f"{', '.join(JETCLASS_CLASSES)}"
        )
    return _JETCLASS_OF[name]


def binary_score(probabilities: np.ndarray, signal: str) -> np.ndarray:
    """JetClass's signal-vs-QCD discriminant ``p_s / (p_s + p_QCD)`` from the 10 class probabilities.

    Parameters
    ----------
    probabilities
        (N, 10) softmax outputs in :data:`JETCLASS_CLASSES` order.
    signal
        The signal class: a JetClass name (``Tbqq``) or the project's (``top``, ``w``, ``z``).
    """
    p = np.asarray(probabilities, dtype=float)
    if p.ndim != 2 or p.shape[1] != len(JETCLASS_CLASSES):
        raise ParameterError(f"probabilities must be (N, {len(JETCLASS_CLASSES)}) JetClass outputs, got {p.shape}")
    s = p[:, JETCLASS_CLASSES.index(jetclass_class(signal))]
    return s / np.maximum(s + p[:, 0], 1e-30)


def jetclass_discriminant(
    probabilities: np.ndarray, labels: np.ndarray, class_names: Sequence[str], *, signal: str
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and JetClass scores ``p_s / (p_s + p_QCD)`` of the signal jets and the QCD jets of a sample.

    The published model's counterpart of :func:`~hepml_nb.jets.study.signal_vs_background`: its
    outputs are JetClass's 10 classes, the sample's labels the project's.

    Parameters
    ----------
    probabilities
        (N, 10) outputs of a published model (:func:`jetclass_probabilities`).
    labels
        (N,) index of each jet's true class in ``class_names``.
    class_names
        The sample's classes (``data.label_names``: ``qcd, top``; ``g, q, w, z, top``; ...).
    signal
        The signal class, one of ``class_names``; the background are the classes JetClass calls QCD
        (``qcd``, ``g``, ``q``); jets of other classes are dropped.

    Returns
    -------
    (y_true, score)
        ``y_true`` 1 for signal jets, 0 for QCD jets, and their scores.
    """
    names, labels = tuple(class_names), np.asarray(labels)
    if signal not in names:
        raise ParameterError(f"signal {signal!r} is not a class of the sample; its classes: {', '.join(names)}")
    qcd = [i for i, name in enumerate(names) if jetclass_class(name) == "QCD" and name != signal]
    keep = np.isin(labels, [names.index(signal), *qcd])
    y = (labels[keep] == names.index(signal)).astype(int)
    return y, binary_score(np.asarray(probabilities)[keep], signal)


def how_to_get() -> str:
    """Where the published models are and the sha256 of each file, for a user who has none."""
    lines = [f"The published JetClass models are in {SOURCE} (files <model>_<inputs>.pt).", "sha256 of the files:"]
    return "\n".join([*lines, *(f"  {name}  {digest}" for name, digest in PUBLISHED_SHA256.items())])


def published_name(path: Path | str) -> str | None:
    """The name of the published file whose sha256 ``path`` has (:data:`PUBLISHED_SHA256`), or None."""
    digest = hashlib.sha256(Path(path).expanduser().read_bytes()).hexdigest()
    return next((name for name, known in PUBLISHED_SHA256.items() if known == digest), None)


def _check_jets(model: nn.Module, data) -> None:
    """The jets have the model's input set and are padded long enough that no jet lost particles."""
    wanted = FEATURE_SETS[model.feature_set]
    if tuple(data.feature_names) != wanted:
        raise DataError(
            f"{model.name} takes JetClass's {model.feature_set!r} inputs ({', '.join(wanted)}), but the jets have "
            f"{', '.join(data.feature_names)}; load them with load_jets(..., feature_set={model.feature_set!r}, "
            f"max_particles={JETCLASS_MAX_PARTICLES})"
        )
    width = data.mask.shape[1]
    if width < JETCLASS_MAX_PARTICLES:
        counts = np.asarray(data.jets["nparticles"] if "nparticles" in data.jets else data.mask.sum(axis=1))
        cut = int(np.sum(counts > width))
        if cut:
            raise DataError(
                f"{cut} of {len(counts)} jets have more particles than the {width} they are padded to, where "
                f"JetClass keeps {JETCLASS_MAX_PARTICLES}; load them with max_particles={JETCLASS_MAX_PARTICLES}"
            )


def jetclass_probabilities(
    model: nn.Module, data, *, batch_size: int = 64, device: str | torch.device = "cpu"
) -> np.ndarray:
    """The (N, 10) class probabilities of a :func:`load_jetclass` model on jets (softmax of its outputs).

    Parameters
    ----------
    model
        A :func:`load_jetclass` model, or its copy fine-tuned on a task
        (:func:`~hepml_nb.jets.finetune.fine_tune`: the task's classes instead of the 10).
    data
        A :class:`~hepml_nb.jets.io.JetData` loaded with ``feature_set=model.feature_set`` and
        ``max_particles=128``.
    batch_size
        Jets per forward pass; small batches are faster on a CPU (fewer page faults).

    Raises
    ------
    DataError
        The jets have another input set, or are padded to fewer than 128 particles and some
        jet has more.
    """
    from hepml_nb.jets.training import model_inputs, predict_scores

    _check_jets(model, data)
    return predict_scores(model, *model_inputs(model, data), batch_size=batch_size, device=device)
