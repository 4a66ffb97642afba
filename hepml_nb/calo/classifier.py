"""The classifier test of the Fast Calorimeter Simulation Challenge (arXiv:2410.21611, sec. 4.2).

A neural network is trained to tell generated from reference showers. On a held-out
test set we quote its AUC (0.5: indistinguishable) and, after calibrating its output
with isotonic regression fitted on a validation set, the Jensen-Shannon divergence
estimate ``JSD = (ln 2 - BCE) / ln 2`` (0: indistinguishable, 1: perfectly separated),
where BCE is the binary cross-entropy of the calibrated probabilities (nats).
Inputs are either low-level (every cell, log-scaled energy fractions) or high-level
(the features of :mod:`hepml_nb.calo.features`), each with log10(E_inc).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import log_loss, roc_auc_score
from torch import nn
from tqdm.auto import tqdm

from hepml_nb.calo.features import feature_matrix, shower_features
from hepml_nb.calo.gflash import ShowerSet
from hepml_nb.core.devices import torch_seed, torch_threads
from hepml_nb.core.errors import DataError, ParameterError

__all__ = ["ClassifierResult", "low_level_inputs", "high_level_inputs", "classifier_test", "jsd_from_bce"]


class ClassifierResult(NamedTuple):
    """Outcome of the classifier test on the test split.

    ``auc``: ROC AUC of the raw output; ``jsd``: JSD after isotonic calibration;
    ``bce``: calibrated binary cross-entropy [nats]; ``labels``/``scores``: test labels
    (1 = generated) and calibrated probabilities; ``n_train``/``n_test``: showers.
    """

    auc: float
    jsd: float
    bce: float
    labels: np.ndarray
    scores: np.ndarray
    n_train: int
    n_test: int


def jsd_from_bce(bce: float) -> float:
    """Jensen-Shannon divergence estimate from a calibrated classifier's BCE [nats]: (ln 2 - BCE) / ln 2."""
    return float((np.log(2.0) - bce) / np.log(2.0))


def low_level_inputs(showers: ShowerSet, *, f0: float = 1e-4) -> np.ndarray:
    """Per cell ``ln(1 + (E_cell/E_inc)/f0)``, then ``log10(E_inc/GeV)``: shape (N, n_cells + 1)."""
    frac = np.maximum(showers.cells, 0.0) / (1000.0 * showers.e_inc[:, None])
    return np.column_stack([np.log1p(frac / f0), np.log10(showers.e_inc)]).astype(np.float32)


def high_level_inputs(showers: ShowerSet) -> np.ndarray:
    """High-level features (``shower_features``) and ``log10(E_inc/GeV)``: shape (N, n_features + 1)."""
    matrix, _ = feature_matrix(shower_features(showers))
    return np.column_stack([matrix, np.log10(showers.e_inc)]).astype(np.float32)


def _split(reference: np.ndarray, generated: np.ndarray, rng: np.random.Generator):
    n = min(len(reference), len(generated))
    x = np.concatenate([reference[rng.permutation(len(reference))[:n]], generated[rng.permutation(len(generated))[:n]]])
    y = np.concatenate([np.zeros(n), np.ones(n)]).astype(np.float32)
    order = rng.permutation(2 * n)
    x, y = x[order], y[order]
    a, b = int(0.6 * 2 * n), int(0.8 * 2 * n)
    mean, std = x[:a].mean(0), x[:a].std(0) + 1e-6
    x = ((x - mean) / std).astype(np.float32)
    return (x[:a], y[:a]), (x[a:b], y[a:b]), (x[b:], y[b:])


def _predict(net: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.sigmoid(net(torch.from_numpy(x))).numpy().ravel()


def _fit(train, val, *, hidden, epochs, batch_size, lr, seed, progress) -> nn.Module:
    """Train the MLP; keep the weights of the epoch with the lowest validation loss."""
    # seeded initialisation and dropout: the whole fit draws from its own stream (torch's global
    # generator starts from a random seed in each process), and the caller's random state is left alone
    with torch_seed(seed):
        sizes = [train[0].shape[1], *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2), nn.Dropout(0.2)]
        net = nn.Sequential(*layers, nn.Linear(sizes[-1], 1))
        return _train_mlp(net, train, val, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, progress=progress)


def _train_mlp(net: nn.Module, train, val, *, epochs, batch_size, lr, seed, progress) -> nn.Module:
    opt, loss_fn = torch.optim.Adam(net.parameters(), lr=lr), nn.BCEWithLogitsLoss()
    xt, yt = torch.from_numpy(train[0]), torch.from_numpy(train[1])[:, None]
    xv, yv = torch.from_numpy(val[0]), torch.from_numpy(val[1])[:, None]
    gen, best = torch.Generator().manual_seed(seed), (np.inf, None)
    for _ in tqdm(range(epochs), desc="classifier", disable=not progress, leave=False):
        net.train()
        for idx in torch.randperm(len(xt), generator=gen).split(batch_size):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val_loss = loss_fn(net(xv), yv).item()
        if val_loss < best[0]:
            best = (val_loss, {k: v.clone() for k, v in net.state_dict().items()})
    net.load_state_dict(best[1])
    return net.eval()


def classifier_test(
    reference: np.ndarray,
    generated: np.ndarray,
    *,
    hidden: tuple[int, ...] = (256, 256),
    epochs: int = 20,
    batch_size: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    threads: int | None = 1,
    progress: bool = True,
) -> ClassifierResult:
    """Train a DNN to separate generated (label 1) from reference (label 0) inputs.

    Parameters
    ----------
    reference, generated : arrays (N_ref, d), (N_gen, d)
        Classifier inputs, e.g. from :func:`low_level_inputs` or :func:`high_level_inputs`.
        The larger sample is subsampled so that both classes have the same size.
    hidden, epochs, batch_size, lr
        Hidden widths (LeakyReLU, dropout 0.2); passes over the training split; Adam.
    seed
        Seeds the split, the weights and the batches.
    threads
        torch CPU threads while training (1 is fastest for this small network on shared cores).

    Returns
    -------
    ClassifierResult
        AUC (raw output) and JSD (isotonic-calibrated) on the 20 % test split; the
        network is trained on 60 % and calibrated on the 20 % validation split.
    """
    reference, generated = np.asarray(reference, np.float32), np.asarray(generated, np.float32)
    if reference.ndim != 2 or generated.ndim != 2 or reference.shape[1] != generated.shape[1]:
        raise DataError(
            f"classifier inputs must be 2-d with the same width, got {reference.shape} and {generated.shape}"
        )
    if min(len(reference), len(generated)) < 50:
        raise DataError(
            f"classifier test needs at least 50 showers per sample, got {len(reference)} and {len(generated)}"
        )
    if epochs < 1 or batch_size < 1:
        raise ParameterError(f"epochs and batch_size must be >= 1, got epochs={epochs}, batch_size={batch_size}")
    train, val, test = _split(reference, generated, np.random.default_rng(seed))
    with torch_threads(threads):
        net = _fit(train, val, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, progress=progress)
    iso = IsotonicRegression(y_min=1e-6, y_max=1 - 1e-6, out_of_bounds="clip").fit(_predict(net, val[0]), val[1])
    raw = _predict(net, test[0])
    calibrated = np.clip(iso.predict(raw), 1e-6, 1 - 1e-6)
    bce = float(log_loss(test[1], calibrated, labels=[0, 1]))
    return ClassifierResult(
        float(roc_auc_score(test[1], raw)), jsd_from_bce(bce), bce, test[1], calibrated, len(train[1]), len(test[1])
    )
