"""The classifier test of the Fast Calorimeter Simulation Challenge (arXiv:2410.21611, sec. 4.2).

A neural network is trained to tell generated from reference showers. On a held-out
test set we quote its AUC (0.5: indistinguishable) and, after calibrating its output
with isotonic regression fitted on a validation set, the Jensen-Shannon divergence
estimate ``JSD = (ln 2 - BCE) / ln 2`` (0: indistinguishable, 1: perfectly separated),
where BCE is the binary cross-entropy of the calibrated probabilities (nats).

Two presets (:data:`PRESETS`):

``tutorial`` (default, fast on a laptop CPU)
    2 x 256 LeakyReLU(0.2) with dropout 0.2, Adam lr 1e-3, batch 256, 20 epochs, inputs
    standardised with the training split's mean/std; low-level inputs are log-scaled
    energy fractions ``ln(1 + (E_cell/E_inc)/1e-4)``; the weights of the epoch with the
    lowest validation loss are kept; the AUC is that of the raw network output.
``challenge`` (the challenge's ``evaluate.py``, as used for its published AUCs)
    3 x 2048 LeakyReLU (slope 0.01), no dropout, Adam lr 2e-4, batch 1000, 50 epochs;
    low-level inputs ``E_cell/E_inc`` and ``log10(E_inc/MeV)``, not standardised; the
    weights of the epoch with the highest validation *accuracy* are kept (training stops
    early at a validation accuracy of 1), as ``evaluate.py`` does; the AUC is that of the
    calibrated output; cells below 15.15 keV are set to 0 on cylindrical (dataset 2/3-like)
    geometries (:func:`default_threshold_mev`). Our high-level feature set differs from
    the challenge's (its E_layer, centres and widths in eta/phi, log- or 1/100-scaled), so
    high-level inputs are standardised with the training split's mean/std instead.

Both presets split each class 60/20/20 into train / validation (model selection and
isotonic calibration) / test. A bootstrap over the test set (calibrator and network
fixed) gives the standard errors ``auc_err`` and ``jsd_err``.

The JSD is >= 0 by definition, but its estimator ``1 - BCE/ln 2`` fluctuates below 0
when the classifier cannot separate the samples (the calibrated BCE on the test set can
exceed ln 2 by chance). :attr:`ClassifierResult.jsd` is therefore clipped at 0 for
display; the unclipped estimate is :attr:`ClassifierResult.jsd_raw`.
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
    "shower_classifier_test",
    "jsd_from_bce",
]

#: Voxel threshold of the challenge's evaluation for datasets 2 and 3 [MeV] (15.15 keV).
CHALLENGE_THRESHOLD_MEV = 0.01515


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


PRESETS = {
    "tutorial": ClassifierPreset("tutorial", (256, 256), 0.2, 0.2, 20, 256, 1e-3, "loss", "raw", "log"),
    "challenge": ClassifierPreset(
        "challenge", (2048, 2048, 2048), 0.0, 0.01, 50, 1000, 2e-4, "accuracy", "calibrated", "fraction"
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
    network's uncalibrated test probabilities.
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
    """Voxel threshold [MeV] of a preset: 15.15 keV for ``challenge`` on cylindrical geometries, else 0."""
    if _get_preset(preset).name != "challenge":
        return 0.0
    from hepml_nb.calo.geometry import get_geometry

    return CHALLENGE_THRESHOLD_MEV if get_geometry(geometry).kind == "cylindrical" else 0.0


def _thresholded(showers: ShowerSet, threshold_mev: float) -> ShowerSet:
    if threshold_mev < 0:
        raise ParameterError(f"threshold_mev must be >= 0, got {threshold_mev}")
    cells = np.maximum(showers.cells, 0.0)
    if threshold_mev > 0:
        cells = np.where(cells < threshold_mev, 0.0, cells).astype(showers.cells.dtype)
    return ShowerSet(showers.e_inc, cells, showers.geometry)


def low_level_inputs(
    showers: ShowerSet, *, f0: float = 1e-4, representation: str = "log", threshold_mev: float = 0.0
) -> np.ndarray:
    """Every cell and the incident energy as classifier inputs: shape (N, n_cells + 1).

    ``representation="log"`` (tutorial): per cell ``ln(1 + (E_cell/E_inc)/f0)``, then
    ``log10(E_inc/GeV)``. ``"fraction"`` (challenge): per cell ``E_cell/E_inc``, then
    ``log10(E_inc/MeV)``. Cells below ``threshold_mev`` [MeV] are set to 0 first.
    """
    showers = _thresholded(showers, threshold_mev)
    frac = showers.cells / (1000.0 * showers.e_inc[:, None])
    if representation == "log":
        return np.column_stack([np.log1p(frac / f0), np.log10(showers.e_inc)]).astype(np.float32)
    if representation == "fraction":
        return np.column_stack([frac, np.log10(1000.0 * showers.e_inc)]).astype(np.float32)
    raise ParameterError(f"unknown low-level representation {representation!r}; choose 'log' or 'fraction'")


def high_level_inputs(showers: ShowerSet, *, threshold_mev: float = 0.0) -> np.ndarray:
    """High-level features (``shower_features``) and ``log10(E_inc/GeV)``: shape (N, n_features + 1).

    Cells below ``threshold_mev`` [MeV] are set to 0 before the features are computed.
    """
    showers = _thresholded(showers, threshold_mev) if threshold_mev > 0 else showers
    matrix, _ = feature_matrix(shower_features(showers))
    return np.column_stack([matrix, np.log10(showers.e_inc)]).astype(np.float32)


def _split(reference: np.ndarray, generated: np.ndarray, rng: np.random.Generator, *, standardize: bool = True):
    """Equal-size classes, each split 60/20/20 into train/validation/test, shuffled; standardised on train."""
    n = min(len(reference), len(generated))
    a, b = int(0.6 * n), int(0.8 * n)
    ref, gen = reference[rng.permutation(len(reference))[:n]], generated[rng.permutation(len(generated))[:n]]
    out = []
    for lo, hi in ((0, a), (a, b), (b, n)):
        x = np.concatenate([ref[lo:hi], gen[lo:hi]])
        y = np.concatenate([np.zeros(hi - lo), np.ones(hi - lo)]).astype(np.float32)
        order = rng.permutation(len(y))
        out.append([x[order], y[order]])
    if standardize:
        mean, std = out[0][0].mean(0), out[0][0].std(0) + 1e-6
        for part in out:
            part[0] = (part[0] - mean) / std
    return tuple((np.ascontiguousarray(x, dtype=np.float32), y) for x, y in out)


def _predict(net: nn.Module, x: np.ndarray, batch: int = 20000) -> np.ndarray:
    dev = next(net.parameters()).device
    with torch.no_grad():
        return np.concatenate(
            [
                torch.sigmoid(net(torch.from_numpy(x[i : i + batch]).to(dev))).cpu().numpy().ravel()
                for i in range(0, len(x), batch)
            ]
        )


def classifier_network(
    n_inputs: int, *, hidden: tuple[int, ...] = (256, 256), dropout: float = 0.2, negative_slope: float = 0.2
) -> nn.Sequential:
    """The MLP: ``Linear -> LeakyReLU [-> Dropout]`` per hidden width, then ``Linear(., 1)`` (a logit).

    No dropout layers are added when ``dropout`` is 0. Weights are drawn from torch's
    current generator (wrap in ``torch_seed`` for reproducibility).
    """
    sizes = [int(n_inputs), *hidden]
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.LeakyReLU(negative_slope)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(sizes[-1], 1))


def _fit(train, val, cfg: ClassifierPreset, *, seed, progress, device="cpu") -> tuple[nn.Module, int]:
    """Build and train the MLP; keep the weights of the best validation epoch."""
    # seeded initialisation and dropout: the whole fit draws from its own stream (torch's global
    # generator starts from a random seed in each process), and the caller's random state is left alone
    with torch_seed(seed):
        net = classifier_network(
            train[0].shape[1], hidden=cfg.hidden, dropout=cfg.dropout, negative_slope=cfg.negative_slope
        ).to(device)
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
) -> tuple[nn.Module, int]:
    opt, loss_fn = torch.optim.Adam(net.parameters(), lr=lr), nn.BCEWithLogitsLoss()
    dev = next(net.parameters()).device
    xt, yt = torch.from_numpy(train[0]).to(dev), torch.from_numpy(train[1])[:, None].to(dev)
    xv, yv = torch.from_numpy(val[0]).to(dev), torch.from_numpy(val[1])[:, None].to(dev)
    gen = torch.Generator().manual_seed(seed)
    best_score, best_state, best_epoch = -np.inf, None, 0
    for epoch in tqdm(range(epochs), desc="classifier", disable=not progress, leave=False):
        net.train()
        for idx in torch.randperm(len(xt), generator=gen).to(dev).split(batch_size):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            logits = net(xv)
            score = (
                -loss_fn(logits, yv).item() if select == "loss" else ((logits > 0).float() == yv).float().mean().item()
            )
        if score > best_score:
            best_score, best_epoch = score, epoch + 1
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        if select == "accuracy" and score == 1.0:  # evaluate.py stops at a perfect validation accuracy
            break
    net.load_state_dict(best_state)
    return net.eval(), best_epoch


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
    standardize: bool = True,
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
        Standardise the inputs with the training split's mean/std (the challenge does not
        for its low-level inputs; :func:`shower_classifier_test` sets this).
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
        errors on the 20 % test split; the network is trained on 60 % and selected and
        calibrated on the 20 % validation split.
    """
    base = _get_preset(preset)
    overrides = {"hidden": hidden, "epochs": epochs, "batch_size": batch_size, "lr": lr, "dropout": dropout}
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
    train, val, test = _split(reference, generated, np.random.default_rng(seed), standardize=standardize)
    with torch_threads(threads):
        net, best_epoch = _fit(train, val, cfg, seed=seed, progress=progress, device=device)
        raw_val, raw = _predict(net, val[0]), _predict(net, test[0])
    iso = IsotonicRegression(y_min=1e-6, y_max=1 - 1e-6, out_of_bounds="clip").fit(raw_val, val[1])
    calibrated = np.clip(iso.predict(raw), 1e-6, 1 - 1e-6)
    bce = float(log_loss(test[1], calibrated, labels=[0, 1]))
    jsd_raw = jsd_from_bce(bce)
    on_cal = cfg.auc_on == "calibrated"
    auc_raw = float(roc_auc_score(test[1], raw))
    auc = float(roc_auc_score(test[1], calibrated)) if on_cal else auc_raw
    auc_err, jsd_err = _bootstrap(test[1], raw, calibrated, on_cal, n_bootstrap, seed)
    settings = {**cfg._asdict(), "standardize": bool(standardize), "seed": seed, "device": str(device)}
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
    )


def shower_classifier_test(
    reference: ShowerSet,
    generated: ShowerSet,
    *,
    level: str = "high",
    preset: str = "tutorial",
    threshold_mev: float | None = None,
    **kwargs,
) -> ClassifierResult:
    """The classifier test on showers, with the inputs and voxel threshold of ``preset``.

    ``level``: ``low`` (cells) or ``high`` (features). ``threshold_mev``: cells below it
    [MeV] are set to 0 in both samples; ``None`` takes :func:`default_threshold_mev`
    (15.15 keV for ``challenge`` on cylindrical geometries). Other keyword arguments go to
    :func:`classifier_test`; the threshold is recorded in the result's ``settings``.
    """
    cfg = _get_preset(preset)
    if reference.geometry != generated.geometry:
        raise ParameterError(f"cannot compare showers of geometry {reference.geometry!r} with {generated.geometry!r}")
    if threshold_mev is None:
        threshold_mev = default_threshold_mev(reference.geometry, cfg)
    if level == "low":
        make = lambda s: low_level_inputs(s, representation=cfg.low_level, threshold_mev=threshold_mev)  # noqa: E731
        kwargs.setdefault("standardize", cfg.low_level != "fraction")
    elif level == "high":
        make = lambda s: high_level_inputs(s, threshold_mev=threshold_mev)  # noqa: E731
    else:
        raise ParameterError(f"unknown classifier input level {level!r}; choose 'low' or 'high'")
    res = classifier_test(make(reference), make(generated), preset=preset, **kwargs)
    res.settings.update(level=level, threshold_mev=float(threshold_mev))
    return res
