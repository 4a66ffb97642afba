"""The classifier test of the Fast Calorimeter Simulation Challenge (arXiv:2410.21611, sec. 4.2).

A neural network is trained to tell generated from reference showers. On a held-out
test set we quote its AUC (0.5: indistinguishable) and, after calibrating its output
with isotonic regression fitted on a validation set, the Jensen-Shannon divergence
estimate ``JSD = (ln 2 - BCE) / ln 2`` (0: indistinguishable, 1: perfectly separated),
where BCE is the binary cross-entropy of the calibrated probabilities (nats).

Two presets (:data:`PRESETS`):

``tutorial`` (default, fast on a laptop CPU)
    2 x 256 LeakyReLU(0.2) with dropout 0.2, Adam lr 1e-3, batch 256, 20 epochs, float32,
    inputs standardised with the training split's mean/std; low-level inputs are log-scaled
    energy fractions ``ln(1 + (E_cell/E_inc)/1e-4)``, high-level inputs the project's
    features with the response ``E_tot/E_inc``; the weights of the epoch with the lowest
    validation loss are kept; the AUC is that of the raw network output.
``challenge`` (the challenge's ``evaluate.py`` ``cls-low`` / ``cls-high``, commit 57b3a57)
    3 x 2048 LeakyReLU (slope 0.01), no dropout, Adam lr 2e-4, batch 1000, 50 epochs, float64
    network; its inputs, not standardised, and its voxel threshold and split
    (:mod:`hepml_nb.calo.classifier_inputs`): low level ``log10(E_inc/MeV)`` and
    ``E_voxel/E_inc``, high level logarithms of the layer and total energies and centres,
    widths / 100 and sparsities, with no ``E_tot/E_inc``; 60k / 20k / 20k showers per class
    on 100k-shower dataset-2/3 files; the weights of the epoch with the highest validation
    *accuracy* are kept (training stops early at a validation accuracy of 1); the AUC is that
    of the calibrated output.

``evaluate.py`` names its sets train / test / val: its "test" set selects the epoch and
calibrates, its "val" set gives the result. Here they are train / validation / test. Without
a fixed split, each class is split 60/20/20. A bootstrap over the test set (calibrator and
network fixed) gives the standard errors ``auc_err`` and ``jsd_err``; the challenge quotes
the spread of repeated trainings instead.

The JSD is >= 0 by definition, but its estimator ``1 - BCE/ln 2`` fluctuates below 0
when the classifier cannot separate the samples (the calibrated BCE on the test set can
exceed ln 2 by chance). :attr:`ClassifierResult.jsd` is therefore clipped at 0 for
display; the unclipped estimate is :attr:`ClassifierResult.jsd_raw`.
"""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

import numpy as np
import torch
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import log_loss, roc_auc_score
from torch import nn
from tqdm.auto import tqdm

from hepml_nb.calo.classifier_inputs import (
    CHALLENGE_THRESHOLD_MEV,
    challenge_split,
    challenge_threshold_mev,
    high_level_inputs,
    low_level_inputs,
)
from hepml_nb.calo.data import ShowerSet
from hepml_nb.core.devices import torch_seed, torch_threads
from hepml_nb.core.errors import DataError, ParameterError

__all__ = [
    "ClassifierPreset",
    "ClassifierResult",
    "PRESETS",
    "CHALLENGE_THRESHOLD_MEV",
    "low_level_inputs",
    "high_level_inputs",
    "default_threshold_mev",
    "classifier_network",
    "classifier_test",
    "preset_inputs",
    "shower_classifier_test",
    "jsd_from_bce",
]


class ClassifierPreset(NamedTuple):
    """Hyperparameters of one classifier-test configuration (see the module docstring)."""

    name: str
    hidden: tuple[int, ...]
    dropout: float
    negative_slope: float
    epochs: int
    batch_size: int
    lr: float
    select: str  # "loss": lowest validation BCE; "accuracy": highest validation accuracy
    auc_on: str  # "raw" or "calibrated" network output
    low_level: str  # representation of low-level inputs, see low_level_inputs
    high_level: str  # representation of high-level inputs, see high_level_inputs
    standardize: bool  # inputs standardised with the training split's mean/std
    dtype: str  # torch dtype of the network and of its arithmetic: "float32" or "float64"
    split: str  # "fractions": 60/20/20 per class; "challenge": evaluate.py's counts where it has them


PRESETS = {
    "tutorial": ClassifierPreset(
        "tutorial", (256, 256), 0.2, 0.2, 20, 256, 1e-3, "loss", "raw", "log", "features", True, "float32", "fractions"
    ),
    "challenge": ClassifierPreset(
        "challenge",
        (2048, 2048, 2048),
        0.0,
        0.01,
        50,
        1000,
        2e-4,
        "accuracy",
        "calibrated",
        "fraction",
        "challenge",
        False,
        "float64",
        "challenge",
    ),
}


class ClassifierResult(NamedTuple):
    """Outcome of the classifier test on the test split.

    ``auc``: ROC AUC (of the raw or calibrated output, as the preset says; ``auc_raw`` is
    always the raw one); ``jsd``: JSD after isotonic calibration, clipped at 0 for display;
    ``bce``: calibrated binary cross-entropy [nats]; ``labels``/``scores``: test labels
    (1 = generated) and calibrated probabilities; ``n_train``/``n_test``: showers;
    ``jsd_raw``: the unclipped JSD estimate (may be slightly negative); ``auc_err``/
    ``jsd_err``: bootstrap standard errors over the test set; ``preset``: the preset's
    name, with ``+custom`` appended when a hyperparameter was overridden (only a plain
    ``challenge`` result is comparable with the challenge's published numbers);
    ``settings``: the hyperparameters used; ``n_val``: validation showers;
    ``best_epoch``: the epoch (1-based) whose weights were kept; ``raw_scores``: the
    network's uncalibrated test probabilities; ``history``: the validation BCE [nats] and
    accuracy of the raw output after each epoch (``val_bce``, ``val_accuracy``), the
    learning curve ``evaluate.py`` prints for its selection set.
    """

    auc: float
    jsd: float
    bce: float
    labels: np.ndarray
    scores: np.ndarray
    n_train: int
    n_test: int
    jsd_raw: float = float("nan")
    auc_err: float = float("nan")
    jsd_err: float = float("nan")
    preset: str = "tutorial"
    settings: dict | None = None
    n_val: int = 0
    best_epoch: int = 0
    auc_raw: float = float("nan")
    raw_scores: np.ndarray | None = None
    history: dict[str, list[float]] | None = None

    def summary(self) -> str:
        """One line: AUC and JSD with their bootstrap errors, the raw JSD and the preset."""
        return (
            f"AUC {self.auc:.3f} +- {self.auc_err:.3f}, JSD {self.jsd:.3f} +- {self.jsd_err:.3f} "
            f"(unclipped {self.jsd_raw:+.3f}) [{self.preset}, {self.n_test} test showers]"
        )


def jsd_from_bce(bce: float) -> float:
    """Jensen-Shannon divergence estimate from a calibrated classifier's BCE [nats]: (ln 2 - BCE) / ln 2."""
    return float((np.log(2.0) - bce) / np.log(2.0))


def _get_preset(preset: str | ClassifierPreset) -> ClassifierPreset:
    if isinstance(preset, ClassifierPreset):
        return preset
    if preset not in PRESETS:
        raise ParameterError(f"unknown classifier preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[preset]


def default_threshold_mev(geometry: str, preset: str | ClassifierPreset = "tutorial") -> float:
    """Voxel threshold [MeV] of a preset: ``challenge``: ``evaluate.py``'s on the challenge's datasets
    (1 MeV on dataset 1, 15.15 keV on datasets 2 and 3), 0 on calogan; ``tutorial``: 0."""
    if _get_preset(preset).name != "challenge":
        return 0.0
    return challenge_threshold_mev(geometry)


def _split_counts(n: int, split: tuple[int, int, int] | None) -> tuple[int, int]:
    """Ends of the training and validation parts of each class's ``n`` showers."""
    if split is None:
        return int(0.6 * n), int(0.8 * n)
    if len(split) != 3 or min(split) < 1 or sum(split) > n:
        raise ParameterError(
            f"split {tuple(split)} must be three positive counts (train, validation, test) per class adding up to "
            f"at most the {n} showers of the smaller sample; give fewer or None for 60/20/20"
        )
    return int(split[0]), int(split[0] + split[1])


def _gather(reference, generated, ref_idx, gen_idx, order) -> tuple[np.ndarray, np.ndarray]:
    """``concatenate([reference[ref_idx], generated[gen_idx]])[order]`` and its labels, without the
    intermediate copies (a dataset-2 low-level split is gigabytes)."""
    m = len(ref_idx)
    x = np.empty((len(order), reference.shape[1]), np.float32)
    is_gen = order >= m
    x[~is_gen] = reference[ref_idx[order[~is_gen]]]
    x[is_gen] = generated[gen_idx[order[is_gen] - m]]
    return x, is_gen.astype(np.float32)


def _split(reference, generated, rng: np.random.Generator, *, standardize: bool, split=None):
    """Equal-size classes split into train/validation/test (60/20/20 or ``split``), shuffled; standardised on train.

    Each class is shuffled and cut at the same counts, as ``evaluate.py``'s ``ttv_split``; the
    showers of a class beyond the three counts are not used.
    """
    n = min(len(reference), len(generated))
    a, b = _split_counts(n, split)
    c = n if split is None else b + int(split[2])
    ref_idx, gen_idx = rng.permutation(len(reference))[:n], rng.permutation(len(generated))[:n]
    out = [
        _gather(reference, generated, ref_idx[lo:hi], gen_idx[lo:hi], rng.permutation(2 * (hi - lo)))
        for lo, hi in ((0, a), (a, b), (b, c))
    ]
    if standardize:
        mean, std = out[0][0].mean(0), out[0][0].std(0) + 1e-6
        for x, _ in out:
            x -= mean
            x /= std
    return tuple(out)


def _logits(net: nn.Module, x: np.ndarray | torch.Tensor, batch: int = 20000) -> torch.Tensor:
    """The network's logits (N, 1) on ``x``, in chunks cast to the network's dtype and device."""
    param = next(net.parameters())
    x = torch.as_tensor(x)
    with torch.no_grad():
        return torch.cat([net(x[i : i + batch].to(param.device, param.dtype)) for i in range(0, len(x), batch)])


def _predict(net: nn.Module, x: np.ndarray, batch: int = 20000) -> np.ndarray:
    """The network's probabilities (N,) on ``x``, as float64."""
    return torch.sigmoid(_logits(net, x, batch)).cpu().double().numpy().ravel()


def classifier_network(
    n_inputs: int, *, hidden: tuple[int, ...] = (256, 256), dropout: float = 0.2, negative_slope: float = 0.2
) -> nn.Sequential:
    """The MLP: ``Linear -> LeakyReLU [-> Dropout]`` per hidden width, then ``Linear(., 1)`` (a logit).

    No dropout layers are added when ``dropout`` is 0. Weights are drawn from torch's
    current generator (wrap in ``torch_seed`` for reproducibility).
    """
    sizes = [int(n_inputs), *hidden]
    layers: list[nn.Module] = []
    for a, b in pairwise(sizes):
        layers += [nn.Linear(a, b), nn.LeakyReLU(negative_slope)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(sizes[-1], 1))


def _fit(train, val, cfg: ClassifierPreset, *, seed, progress, device="cpu") -> tuple[nn.Module, int, dict]:
    """Build and train the MLP in the preset's dtype; keep the weights of the best validation epoch."""
    # seeded initialisation and dropout: the whole fit draws from its own stream (torch's global
    # generator starts from a random seed in each process), and the caller's random state is left alone
    with torch_seed(seed):
        net = classifier_network(
            train[0].shape[1], hidden=cfg.hidden, dropout=cfg.dropout, negative_slope=cfg.negative_slope
        ).to(device=device, dtype=getattr(torch, cfg.dtype))
        return _train_mlp(
            net,
            train,
            val,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            seed=seed,
            progress=progress,
            select=cfg.select,
        )


def _train_mlp(
    net: nn.Module, train, val, *, epochs, batch_size, lr, seed, progress, select="loss"
) -> tuple[nn.Module, int, dict[str, list[float]]]:
    """Adam on BCE in shuffled batches; after each epoch score the validation set (``select``:
    ``loss``, the lowest BCE, or ``accuracy``, the highest accuracy, stopping at 1) and keep the
    best epoch's weights (the first of equal scores). Inputs stay float32 and are cast per batch.
    Returns the network, the kept epoch (1-based) and the validation BCE and accuracy per epoch."""
    opt, loss_fn = torch.optim.Adam(net.parameters(), lr=lr), nn.BCEWithLogitsLoss()
    param = next(net.parameters())
    dev, dtype = param.device, param.dtype
    xt, yt = torch.from_numpy(train[0]).to(dev), torch.from_numpy(train[1])[:, None].to(dev, dtype)
    yv = torch.from_numpy(val[1])[:, None].to(dev, dtype)
    gen = torch.Generator().manual_seed(seed)
    best_score, best_state, best_epoch = -np.inf, None, 0
    history: dict[str, list[float]] = {"val_bce": [], "val_accuracy": []}
    for epoch in tqdm(range(epochs), desc="classifier", disable=not progress, leave=False):
        net.train()
        for idx in torch.randperm(len(xt), generator=gen).to(dev).split(batch_size):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xt[idx].to(dtype)), yt[idx]).backward()
            opt.step()
        net.eval()
        logits = _logits(net, val[0])
        history["val_bce"].append(loss_fn(logits, yv).item())
        # evaluate.py's accuracy: the rounded sigmoid, i.e. logit > 0
        history["val_accuracy"].append(((logits > 0).to(dtype) == yv).double().mean().item())
        score = -history["val_bce"][-1] if select == "loss" else history["val_accuracy"][-1]
        if score > best_score:
            best_score, best_epoch = score, epoch + 1
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        if select == "accuracy" and score == 1.0:  # evaluate.py stops at a perfect validation accuracy
            break
    net.load_state_dict(best_state)
    return net.eval(), best_epoch, history


def _bootstrap(labels, raw, calibrated, auc_on_calibrated: bool, n_bootstrap: int, seed: int):
    """Standard deviations of AUC and unclipped JSD over bootstrap resamples of the test set."""
    if n_bootstrap < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng([seed, 7919])
    auc_score = calibrated if auc_on_calibrated else raw
    aucs, jsds = [], []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, len(labels), len(labels))
        y = labels[idx]
        if y.min() == y.max():
            continue
        aucs.append(roc_auc_score(y, auc_score[idx]))
        jsds.append(jsd_from_bce(log_loss(y, calibrated[idx], labels=[0, 1])))
    return float(np.std(aucs, ddof=1)), float(np.std(jsds, ddof=1))


def classifier_test(
    reference: np.ndarray,
    generated: np.ndarray,
    *,
    preset: str = "tutorial",
    hidden: tuple[int, ...] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    dropout: float | None = None,
    standardize: bool | None = None,
    split: tuple[int, int, int] | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    threads: int | None = 1,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> ClassifierResult:
    """Train a DNN to separate generated (label 1) from reference (label 0) inputs.

    Parameters
    ----------
    reference, generated : arrays (N_ref, d), (N_gen, d)
        Classifier inputs, e.g. from :func:`low_level_inputs` or :func:`high_level_inputs`
        (:func:`shower_classifier_test` builds them from showers as the preset says).
        The larger sample is subsampled so that both classes have the same size.
    preset
        ``tutorial`` (default) or ``challenge``, see :data:`PRESETS` and the module docstring.
    hidden, epochs, batch_size, lr, dropout
        Override the preset's hidden widths, passes over the training split, batch size,
        Adam learning rate and dropout; the result's ``preset`` then reads ``<name>+custom``.
    standardize
        Standardise the inputs with the training split's mean/std; ``None``: the preset's
        (``tutorial`` does, ``challenge`` does not). Like the options above, a value other
        than the preset's marks the result ``<name>+custom``.
    split
        Showers per class for training, validation (epoch selection and calibration) and
        test, e.g. ``evaluate.py``'s (60000, 20000, 20000) on dataset 2
        (:func:`shower_classifier_test` passes the challenge's); ``None``: 60/20/20 of the
        smaller sample.
    n_bootstrap
        Bootstrap resamples of the test set for ``auc_err``/``jsd_err`` (0: none, errors NaN).
    seed
        Seeds the split, the weights, the batches and the bootstrap.
    threads
        torch CPU threads while training (1 is fastest for the tutorial network on shared cores;
        ``None`` leaves torch's setting, best for the challenge network).
    device
        torch device of the network (``cuda`` makes the challenge preset fast); the split,
        batch order and calibration do not depend on it.

    Returns
    -------
    ClassifierResult
        AUC and JSD (isotonic-calibrated, clipped at 0; ``jsd_raw`` unclipped) with bootstrap
        errors on the test split; the network is trained on the training split and selected
        and calibrated on the validation split.
    """
    base = _get_preset(preset)
    overrides = {"hidden": hidden, "epochs": epochs, "batch_size": batch_size, "lr": lr, "dropout": dropout}
    overrides["standardize"] = None if standardize is None else bool(standardize)
    overrides = {k: (tuple(v) if k == "hidden" else v) for k, v in overrides.items() if v is not None}
    cfg = base._replace(**overrides)
    label = base.name if cfg == base else f"{base.name}+custom"
    reference, generated = np.asarray(reference, np.float32), np.asarray(generated, np.float32)
    if reference.ndim != 2 or generated.ndim != 2 or reference.shape[1] != generated.shape[1]:
        raise DataError(
            f"classifier inputs must be 2-d with the same width, got {reference.shape} and {generated.shape}"
        )
    if min(len(reference), len(generated)) < 50:
        raise DataError(
            f"classifier test needs at least 50 showers per sample, got {len(reference)} and {len(generated)}"
        )
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise ParameterError(
            f"epochs and batch_size must be >= 1, got epochs={cfg.epochs}, batch_size={cfg.batch_size}"
        )
    train, val, test = _split(
        reference, generated, np.random.default_rng(seed), standardize=cfg.standardize, split=split
    )
    with torch_threads(threads):
        net, best_epoch, history = _fit(train, val, cfg, seed=seed, progress=progress, device=device)
        raw_val, raw = _predict(net, val[0]), _predict(net, test[0])
    iso = IsotonicRegression(y_min=1e-6, y_max=1 - 1e-6, out_of_bounds="clip").fit(raw_val, val[1])
    calibrated = np.clip(iso.predict(raw), 1e-6, 1 - 1e-6)
    bce = float(log_loss(test[1], calibrated, labels=[0, 1]))
    jsd_raw = jsd_from_bce(bce)
    on_cal = cfg.auc_on == "calibrated"
    auc_raw = float(roc_auc_score(test[1], raw))
    auc = float(roc_auc_score(test[1], calibrated)) if on_cal else auc_raw
    auc_err, jsd_err = _bootstrap(test[1], raw, calibrated, on_cal, n_bootstrap, seed)
    settings = {**cfg._asdict(), "seed": seed, "device": str(device)}
    return ClassifierResult(
        auc,
        max(jsd_raw, 0.0),
        bce,
        test[1],
        calibrated,
        len(train[1]),
        len(test[1]),
        jsd_raw=jsd_raw,
        auc_err=auc_err,
        jsd_err=jsd_err,
        preset=label,
        settings=settings,
        n_val=len(val[1]),
        best_epoch=best_epoch,
        auc_raw=auc_raw,
        raw_scores=raw,
        history=history,
    )


def preset_inputs(
    showers: ShowerSet, *, level: str = "high", preset: str = "tutorial", threshold_mev: float | None = None
) -> np.ndarray:
    """The classifier inputs of ``showers`` as ``preset`` defines them: float32 array (N, n_inputs).

    ``level``: ``low`` (cells, :func:`low_level_inputs`) or ``high`` (features,
    :func:`high_level_inputs`), in the preset's representation; ``threshold_mev``: ``None`` takes
    :func:`default_threshold_mev`. Building each sample's inputs on its own lets a caller drop the
    showers before the classifier trains (a 100k-shower dataset-2 sample holds 2.6 GB of cells).
    """
    cfg = _get_preset(preset)
    if threshold_mev is None:
        threshold_mev = default_threshold_mev(showers.geometry, cfg)
    if level == "low":
        return low_level_inputs(showers, representation=cfg.low_level, threshold_mev=threshold_mev)
    if level == "high":
        return high_level_inputs(showers, representation=cfg.high_level, threshold_mev=threshold_mev)
    raise ParameterError(f"unknown classifier input level {level!r}; choose 'low' or 'high'")


def shower_classifier_test(
    reference: ShowerSet,
    generated: ShowerSet,
    *,
    level: str = "high",
    preset: str = "tutorial",
    threshold_mev: float | None = None,
    **kwargs,
) -> ClassifierResult:
    """The classifier test on showers, with the inputs, voxel threshold and split of ``preset``.

    ``level``: ``low`` (cells) or ``high`` (features), in the preset's representation
    (:func:`preset_inputs`; ``challenge``: ``evaluate.py``'s ``cls-low`` and ``cls-high``).
    ``threshold_mev``: cells below it [MeV] are set to 0 in both samples; ``None`` takes
    :func:`default_threshold_mev` (``challenge``: 15.15 keV on datasets 2 and 3, 1 MeV on
    dataset 1). The ``challenge`` preset splits ``evaluate.py``'s fixed counts where it has them
    (:func:`~hepml_nb.calo.classifier_inputs.challenge_split`: 60k/20k/20k showers per class of
    100k on datasets 2 and 3). Other keyword arguments go to :func:`classifier_test`; the
    level and the threshold are recorded in the result's ``settings``.
    """
    cfg = _get_preset(preset)
    if reference.geometry != generated.geometry:
        raise ParameterError(f"cannot compare showers of geometry {reference.geometry!r} with {generated.geometry!r}")
    if threshold_mev is None:
        threshold_mev = default_threshold_mev(reference.geometry, cfg)
    x_ref, x_gen = (
        preset_inputs(s, level=level, preset=preset, threshold_mev=threshold_mev) for s in (reference, generated)
    )
    if cfg.split == "challenge":
        kwargs.setdefault("split", challenge_split(reference.geometry, min(len(reference), len(generated))))
    res = classifier_test(x_ref, x_gen, preset=preset, **kwargs)
    res.settings.update(level=level, threshold_mev=float(threshold_mev))
    return res
