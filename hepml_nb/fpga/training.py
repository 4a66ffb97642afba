"""Training of the float 16-64-32-32-5 tagger (Adam on the cross-entropy of the logits).

Quantisation-aware training, which starts from this float model, is in :mod:`hepml_nb.fpga.qat`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from hepml_nb.core.devices import torch_threads
from hepml_nb.core.errors import ParameterError
from hepml_nb.core.history import TrainingHistory, TrainResult
from hepml_nb.core.lazy import needs_extra
from hepml_nb.fpga.models import DEFAULT_HIDDEN, build_tagger

__all__ = ["train_tagger"]


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
        The model (eval mode, ending in softmax), its history (one record per epoch: ``epoch``
        counted from 1 and ``loss``, the mean training loss), the training time ``seconds`` and
        the jets seen per second.
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
    start = time.perf_counter()
    with torch_threads(1):  # a small MLP trains fastest on one thread, and shared cores stay free
        for epoch in tqdm(range(1, epochs + 1), desc="training", disable=not progress):
            order, total = torch.randperm(len(Xt), generator=gen), 0.0
            for first in range(0, len(Xt), batch_size):
                idx = order[first : first + batch_size]
                loss = torch.nn.functional.cross_entropy(logits(Xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            history.log(epoch, loss=total / len(Xt))
    seconds = time.perf_counter() - start
    return TrainResult(model.eval(), history, seconds=seconds, per_second=epochs * len(Xt) / max(seconds, 1e-9))
