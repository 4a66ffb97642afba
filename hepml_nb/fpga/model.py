"""The 16-64-32-32-5 jet tagger: data preparation, the PyTorch MLP, training and metrics.

The model is the benchmark network of the hls4ml paper (Duarte et al., JINST 13
(2018) P07027, arXiv:1804.06913): 16 high-level jet-substructure features, three
hidden layers of 64, 32 and 32 ReLU units and a 5-class softmax (g, q, W, Z, t).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from hepml_nb.core.devices import torch_seed, torch_threads
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.history import TrainingHistory
from hepml_nb.core.lazy import needs_extra
from hepml_nb.core.metrics import auc

__all__ = [
    "TaggerData",
    "TrainResult",
    "prepare_data",
    "load_jet_data",
    "build_tagger",
    "train_tagger",
    "predict_proba",
    "classification_metrics",
    "dense_layer_sizes",
]

DEFAULT_HIDDEN = (64, 32, 32)


class TaggerData(NamedTuple):
    """Standardised train/test split; ``mean``/``scale`` are the training-set statistics (16,)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray


class TrainResult(NamedTuple):
    """A trained tagger (in eval mode) and its history (a :class:`~hepml_nb.core.history.TrainingHistory`,
    one record per epoch: ``epoch`` counted from 1 and ``loss``, the mean training loss)."""

    model: torch.nn.Sequential  # noqa: F821
    history: TrainingHistory

    @property
    def loss(self) -> list[float]:
        """The mean training loss per epoch (``history["loss"]``)."""
        return self.history["loss"]


def prepare_data(
    X: np.ndarray,
    y: np.ndarray,
    *,
    feature_names: Sequence[str] = (),
    class_names: Sequence[str] = (),
    test_fraction: float = 0.3,
    seed: int = 0,
) -> TaggerData:
    """Split ``X`` (N, F) and labels ``y`` (N,) stratified, and standardise with the training statistics.

    Raises
    ------
    DataError
        When ``X`` and ``y`` differ in length, hold non-finite values or a single class.
    ParameterError
        When ``test_fraction`` is not in (0, 1).
    """
    from sklearn.model_selection import train_test_split

    X, y = np.asarray(X, dtype=np.float32), np.asarray(y).astype(np.int64)
    if X.ndim != 2 or len(X) != len(y):
        raise DataError(f"features must be (N, F) and labels (N,); got {X.shape} and {y.shape}")
    if not np.all(np.isfinite(X)):
        raise DataError(
            f"features hold {int(np.sum(~np.isfinite(X)))} non-finite values; remove or impute them before training"
        )
    if np.unique(y).size < 2:
        raise DataError(f"labels hold a single class {np.unique(y)}; the tagger needs at least two")
    if not 0.0 < test_fraction < 1.0:
        raise ParameterError(f"test_fraction must be in (0, 1), got {test_fraction}")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_fraction, stratify=y, random_state=seed)
    mean, scale = X_tr.mean(axis=0), X_tr.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    names = tuple(class_names) or tuple(str(c) for c in np.unique(y))
    return TaggerData(
        ((X_tr - mean) / scale).astype(np.float32),
        ((X_te - mean) / scale).astype(np.float32),
        y_tr,
        y_te,
        tuple(feature_names),
        names,
        mean,
        scale,
    )


def load_jet_data(n_per_class: int, *, seed: int = 0, test_fraction: float = 0.3, progress: bool = True) -> TaggerData:
    """The 16 high-level features of the five jet classes from :mod:`hepml_nb.jets`, split and standardised.

    Jets are generated with Pythia8 and cached by :func:`hepml_nb.jets.high_level_dataset`.
    """
    if n_per_class < 10:
        raise ParameterError(f"n_per_class must be at least 10 jets per class, got {n_per_class}")
    from hepml_nb.jets import high_level_dataset

    data = high_level_dataset(n_per_class, seed=seed, progress=progress)
    return prepare_data(
        data.X,
        data.y,
        feature_names=data.feature_names,
        class_names=data.class_names,
        test_fraction=test_fraction,
        seed=seed,
    )


def build_tagger(
    n_features: int = 16, n_classes: int = 5, *, hidden: Sequence[int] = DEFAULT_HIDDEN, seed: int = 0
) -> torch.nn.Sequential:  # noqa: F821
    """The MLP ``n_features``-hidden-``n_classes`` with ReLU and a final softmax.

    Layers are named ``fc1, relu1, ..., fc<k>, softmax`` (hls4ml keeps these names).
    """
    with needs_extra("fpga"):
        import torch

    sizes = [int(n_features), *map(int, hidden), int(n_classes)]
    if min(sizes) < 1 or n_classes < 2:
        raise ParameterError(f"layer sizes must be positive and n_classes >= 2, got {sizes}")
    layers: list[tuple[str, torch.nn.Module]] = []
    with torch_seed(seed):  # seeded initialisation, the caller's random state left alone
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), 1):
            layers.append((f"fc{i}", torch.nn.Linear(n_in, n_out)))
            layers.append((f"relu{i}", torch.nn.ReLU()) if i < len(sizes) - 1 else ("softmax", torch.nn.Softmax(dim=1)))
    return torch.nn.Sequential(OrderedDict(layers)).eval()


def train_tagger(
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: Sequence[int] = DEFAULT_HIDDEN,
    epochs: int = 20,
    batch_size: int = 256,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    progress: bool = True,
) -> TrainResult:
    """Train the tagger with Adam on the cross-entropy of the logits (the softmax is left out while training).

    Parameters
    ----------
    X, y
        Standardised features (N, F) and class indices (N,).
    epochs, batch_size, lr, weight_decay
        Optimiser settings.

    Returns
    -------
    TrainResult
        The model (eval mode, ending in softmax) and its history (mean loss per epoch).
    """
    with needs_extra("fpga"):
        import torch
        from tqdm.auto import tqdm

    if epochs < 1 or batch_size < 1:
        raise ParameterError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    n_classes = int(np.max(y)) + 1
    model = build_tagger(X.shape[1], n_classes, hidden=hidden, seed=seed).train()
    logits = model[:-1]
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    Xt, yt = torch.from_numpy(np.asarray(X, dtype=np.float32)), torch.from_numpy(np.asarray(y, dtype=np.int64))
    history = TrainingHistory("epoch")
    with torch_threads(1):  # a small MLP trains fastest on one thread, and shared cores stay free
        for epoch in tqdm(range(1, epochs + 1), desc="training", disable=not progress):
            order, total = torch.randperm(len(Xt), generator=gen), 0.0
            for start in range(0, len(Xt), batch_size):
                idx = order[start : start + batch_size]
                loss = torch.nn.functional.cross_entropy(logits(Xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            history.log(epoch, loss=total / len(Xt))
    return TrainResult(model.eval(), history)


def predict_proba(model, X: np.ndarray) -> np.ndarray:
    """Class probabilities (N, n_classes) of the float (PyTorch) model."""
    with needs_extra("fpga"):
        import torch

    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))).numpy()


def classification_metrics(y: np.ndarray, proba: np.ndarray, class_names: Sequence[str]) -> dict[str, float]:
    """Accuracy and one-vs-rest ROC AUC per class (keys ``accuracy``, ``auc_<class>``, ``mean_auc``).

    A class absent from ``y`` gets AUC NaN.
    """
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(y), len(class_names)):
        raise DataError(f"scores must be (N, {len(class_names)}) for {len(y)} labels, got {proba.shape}")
    out = {"accuracy": float(np.mean(np.argmax(proba, axis=1) == y))}
    aucs = []
    for k, name in enumerate(class_names):
        is_k = (y == k).astype(int)
        value = auc(is_k, proba[:, k]) if 0 < is_k.sum() < len(y) else float("nan")
        out[f"auc_{name}"] = value
        aucs.append(value)
    out["mean_auc"] = float(np.nanmean(aucs))
    return out


def dense_layer_sizes(model) -> list[tuple[int, int]]:
    """``(n_in, n_out)`` of each ``Linear`` layer of a PyTorch model, in order."""
    with needs_extra("fpga"):
        import torch

    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)]
