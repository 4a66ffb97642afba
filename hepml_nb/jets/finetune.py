"""Fine-tuning a published JetClass model on a task: the task's head on the pretrained backbone, the
backbone at a lower learning rate, BatchNorm statistics frozen.

The Particle Transformer paper (Qu, Li, Qian, arXiv:2202.03772) fine-tunes its JetClass
models on the top-tagging and quark-gluon benchmarks with a new, randomly initialised last layer
and the pretrained weights at a lower learning rate: particle_transformer's ``train_TopLandscape.sh``
(``PN-FineTune``, ``ParT-FineTune``) replaces the last fully connected layer and trains it at 50 times
the learning rate of the rest (weaver's ``lr_mult ("fc_out.*", 50)``; 1e-3 for ParticleNet's backbone,
1e-4 for ParT's), without a learning-rate schedule, 20 epochs of 2,400 batches of 512 jets.

:func:`fine_tune` follows that recipe with the project's training loop
(:func:`~hepml_nb.jets.training.train_tagger`: AdamW, one-cycle schedule, best validation loss kept),
with two choices of head (:func:`task_model`):

- ``head="outputs"`` keeps the rows of the published last layer that belong to the task's classes
  (QCD and Tbqq for top tagging): before any step, the fine-tuned model's ``p_top`` is exactly
  JetClass's discriminant ``p_s / (p_s + p_QCD)``, so fine-tuning starts from the published
  tagger and (the starting weights being a candidate) never ends worse on the validation set;
- ``head="new"`` is the paper's randomly initialised layer.

BatchNorm stays in eval mode (:class:`FrozenBatchNorm1d`): weaver-core, which trained the published
models, computes the batch statistics in training over every padded slot of 128 (the zeros too);
the project's networks count the real particles only (see :class:`~hepml_nb.jets.models.ParticleNet`),
so the two agree only in eval mode, with the stored statistics. A training-mode pass would normalise
with other numbers than the published weights were trained with and pull the stored statistics away
from them; frozen, the network computes in training what it computes in evaluation (up to dropout),
and the BatchNorm scales and offsets still learn.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from hepml_nb.core.devices import torch_seed
from hepml_nb.core.errors import ParameterError
from hepml_nb.core.history import TrainResult
from hepml_nb.jets.jetclass import JETCLASS_CLASSES, jetclass_class
from hepml_nb.jets.names import TASKS
from hepml_nb.jets.training import train_tagger

__all__ = ["HEADS", "PAPER_BACKBONE_LR_SCALE", "FrozenBatchNorm1d", "task_model", "fine_tune"]

#: ways to give a published model the task's outputs (see :func:`task_model`)
HEADS = ("outputs", "new")
#: the backbone's learning rate relative to the new last layer's in particle_transformer's fine-tuning (1/50)
PAPER_BACKBONE_LR_SCALE = 1 / 50


class FrozenBatchNorm1d(nn.BatchNorm1d):
    """A BatchNorm1d that stays in eval mode: it normalises with its stored running statistics and never
    updates them; its scale and offset (``weight``, ``bias``) still train. Same state-dict keys as BatchNorm1d."""

    def train(self, mode: bool = True) -> FrozenBatchNorm1d:  # noqa: ARG002 - nn.Module.train's signature
        return super().train(False)

    @classmethod
    def from_batchnorm(cls, norm: nn.BatchNorm1d) -> FrozenBatchNorm1d:
        """A frozen copy of ``norm`` (same weights and statistics)."""
        frozen = cls(norm.num_features, eps=norm.eps, momentum=norm.momentum, affine=norm.affine)
        frozen.load_state_dict(norm.state_dict())
        return frozen.to(next(norm.buffers()).device)


def _freeze_batchnorms(model: nn.Module) -> int:
    """Replace every BatchNorm1d of ``model`` (in place) by a :class:`FrozenBatchNorm1d`; how many."""
    names = [n for n, m in model.named_modules() if type(m) is nn.BatchNorm1d]
    for name in names:
        parent, _, child = name.rpartition(".")
        owner = model.get_submodule(parent)
        setattr(owner, child, FrozenBatchNorm1d.from_batchnorm(getattr(owner, child)))
    return len(names)


def _output_layer(model: nn.Module) -> tuple[str, nn.Linear]:
    """Name and module of the published model's last layer (ParticleNet ``head.3``, ParT ``head``)."""
    head = getattr(model, "head", None)
    layer, name = (head, "head") if isinstance(head, nn.Linear) else (None, "")
    if isinstance(head, nn.Sequential) and isinstance(head[-1], nn.Linear):
        layer, name = head[-1], f"head.{len(head) - 1}"
    if layer is None or layer.out_features != len(JETCLASS_CLASSES):
        raise ParameterError(
            f"{type(model).__name__} has no {len(JETCLASS_CLASSES)}-class last layer 'head': give a published "
            "JetClass model from hepml_nb.jets.jetclass.load_jetclass"
        )
    return name, layer


def _task_classes(task: str) -> tuple[str, ...]:
    if task not in TASKS:
        raise ParameterError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    return TASKS[task]


def task_model(model: nn.Module, task: str, *, head: str = "outputs", seed: int = 0) -> nn.Module:
    """A copy of a published JetClass model with the task's outputs and frozen BatchNorm statistics.

    Parameters
    ----------
    model
        A :func:`~hepml_nb.jets.jetclass.load_jetclass` model (10 outputs); it is not changed.
    task
        ``top``, ``w``, ``z`` (each against QCD) or ``multiclass``; outputs in the order of
        ``hepml_nb.jets.names.TASKS[task]`` (QCD first, as :func:`~hepml_nb.jets.datasets.task_labels` labels).
    head
        ``outputs``: the last layer keeps the published rows of the task's JetClass classes (QCD, Tbqq for
        ``top``; gluon and light-quark jets both start from QCD's row); ``new``: a randomly initialised
        last layer, as the ParT paper fine-tunes.
    seed
        Seed of the new layer's initial weights (``head="new"``).

    Returns
    -------
    torch.nn.Module
        The same class as ``model`` with ``name`` ``<model.name>_finetuned``, ``class_names`` the task's
        classes, ``feature_set`` and ``source`` kept, ``output_layer`` the name of its last layer, and every
        BatchNorm1d replaced by a :class:`FrozenBatchNorm1d`.
    """
    if head not in HEADS:
        raise ParameterError(f"unknown head {head!r}; choose one of: {', '.join(HEADS)}")
    classes = _task_classes(task)
    name, layer = _output_layer(model)
    tuned = copy.deepcopy(model)
    if head == "outputs":
        rows = [JETCLASS_CLASSES.index(jetclass_class(c)) for c in classes]
        new = nn.Linear(layer.in_features, len(classes)).to(layer.weight.device)
        with torch.no_grad():
            new.weight.copy_(layer.weight[rows])
            new.bias.copy_(layer.bias[rows])
    else:
        with torch_seed(seed):
            new = nn.Linear(layer.in_features, len(classes)).to(layer.weight.device)
    parent, _, child = name.rpartition(".")
    setattr(tuned.get_submodule(parent), child, new)
    _freeze_batchnorms(tuned)
    if isinstance(getattr(tuned, "config", None), dict):
        tuned.config = {**tuned.config, "num_classes": len(classes)}
    tuned.name = f"{getattr(model, 'name', type(model).__name__)}_finetuned"
    tuned.class_names, tuned.output_layer = classes, name
    return tuned.eval()


def fine_tune(
    model: nn.Module,
    train,
    val,
    *,
    task: str,
    epochs: int = 3,
    lr: float = 3e-3,
    backbone_lr_scale: float = PAPER_BACKBONE_LR_SCALE,
    head: str = "outputs",
    batch_size: int = 128,
    weight_decay: float = 1e-4,
    patience: int = 3,
    device: str | torch.device = "auto",
    seed: int = 0,
    progress: bool = True,
) -> TrainResult:
    """Fine-tune a published JetClass model on ``task``: :func:`task_model`, then the project's training loop.

    Parameters
    ----------
    model
        A :func:`~hepml_nb.jets.jetclass.load_jetclass` model; it is not changed (a copy is trained).
    train, val
        ``(*inputs, labels)`` arrays of jets loaded with ``feature_set=model.feature_set`` and
        ``max_particles=128`` (:func:`~hepml_nb.jets.training.subset`), labels in the task's class order.
    task, head
        See :func:`task_model`.
    epochs, batch_size, weight_decay, patience, device
        As in :func:`~hepml_nb.jets.training.train_tagger` (AdamW, one-cycle schedule, best validation
        loss kept; the starting weights count).
    lr
        Peak learning rate of the last layer.
    backbone_lr_scale
        The rest of the network trains at ``lr * backbone_lr_scale`` (the paper: 1/50); 0 trains the
        last layer only.
    seed
        Seed of a new last layer, the batch order and dropout.

    Returns
    -------
    hepml_nb.core.history.TrainResult
        ``model`` the fine-tuned copy (eval mode, on ``device``), ``history`` per epoch (``lr`` is the last
        layer's), ``seconds`` of training, ``best_epoch`` (-1: the starting weights were kept) and
        ``per_second`` (training jets per second).

    Raises
    ------
    ParameterError
        Unknown task or head, a negative ``backbone_lr_scale``, a model without a 10-class last layer, or
        training settings :func:`~hepml_nb.jets.training.train_tagger` refuses.
    """
    if not 0 <= backbone_lr_scale <= 1:
        raise ParameterError(
            "backbone_lr_scale must be between 0 (backbone frozen) and 1 (one learning rate), "
            f"got {backbone_lr_scale!r}"
        )
    tuned = task_model(model, task, head=head, seed=seed)
    scales = {rf"{tuned.output_layer}\..*": 1.0, r".*": float(backbone_lr_scale)}
    return train_tagger(
        tuned,
        train,
        val,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lr_scales=scales,
        weight_decay=weight_decay,
        patience=patience,
        device=device,
        seed=seed,
        progress=progress,
    )
