"""A conditional Wasserstein GAN with gradient penalty (WGAN-GP) for calorimeter showers.

The generator maps noise and the incident energy to every cell of the geometry.
Cell energies are modelled as fractions of the incident energy on a log scale,
``u = ln(1 + f / f0) / ln(1 + 1 / f0)`` with ``f = E_cell / E_inc``, so that a ReLU
output of exactly zero is an empty cell (sparsity) and small and large deposits get
comparable weight. The critic sees the cells, the condition and the energy fraction
per layer. Training follows Gulrajani et al. (arXiv:1704.00028) as used by CaloGAN
(arXiv:1705.02355) and ATLAS FastCaloGAN (arXiv:2109.02551).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.geometry import get_geometry
from hepml_nb.core.checkpoints import load_checkpoint, save_checkpoint
from hepml_nb.core.devices import resolve_device, torch_seed, torch_threads
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.history import TrainingHistory, TrainResult

__all__ = [
    "GanConfig",
    "to_model_space",
    "from_model_space",
    "EnergyRange",
    "TrainingConfig",
    "condition",
    "check_trained_range",
    "check_training_set",
    "build_generator",
    "generator_config",
    "build_critic",
    "gradient_penalty",
    "train_wgan_gp",
    "generate_showers",
    "save_generator",
    "load_generator",
    "load_pretrained",
    "PRETRAINED_DIR",
]

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
KIND = "calogan_generator"


@dataclass(frozen=True)
class GanConfig:
    """Architecture and preprocessing of the conditional GAN (stored with every checkpoint).

    ``geometry``: read-out geometry; ``z_dim``: noise dimension; ``hidden``: widths of the
    generator's hidden layers (the critic mirrors them); ``f0``: scale of the log
    transform of energy fractions; ``e_min``/``e_max``: energy range of the condition [GeV];
    ``energy_head``: the generator predicts the response E_tot/E_inc as one extra output and
    rescales the cells to it (a shape network plus an energy network, in the spirit of the
    energy constraints of CaloGAN), instead of leaving the total to the sum of 504 outputs.
    """

    geometry: str = "calogan"
    z_dim: int = 64
    hidden: tuple[int, ...] = (256, 512)
    f0: float = 1e-4
    e_min: float = 1.0
    e_max: float = 100.0
    energy_head: bool = True


def to_model_space(showers: ShowerSet, config: GanConfig) -> np.ndarray:
    """Cells [MeV] -> log-scaled energy fractions ``u`` in [0, ~1], shape (N, n_cells), float32."""
    frac = np.maximum(showers.cells, 0.0) / (1000.0 * showers.e_inc[:, None])
    return (np.log1p(frac / config.f0) / np.log1p(1.0 / config.f0)).astype(np.float32)


def _fractions(u: torch.Tensor, config: GanConfig) -> torch.Tensor:
    """Inverse log transform in torch (differentiable): energy fractions ``f``."""
    return config.f0 * torch.expm1(u * float(np.log1p(1.0 / config.f0)))


def from_model_space(u: np.ndarray, e_inc: np.ndarray, config: GanConfig) -> ShowerSet:
    """Log-scaled fractions ``u`` (N, n_cells) and energies (N,) [GeV] -> ShowerSet in MeV."""
    frac = config.f0 * np.expm1(np.asarray(u, dtype=np.float64) * np.log1p(1.0 / config.f0))
    cells = (frac * 1000.0 * np.asarray(e_inc)[:, None]).astype(np.float32)
    return ShowerSet(np.asarray(e_inc, dtype=float), cells, config.geometry)


class EnergyRange(Protocol):
    """What :func:`condition` and :func:`check_trained_range` read from a generator's config [GeV]."""

    @property
    def e_min(self) -> float: ...

    @property
    def e_max(self) -> float: ...


def condition(e_inc: np.ndarray, config: EnergyRange) -> np.ndarray:
    """Incident energy [GeV] -> condition in [-1, 1] (log scale over the trained range), shape (N, 1)."""
    lo, hi = np.log(config.e_min), np.log(config.e_max)
    return (2.0 * (np.log(np.asarray(e_inc, dtype=float)) - lo) / (hi - lo) - 1.0).astype(np.float32)[:, None]


def check_trained_range(e_inc: np.ndarray, config: EnergyRange, *, model: str, training: bool = False) -> None:
    """Raise a ParameterError when incident energies ``e_inc`` [GeV] leave ``[config.e_min, config.e_max]``.

    ``model`` names the model in the message; ``training``: the energies are about to train it (the
    fix is then a wider config), else they are asked of a trained model (the fix is other energies).
    """
    e_inc = np.asarray(e_inc, dtype=float).ravel()
    if not e_inc.size or (e_inc.min() >= config.e_min * 0.999 and e_inc.max() <= config.e_max * 1.001):
        return
    span, trained = f"[{e_inc.min():.3g}, {e_inc.max():.3g}] GeV", f"[{config.e_min}, {config.e_max}] GeV"
    if training:
        raise ParameterError(
            f"training energies span {span}, outside {model}'s {trained}; set e_min and e_max to cover them"
        )
    raise ParameterError(
        f"incident energies span {span} but {model} was trained on {trained}; ask for energies inside the trained range"
    )


class TrainingConfig(EnergyRange, Protocol):
    """What :func:`check_training_set` reads from a generator's config: its geometry and energy range."""

    @property
    def geometry(self) -> str: ...


def check_training_set(
    showers: ShowerSet, config: TrainingConfig, *, model: str, steps_name: str, steps: int, batch_size: int
) -> None:
    """Raise a ParameterError when ``showers`` cannot train a generator configured by ``config``.

    The checks every calorimeter generator makes before training: the showers are in the config's
    geometry, ``steps >= 1`` and ``2 <= batch_size <= len(showers)``, and the showers' incident
    energies lie in the config's range (:func:`check_trained_range`). ``model`` names the generator
    in the messages (``"GAN"``); ``steps_name`` the argument counting the training steps
    (``"n_iterations"``, ``"epochs"``).
    """
    kind = type(config).__name__
    if showers.geometry != config.geometry:
        raise ParameterError(
            f"showers are in geometry {showers.geometry!r} but the {model} is configured for "
            f"{config.geometry!r}; use {kind}(geometry={showers.geometry!r})"
        )
    if steps < 1 or batch_size < 2 or len(showers) < batch_size:
        raise ParameterError(
            f"need {steps_name} >= 1 and 2 <= batch_size <= number of showers; got "
            f"{steps_name}={steps}, batch_size={batch_size}, showers={len(showers)}"
        )
    check_trained_range(showers.e_inc, config, model=kind, training=True)


def _mlp(sizes: list[int], final: nn.Module | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    if final is not None:
        layers.append(final)
    return nn.Sequential(*layers)


class _Generator(nn.Module):
    """MLP to the cells (ReLU: exact zeros allowed); with ``energy_head`` the cells are rescaled so
    that their energy fractions add up to a separately predicted response ``1 + 0.3 tanh(h)``."""

    def __init__(self, config: GanConfig):
        super().__init__()
        n_cells = get_geometry(config.geometry).n_cells
        self.config, self.n_cells = config, n_cells
        self.net = _mlp([config.z_dim + 1, *config.hidden, n_cells + int(config.energy_head)], None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        u = torch.relu(out[:, : self.n_cells])
        if not self.config.energy_head:
            return u
        scale = float(np.log1p(1.0 / self.config.f0))
        f = _fractions(u, self.config)
        response = 1.0 + 0.3 * torch.tanh(out[:, self.n_cells :])
        f = f * response / (f.sum(1, keepdim=True) + 1e-8)
        return torch.log1p(f / self.config.f0) / scale


def build_generator(config: GanConfig) -> nn.Module:
    """Generator: (noise z_dim + condition 1) -> hidden -> n_cells (log-scaled fractions ``u``)."""
    return _Generator(config)


class _Critic(nn.Module):
    """Critic on (cells, condition, energy fraction per layer and in total)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        geo = get_geometry(config.geometry)
        self.config, self.offsets = config, [int(o) for o in geo.layer_offsets]
        self.net = _mlp([geo.n_cells + 1 + geo.n_layers + 1, *reversed(config.hidden), 1], None)

    def forward(self, u: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        f = _fractions(u, self.config)
        layers = torch.stack([f[:, a:b].sum(1) for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)], 1)
        return self.net(torch.cat([u, c, layers, 10.0 * (layers.sum(1, keepdim=True) - 1.0)], 1))


def build_critic(config: GanConfig) -> nn.Module:
    """Critic network mirroring the generator's hidden widths."""
    return _Critic(config)


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, c: torch.Tensor, gen: torch.Generator | None = None
) -> torch.Tensor:
    """WGAN-GP's penalty (Gulrajani et al., arXiv:1704.00028): the mean of ``(|grad_x D(x, c)| - 1)^2``
    over random mixtures ``x`` of each real shower with a fake one (a mixing weight per pair, from ``gen``).
    The critic loss adds it times ``lambda_gp``; it keeps the critic close to 1-Lipschitz."""
    eps = torch.rand(real.shape[0], 1, generator=gen, device=real.device)
    mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mix, c).sum(), mix, create_graph=True)
    return ((grad.norm(2, dim=1) - 1.0) ** 2).mean()


def train_wgan_gp(
    showers: ShowerSet,
    *,
    config: GanConfig = GanConfig(),
    n_iterations: int = 2000,
    batch_size: int = 256,
    n_critic: int = 5,
    lambda_gp: float = 10.0,
    lr: float = 1e-4,
    seed: int = 0,
    device: str | torch.device = "auto",
    validate_every: int = 0,
    validate: Callable[[nn.Module], dict] | None = None,
    threads: int | None = 1,
    progress: bool = True,
) -> TrainResult:
    """Train the conditional WGAN-GP on reference showers.

    Parameters
    ----------
    showers : ShowerSet
        Training sample (cells in MeV, energies in GeV) in ``config.geometry``.
    n_iterations, batch_size, n_critic, lambda_gp, lr
        Generator updates; showers per batch; critic updates per generator update;
        gradient-penalty weight; Adam learning rate (betas 0.5, 0.9).
    seed, device
        Seed of weights, noise and batches; ``auto``, ``cpu``, ``cuda`` or a :class:`torch.device`
        already resolved by :func:`~hepml_nb.core.devices.resolve_device` (used as it is).
    validate_every, validate
        Every ``validate_every`` iterations call ``validate(generator)`` (generator in
        eval mode on the CPU copy) and store its dict in the history.
    threads
        torch CPU threads during training (see :func:`torch_threads`); None keeps the setting.

    Returns
    -------
    hepml_nb.core.history.TrainResult
        ``model``: the generator (on the CPU, eval mode); ``history``: a TrainingHistory with
        records ``iteration``, ``critic_loss``, ``wasserstein``, ``gradient_penalty`` every 50
        iterations, plus records with the validation results; ``seconds``: wall time of the
        training (validation included); ``per_second``: training showers the critic saw per second
        (``n_iterations * n_critic * batch_size / seconds``).

    Raises
    ------
    ParameterError
        Showers in another geometry or outside the config's energy range, ``n_iterations < 1``, or
        ``batch_size`` not between 2 and the number of showers (:func:`check_training_set`).
    """
    check_training_set(
        showers, config, model="GAN", steps_name="n_iterations", steps=n_iterations, batch_size=batch_size
    )
    with torch_threads(threads):
        return _train(
            showers,
            config,
            n_iterations=n_iterations,
            batch_size=batch_size,
            n_critic=n_critic,
            lambda_gp=lambda_gp,
            lr=lr,
            seed=seed,
            device=device,
            validate_every=validate_every,
            validate=validate,
            progress=progress,
        )


def _train(
    showers: ShowerSet,
    config: GanConfig,
    *,
    n_iterations,
    batch_size,
    n_critic,
    lambda_gp,
    lr,
    seed,
    device,
    validate_every,
    validate,
    progress,
) -> TrainResult:
    """The training loop of :func:`train_wgan_gp` (arguments checked there)."""
    start = time.perf_counter()
    dev = resolve_device(device)
    with torch_seed(seed):  # seeded initialisation, the caller's random state left alone
        gen_net, critic = build_generator(config).to(dev), build_critic(config).to(dev)
    data = torch.from_numpy(to_model_space(showers, config)).to(dev)
    cond = torch.from_numpy(condition(showers.e_inc, config)).to(dev)
    tg = torch.Generator(device=dev).manual_seed(seed)
    opt_g = torch.optim.Adam(gen_net.parameters(), lr=lr, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9))
    history = TrainingHistory("iteration")
    for it in tqdm(range(1, n_iterations + 1), desc="WGAN-GP", disable=not progress):
        for _ in range(n_critic):
            idx = torch.randint(0, data.shape[0], (batch_size,), generator=tg, device=dev)
            real, c = data[idx], cond[idx]
            with torch.no_grad():
                fake = gen_net(torch.cat([torch.randn(batch_size, config.z_dim, generator=tg, device=dev), c], 1))
            w_dist = critic(real, c).mean() - critic(fake, c).mean()
            gp = gradient_penalty(critic, real, fake, c, tg)
            loss_c = -w_dist + lambda_gp * gp
            opt_c.zero_grad(set_to_none=True)
            loss_c.backward()
            opt_c.step()
        c = cond[torch.randint(0, data.shape[0], (batch_size,), generator=tg, device=dev)]
        fake = gen_net(torch.cat([torch.randn(batch_size, config.z_dim, generator=tg, device=dev), c], 1))
        loss_g = -critic(fake, c).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if it % 50 == 0 or it == n_iterations:
            history.log(it, critic_loss=loss_c.item(), wasserstein=w_dist.item(), gradient_penalty=gp.item())
        if validate is not None and validate_every and (it % validate_every == 0 or it == n_iterations):
            history.log(it, **validate(gen_net.cpu().eval()))
            gen_net.to(dev).train()
    seconds = time.perf_counter() - start
    return TrainResult(
        gen_net.cpu().eval(), history, seconds=seconds, per_second=n_iterations * n_critic * batch_size / seconds
    )


def generator_config(generator: nn.Module) -> GanConfig:
    """The :class:`GanConfig` a generator was built with (:func:`build_generator` stores it on the model)."""
    config = getattr(generator, "config", None)
    if not isinstance(config, GanConfig):
        raise ParameterError(
            f"{type(generator).__name__} carries no GanConfig; make generators with build_generator, "
            "train_wgan_gp, load_generator or load_pretrained"
        )
    return config


def generate_showers(
    generator: nn.Module,
    e_inc: np.ndarray,
    *,
    seed: int = 0,
    batch_size: int = 10000,
    device: str | torch.device = "cpu",
) -> ShowerSet:
    """Generate one shower per incident energy ``e_inc`` (N,) [GeV]; returns a ShowerSet in MeV.

    The generator's :class:`GanConfig` (its geometry, energy range and preprocessing) comes with it
    (:func:`generator_config`). The same ``seed`` gives the same showers whatever ``batch_size``
    and ``device`` (up to floating-point rounding on a GPU).
    """
    config = generator_config(generator)
    e_inc = np.asarray(e_inc, dtype=float).ravel()
    check_trained_range(e_inc, config, model="the GAN")
    dev = resolve_device(device)
    net = generator.to(dev).eval()
    # all noise drawn up front on the CPU: the showers do not depend on batch size or device
    noise = torch.randn(e_inc.size, config.z_dim, generator=torch.Generator().manual_seed(seed))
    inputs = torch.cat([noise, torch.from_numpy(condition(e_inc, config))], 1)
    out = []
    with torch.no_grad():
        for start in range(0, e_inc.size, batch_size):
            out.append(net(inputs[start : start + batch_size].to(dev)).cpu().numpy())
    u = np.concatenate(out) if out else np.zeros((0, get_geometry(config.geometry).n_cells), np.float32)
    return from_model_space(u, e_inc, config)


def save_generator(generator: nn.Module, path: str | Path, *, recipe: dict | None = None) -> Path:
    """Write the generator's weights and config to ``path`` (.pt) and its recipe card (.json).

    See :func:`hepml_nb.core.checkpoints.save_checkpoint`; ``recipe`` is best made with
    :func:`hepml_nb.core.checkpoints.recipe_card` (command, parameters, metrics, versions).
    """
    config = asdict(generator_config(generator))
    return save_checkpoint(path, generator.state_dict(), kind=KIND, config=config, card=recipe or {})


def load_generator(path: str | Path) -> tuple[nn.Module, dict]:
    """Read a generator written by :func:`save_generator`: (generator in eval mode, recipe card).

    Its :class:`GanConfig` is on the model (:func:`generator_config`).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"generator checkpoint {path} not found; train one with train_wgan_gp and "
            "save_generator, or use load_pretrained()"
        )
    try:
        ckpt = load_checkpoint(path, kind=KIND)
    except DataError as exc:
        raise DataError(f"{path} is not a generator checkpoint of hepml_nb.calo: {exc}") from exc
    config = GanConfig(**{**ckpt.config, "hidden": tuple(ckpt.config["hidden"])})
    return ckpt.load_into(build_generator(config)), ckpt.card


def load_pretrained(name: str = "calogan_generator") -> tuple[nn.Module, dict]:
    """The generator shipped with the package: (generator in eval mode, recipe card), like every topic's
    ``load_pretrained``; its :class:`GanConfig` is on the model (:func:`generator_config`)."""
    # the folder also holds the flow's checkpoint: list the generators by the kind in their cards
    cards = {p.stem: p.with_suffix(".json") for p in PRETRAINED_DIR.glob("*.pt")}
    available = sorted(n for n, c in cards.items() if c.is_file() and json.loads(c.read_text()).get("kind") == KIND)
    if name not in available:
        raise DataError(
            f"no pretrained generator {name!r}; available: {', '.join(available) or 'none'} "
            "(make one with scripts/train_calogan_checkpoint.py)"
        )
    return load_generator(PRETRAINED_DIR / f"{name}.pt")
