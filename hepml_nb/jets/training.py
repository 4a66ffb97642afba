"""One training loop for every jet tagger: mini-batches, validation each epoch, LR schedule, early stopping.

A tagger's ``inputs`` (class attribute) names the :class:`~hepml_nb.jets.io.JetData` attributes its
``forward`` takes; :func:`model_inputs` and :func:`subset` cut those arrays out of a JetData, and
:func:`train_tagger` and :func:`predict_scores` pass them to the model in that order.

Training data are in-memory arrays or, for data sets larger than memory (JetClass's 100 million
jets), a :class:`~hepml_nb.jets.streaming.JetStream` that reads the files chunk by chunk and pads
each batch to its longest jet; unshuffled, both give the same batches and the same weights.

AdamW with a one-cycle learning-rate schedule (20 % warm-up, then cosine decay over
the planned steps), close to the schedule of the ParticleNet paper. After every epoch
the validation loss is computed; training stops after ``patience`` epochs without
improvement and the best weights are restored.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Mapping

import numpy as np
import torch
from tqdm.auto import tqdm

from hepml_nb.core.devices import resolve_device, torch_seed
from hepml_nb.core.errors import ParameterError
from hepml_nb.core.history import TrainingHistory, TrainResult
from hepml_nb.jets.streaming import JetStream

__all__ = [
    "train_val_test_split",
    "model_inputs",
    "subset",
    "train_tagger",
    "predict_scores",
    "predict_stream",
]

#: inputs of a model without an ``inputs`` attribute (ParticleNet's)
_DEFAULT_INPUTS = ("points", "features", "mask")


def train_val_test_split(n: int, *, fractions=(0.7, 0.15, 0.15), seed: int = 0) -> dict[str, np.ndarray]:
    """Random disjoint index arrays ``train``, ``val``, ``test`` for ``n`` jets."""
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ParameterError(f"fractions must be three positive numbers summing to 1, got {fractions!r}")
    order = np.random.default_rng(seed).permutation(n)
    a = round(fractions[0] * n)
    b = a + round(fractions[1] * n)
    return {"train": order[:a], "val": order[a:b], "test": order[b:]}


def model_inputs(model, data, index=None) -> tuple[np.ndarray, ...]:
    """The arrays ``model`` takes, in its ``model.inputs`` order, from a :class:`~hepml_nb.jets.io.JetData`.

    Parameters
    ----------
    model
        A tagger (``model.inputs``, e.g. ``("points", "features", "mask")`` for ParticleNet,
        ``("features", "four_vectors", "mask")`` for the Particle Transformer), or None for
        ParticleNet's inputs.
    data
        A JetData (or any object with those attributes).
    index
        Jets to take (an index array, a slice or a boolean mask); None for all.

    Returns
    -------
    tuple of numpy.ndarray
        ``mask`` as bool, every other array as float32 (four-vectors in GeV).

    Raises
    ------
    ParameterError
        ``data`` lacks an attribute the model needs.
    """
    names = getattr(model, "inputs", _DEFAULT_INPUTS) if model is not None else _DEFAULT_INPUTS
    missing = [n for n in names if getattr(data, n, None) is None]
    if missing:
        raise ParameterError(
            f"{type(model).__name__} needs the jet arrays {', '.join(names)}, but {type(data).__name__} has no "
            f"{', '.join(missing)}; load the jets with hepml_nb.jets.load_jets"
        )
    out = []
    for name in names:
        a = np.asarray(getattr(data, name))
        a = a if index is None else a[index]
        out.append(a.astype(bool if name == "mask" else np.float32, copy=False))
    return tuple(out)


def subset(data, index: np.ndarray, model=None) -> tuple[np.ndarray, ...]:
    """``(*model_inputs(model, data, index), labels)``: what :func:`train_tagger` takes as train or val.

    Without ``model``: ParticleNet's ``(points, features, mask, labels)``.
    """
    return (*model_inputs(model, data, index), np.asarray(data.labels)[index])


def _batches(arrays, batch_size: int, rng: np.random.Generator | None, device: torch.device, *, training: bool = False):
    n = len(arrays[0])
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        if training and len(idx) < 2:  # BatchNorm needs two jets
            continue
        yield tuple(_tensor(a[idx], device) for a in arrays)


def _stream_batches(model, stream: JetStream, batch_size: int, rng, device: torch.device, *, training: bool = False):
    """``(*inputs, labels)`` tensors of a :class:`~hepml_nb.jets.streaming.JetStream`'s padded batches."""
    for batch in stream.batches(batch_size, shuffle=rng is not None, rng=rng):
        if training and len(batch.labels) < 2:  # BatchNorm needs two jets
            continue
        yield tuple(_tensor(a, device) for a in (*model_inputs(model, batch), batch.labels))


def _data_batches(model, data, batch_size: int, rng, device: torch.device, *, training: bool = False):
    """Batches of in-memory ``(*inputs, labels)`` arrays or of a JetStream; ``rng`` None keeps the order."""
    if isinstance(data, JetStream):
        return _stream_batches(model, data, batch_size, rng, device, training=training)
    return _batches(data, batch_size, rng, device, training=training)


def _n_jets(data) -> int:
    return len(data) if isinstance(data, JetStream) else len(data[0])


def _tensor(a: np.ndarray, device: torch.device) -> torch.Tensor:
    """A batch array as a tensor on ``device``; float64 (e.g. four-vectors) becomes float32."""
    t = torch.as_tensor(a)
    return (t.float() if t.is_floating_point() else t).to(device)


def _evaluate(model, data, batch_size: int, device: torch.device) -> tuple[float, float]:
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for *inputs, y in _data_batches(model, data, batch_size, None, device):
            logits = model(*inputs)
            loss += float(torch.nn.functional.cross_entropy(logits, y.long(), reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
    return loss / _n_jets(data), correct / _n_jets(data)


def _check_training(epochs: int, batch_size: int, lr: float, patience: int) -> None:
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ParameterError(f"epochs must be a positive integer, got {epochs!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 2:
        raise ParameterError(f"batch_size must be an integer >= 2 (BatchNorm needs two jets), got {batch_size!r}")
    if not lr > 0:
        raise ParameterError(f"learning rate must be positive, got {lr!r}")
    if patience < 1:
        raise ParameterError(f"patience must be >= 1 epoch, got {patience!r}")


def train_tagger(
    model: torch.nn.Module,
    train,
    val,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    patience: int = 3,
    device: str | torch.device = "auto",
    seed: int = 0,
    progress: bool = True,
    shuffle: bool = True,
    lr_scales: Mapping[str, float] | None = None,
) -> TrainResult:
    """Train ``model`` in place on ``train`` and keep the weights with the lowest validation loss.

    The starting weights count as a candidate, so fine-tuning a pretrained model never
    leaves it worse on the validation set.

    Parameters
    ----------
    model
        A tagger from :func:`~hepml_nb.jets.models.build_tagger` (ParticleNet or Particle Transformer).
    train, val
        ``(*inputs, labels (N,))`` numpy arrays, the inputs in ``model.inputs`` order, e.g. from
        ``subset(data, index, model)`` (ParticleNet: points (N, P, 2), features (N, P, F), mask (N, P)),
        or a :class:`~hepml_nb.jets.streaming.JetStream` (files read chunk by chunk, each batch padded
        to its longest jet) for data sets larger than memory.
    epochs, batch_size, lr, weight_decay
        Optimisation settings (AdamW, one-cycle LR schedule peaking at ``lr``).
    patience
        Epochs without a lower validation loss before stopping early.
    device
        ``auto``, ``cpu``, ``cuda``, or a :class:`torch.device` already resolved by
        :func:`~hepml_nb.core.devices.resolve_device` (used as it is).
    seed
        Seed of the batch order and of the dropout draws. Torch's global random state is
        forked for the run (:func:`~hepml_nb.core.devices.torch_seed`): training draws from its
        own seeded stream and leaves the caller's random state as it was.
    shuffle
        Shuffle the training jets each epoch (a stream shuffles its chunks across files and the
        jets within each group of chunks); False keeps their order, so the same jets in memory
        and streamed give the same batches.
    lr_scales
        ``{pattern: factor}``: a parameter whose name matches a regular expression (in full; the
        first that matches counts) trains at ``factor * lr`` (weaver's ``lr_mult``), the others at
        ``lr``; e.g. ``{"head.3.*": 1.0, ".*": 0.02}`` trains all but the last layer 50 times
        slower. None: one learning rate.

    Returns
    -------
    hepml_nb.core.history.TrainResult
        ``model`` (the same ``model``, trained in place: the best weights, eval mode, on ``device``),
        ``history`` (one record per epoch: ``epoch`` counted from 1, ``train_loss``, ``val_loss``,
        ``val_accuracy``, ``lr``), ``seconds`` (time spent in the training batches, validation left
        out), ``best_epoch`` (0-based index into the history; -1 when no epoch beat the starting
        weights, which are then kept) and ``per_second`` (training jets per second).
    """
    _check_training(epochs, batch_size, lr, patience)
    device = resolve_device(device)
    with torch_seed(seed, device):
        return _train(
            model,
            train,
            val,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            patience=patience,
            device=device,
            rng=np.random.default_rng(seed) if shuffle else None,
            progress=progress,
            lr_scales=lr_scales or {},
        )


def _param_groups(model: torch.nn.Module, lr: float, lr_scales: Mapping[str, float]) -> list[dict]:
    """AdamW parameter groups, one per learning-rate factor of ``lr_scales`` (see :func:`train_tagger`),
    the parameters in the model's order; the first group is the one at ``lr`` when there is one."""
    factors: dict[float, list[torch.nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        factor = next((float(f) for p, f in lr_scales.items() if re.fullmatch(p, name)), 1.0)
        factors.setdefault(factor, []).append(parameter)
    order = sorted(factors, key=lambda f: f != 1.0)  # the group at lr first (stable: model order otherwise)
    return [{"params": factors[f], "lr": lr * f} for f in order]


def _train(
    model, train, val, *, epochs, batch_size, lr, weight_decay, patience, device, rng, progress, lr_scales
) -> TrainResult:
    """The loop of :func:`train_tagger` (arguments checked, random state forked and seeded there)."""
    model.to(device)
    opt = torch.optim.AdamW(_param_groups(model, lr, lr_scales), lr=lr, weight_decay=weight_decay)
    steps = epochs * max(1, -(-_n_jets(train) // batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=steps, pct_start=0.2
    )
    history = TrainingHistory("epoch")
    best = _evaluate(model, val, 512, device)[0]  # fine-tuning must beat the starting weights
    best_state, best_epoch, seen, train_time = copy.deepcopy(model.state_dict()), -1, 0, 0.0
    bar = tqdm(range(epochs), desc="epochs", unit="epoch", disable=not progress)
    for epoch in bar:
        model.train()
        start, total = time.perf_counter(), 0.0
        for *inputs, y in _data_batches(model, train, batch_size, rng, device, training=True):
            loss = torch.nn.functional.cross_entropy(model(*inputs), y.long())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched.last_epoch < steps - 1:
                sched.step()
            total += loss.item() * len(y)
            seen += len(y)
        train_time += time.perf_counter() - start
        val_loss, val_acc = _evaluate(model, val, 512, device)
        history.log(
            epoch + 1,
            train_loss=total / _n_jets(train),
            val_loss=val_loss,
            val_accuracy=val_acc,
            lr=opt.param_groups[0]["lr"],
        )
        bar.set_postfix(
            train_loss=f"{history['train_loss'][-1]:.4f}", val_loss=f"{val_loss:.4f}", val_acc=f"{val_acc:.3f}"
        )
        if val_loss < best:
            best, best_epoch, best_state = val_loss, epoch, copy.deepcopy(model.state_dict())
        elif epoch - max(best_epoch, 0) >= patience:
            break
    model.load_state_dict(best_state)
    return TrainResult(
        model.eval(), history, seconds=train_time, best_epoch=best_epoch, per_second=seen / max(train_time, 1e-9)
    )


def predict_scores(
    model: torch.nn.Module, *inputs, batch_size: int = 512, device: str | torch.device = "auto"
) -> np.ndarray:
    """Softmax scores (N, n_classes) of ``model`` in eval mode on ``inputs`` (in ``model.inputs`` order,
    e.g. ``*model_inputs(model, data)`` or ``*test[:-1]`` of a :func:`subset`)."""
    device = resolve_device(device)
    model.to(device).eval()
    out = []
    with torch.no_grad():
        for batch in _batches(inputs, batch_size, None, device):
            out.append(torch.softmax(model(*batch), dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 2), np.float32)


def predict_stream(
    model: torch.nn.Module, stream: JetStream, *, batch_size: int = 512, device: str | torch.device = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax scores (N, n_classes) of ``model`` on every jet of a :class:`~hepml_nb.jets.streaming.JetStream`
    (in file order) and their labels (N,)."""
    device = resolve_device(device)
    model.to(device).eval()
    scores, labels = [], []
    with torch.no_grad():
        for *batch, y in _stream_batches(model, stream, batch_size, None, device):
            scores.append(torch.softmax(model(*batch), dim=1).cpu().numpy())
            labels.append(y.cpu().numpy())
    return np.concatenate(scores), np.concatenate(labels)
