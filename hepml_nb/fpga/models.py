"""The 16-64-32-32-5 jet tagger: the PyTorch MLP, its class probabilities and their metrics.

The model is the benchmark network of the hls4ml paper (Duarte et al., JINST 13
(2018) P07027, arXiv:1804.06913): 16 high-level jet-substructure features, three
hidden layers of 64, 32 and 32 ReLU units and a 5-class softmax (g, q, W, Z, t).
Its data are in :mod:`hepml_nb.fpga.data`, its training in :mod:`hepml_nb.fpga.training`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from hepml_nb.core.devices import torch_seed
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.core.metrics import auc

__all__ = ["DEFAULT_HIDDEN", "build_tagger", "predict_proba", "classification_metrics", "dense_layer_sizes"]

DEFAULT_HIDDEN = (64, 32, 32)


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
        for i, (n_in, n_out) in enumerate(pairwise(sizes), 1):
            layers.append((f"fc{i}", torch.nn.Linear(n_in, n_out)))
            layers.append((f"relu{i}", torch.nn.ReLU()) if i < len(sizes) - 1 else ("softmax", torch.nn.Softmax(dim=1)))
    return torch.nn.Sequential(OrderedDict(layers)).eval()


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
