"""A conditional normalizing flow for calorimeter showers, after CaloFlow.

CaloFlow (Krause & Shih, arXiv:2106.05285 and 2110.11377) splits a shower into two densities,
each learned by a normalizing flow and sampled exactly, with no adversary:

* **flow I** (energies): the energy fraction deposited in each layer, ``F_l = E_l / E_inc``, given
  the incident energy: ``p(ln F_1 .. ln F_L | E_inc)``; here a neural spline flow
  (rational-quadratic splines, Durkan et al., arXiv:1906.04032, autoregressive over the few layers);
* **flow II** (shape): the share of each cell in its layer's energy, ``s_i = E_i / E_layer``, as
  ``logit(s_i)``, given the layer energies and ``E_inc``; here affine coupling transforms (RealNVP,
  Dinh et al., arXiv:1605.08803) with alternating random masks, which sample all cells in one pass
  (CaloFlow's autoregressive "teacher" is exact but samples cell by cell; its distilled "student" is
  what makes it fast).

Empty cells are dequantised as in CaloFlow: uniform noise of at most ``noise`` (a fraction of the
incident energy, well below a real cell's smallest deposit) is added to every cell before the
transforms, and generated cells below ``threshold`` (30 times the noise) are set to zero. The flows are zuko's
(https://github.com/probabilists/zuko).
"""

from __future__ import annotations

import gc
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.gan import check_trained_range, check_training_set, condition
from hepml_nb.calo.geometry import get_geometry
from hepml_nb.core.checkpoints import load_checkpoint, save_checkpoint
from hepml_nb.core.devices import resolve_device, torch_seed, torch_threads
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.history import TrainingHistory, TrainResult

__all__ = [
    "FlowConfig",
    "ShowerFlow",
    "build_flow",
    "train_flow",
    "generate_showers",
    "save_flow",
    "load_flow",
    "load_pretrained",
]

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
KIND = "calo_flow"
_ALPHA = 1e-6  # logit(alpha + (1 - 2 alpha) s): shares of exactly 0 or 1 stay finite


@dataclass(frozen=True)
class FlowConfig:
    """Architecture and preprocessing of the shower flow (stored with every checkpoint).

    ``geometry``: read-out geometry; ``e_min``/``e_max``: energy range of the condition [GeV];
    ``energy_transforms``, ``energy_hidden``: spline transforms and MLP width of flow I;
    ``shape_transforms``, ``shape_hidden``: coupling transforms and MLP width of flow II;
    ``noise``: dequantisation noise, ``threshold``: generated cells below it are set to zero,
    both as fractions of the incident energy. The threshold lies between the noise and the smallest
    GFlash deposit (about 1.1e-4 of E_inc); 3e-5 gave the closest sparsity on held-out GFlash showers
    (seed 2025, not the notebook's) among 1e-5, 3e-5, 1e-4 and 1.2e-4. A file with smaller real
    deposits needs smaller values.
    """

    geometry: str = "calogan"
    e_min: float = 1.0
    e_max: float = 100.0
    energy_transforms: int = 4
    energy_hidden: int = 64
    shape_transforms: int = 6
    shape_hidden: int = 128
    noise: float = 1e-6
    threshold: float = 3e-5


class ShowerFlow(nn.Module):
    """Flow I (layer energies) and flow II (cell shares), with the standardisation of their inputs."""

    def __init__(self, config: FlowConfig):
        import zuko

        super().__init__()
        geo = get_geometry(config.geometry)
        # flow I models the layers that hold cells (dataset 1 has layers without any: no energy to model)
        self.config, n_layers, n_cells = config, len(geo.relevant_layers), geo.n_cells
        cell_layer = np.searchsorted(geo.relevant_layers, geo.cell_layer())  # index among those layers
        self.register_buffer("cell_layer", torch.as_tensor(cell_layer, dtype=torch.long))
        self.energy = zuko.flows.NSF(
            n_layers,
            context=1,
            transforms=config.energy_transforms,
            hidden_features=(config.energy_hidden,) * 2,
        )
        with torch.random.fork_rng(devices=[]):  # the masks come from the caller's seeded stream
            self.shape = zuko.flows.RealNVP(
                n_cells,
                context=n_layers + 1,
                transforms=config.shape_transforms,
                randmask=True,
                hidden_features=(config.shape_hidden,) * 2,
            )
        for name, size in (("energy_mean", n_layers), ("energy_std", n_layers), ("shape_mean", n_cells)):
            self.register_buffer(name, torch.zeros(size) if "mean" in name else torch.ones(size))
        self.register_buffer("shape_std", torch.ones(n_cells))

    # -- preprocessing ---------------------------------------------------------------------------
    def encode(self, fractions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dequantised cell fractions (N, n_cells) -> raw ``(ln F_layer, logit s)`` (not standardised),
        ``F_layer`` of shape (N, n_layers) over the layers with cells."""
        n_layers = self.energy_mean.numel()
        layer = torch.zeros(fractions.shape[0], n_layers, dtype=fractions.dtype, device=fractions.device)
        layer.index_add_(1, self.cell_layer, fractions)
        share = fractions / layer[:, self.cell_layer]
        return torch.log(layer), torch.logit(_ALPHA + (1 - 2 * _ALPHA) * share)

    def decode(self, log_layer: torch.Tensor, logit_share: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`encode` (shares renormalised per layer; cells below ``threshold`` set to 0)."""
        share = ((torch.sigmoid(logit_share) - _ALPHA) / (1 - 2 * _ALPHA)).clamp_min(0.0)
        total = torch.zeros_like(log_layer).index_add_(1, self.cell_layer, share)
        fractions = share / total.clamp_min(1e-30)[:, self.cell_layer] * torch.exp(log_layer)[:, self.cell_layer]
        return torch.where(fractions < self.config.threshold, torch.zeros_like(fractions), fractions)

    def log_prob(self, fractions: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log densities of flow I and flow II (standardised spaces) of dequantised fractions."""
        log_layer, logit_share = self.encode(fractions)
        y = (log_layer - self.energy_mean) / self.energy_std
        z = (logit_share - self.shape_mean) / self.shape_std
        return self.energy(cond).log_prob(y), self.shape(torch.cat([y, cond], 1)).log_prob(z)

    def sample(self, cond: torch.Tensor, noise_energy: torch.Tensor, noise_shape: torch.Tensor) -> torch.Tensor:
        """Cell fractions (N, n_cells) for the conditions ``cond`` (N, 1) from standard-normal base
        draws ``noise_energy`` (N, n_layers with cells) and ``noise_shape`` (N, n_cells)."""
        y = self.energy(cond).transform.inv(noise_energy)
        z = self.shape(torch.cat([y, cond], 1)).transform.inv(noise_shape)
        return self.decode(y * self.energy_std + self.energy_mean, z * self.shape_std + self.shape_mean)


def build_flow(config: FlowConfig) -> ShowerFlow:
    """A new (untrained) :class:`ShowerFlow`."""
    return ShowerFlow(config)


def _fractions(showers: ShowerSet, config: FlowConfig, rng: np.random.Generator) -> np.ndarray:
    frac = np.maximum(showers.cells, 0.0) / (1000.0 * showers.e_inc[:, None])
    return (frac + rng.uniform(0.0, config.noise, frac.shape)).astype(np.float32)


def _check_split(n: int, val_fraction: float, batch_size: int) -> int:
    """Showers held out for validation; raise a ParameterError when the rest cannot fill one batch."""
    n_val = max(1, int(val_fraction * n))
    if n - n_val < batch_size:
        raise ParameterError(
            f"holding out {n_val} of {n} showers for validation (val_fraction={val_fraction}) leaves "
            f"{n - n_val} to train on, fewer than batch_size={batch_size}; pass more showers, a smaller "
            "batch_size or a smaller val_fraction"
        )
    return n_val


def train_flow(
    showers: ShowerSet,
    *,
    config: FlowConfig = FlowConfig(),
    epochs: int = 30,
    batch_size: int = 256,
    lr: float = 3e-4,
    clip: float = 10.0,
    val_fraction: float = 0.1,
    seed: int = 0,
    device: str | torch.device = "auto",
    threads: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Fit both flows by maximum likelihood (Adam, cosine-annealed ``lr``, gradient norm clipped at
    ``clip``); keeps the best validation epoch.

    The inputs are standardised with the training showers' mean and spread (stored in the model).

    Returns
    -------
    hepml_nb.core.history.TrainResult
        ``model`` (CPU, eval mode, the best epoch's weights), ``history`` (``epoch``, ``train_nll``,
        ``val_nll``), ``seconds`` (wall time), ``best_epoch`` (0-based index into the history) and
        ``per_second`` (training showers per second).

    Raises
    ------
    ParameterError
        Showers in another geometry or outside the config's energy range, ``epochs < 1``, ``batch_size``
        not between 2 and the number of showers (:func:`~hepml_nb.calo.gan.check_training_set`), or too
        few showers left after the validation split to fill one batch.
    DataError
        No epoch gave a finite validation loss.
    """
    check_training_set(showers, config, model="flow", steps_name="epochs", steps=epochs, batch_size=batch_size)
    n_val = _check_split(len(showers), val_fraction, batch_size)
    start = time.perf_counter()
    dev = resolve_device(device)
    rng = np.random.default_rng(seed)
    frac = torch.from_numpy(_fractions(showers, config, rng))
    cond = torch.from_numpy(condition(showers.e_inc, config))
    order = rng.permutation(len(showers))
    val, train = order[:n_val], order[n_val:]
    with torch_threads(threads), torch_seed(seed):
        model = build_flow(config)
        y, z = model.encode(frac[train])
        model.energy_mean.copy_(y.mean(0))
        model.energy_std.copy_(y.std(0).clamp_min(1e-3))
        model.shape_mean.copy_(z.mean(0))
        model.shape_std.copy_(z.std(0).clamp_min(1e-3))
        model.to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        batches = len(train) // batch_size
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * batches)
        history = TrainingHistory("epoch")
        best, best_state, best_epoch = np.inf, None, -1
        for epoch in tqdm(range(1, epochs + 1), desc="flow", disable=not progress):
            model.train()
            perm = train[rng.permutation(len(train))]
            total = 0.0
            for first in range(0, len(perm) - batch_size + 1, batch_size):
                idx = perm[first : first + batch_size]
                lp_e, lp_s = model.log_prob(frac[idx].to(dev), cond[idx].to(dev))
                loss = -(lp_e + lp_s).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
                sched.step()
                total += loss.item() * len(idx)
            model.eval()
            with torch.no_grad():
                lp_e, lp_s = model.log_prob(frac[val].to(dev), cond[val].to(dev))
                val_nll = -(lp_e + lp_s).mean().item()
            history.log(epoch, train_nll=total / (batches * batch_size), val_nll=val_nll)
            if val_nll < best:
                best, best_epoch = val_nll, epoch - 1
                best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        if best_state is None:
            raise DataError(
                f"the flow's validation loss was not finite in any of {epochs} epochs (last {val_nll}); check the "
                "training showers for empty layers or extreme values, or lower lr"
            )
        model.load_state_dict(best_state)
    seconds = time.perf_counter() - start
    return TrainResult(
        model.cpu().eval(),
        history,
        seconds=seconds,
        best_epoch=best_epoch,
        per_second=epochs * batches * batch_size / seconds,
    )


def generate_showers(
    flow: ShowerFlow, e_inc: np.ndarray, *, seed: int = 0, batch_size: int = 10000, device: str | torch.device = "cpu"
) -> ShowerSet:
    """One shower per incident energy ``e_inc`` (N,) [GeV], as a ShowerSet in MeV.

    The base draws are made up front on the CPU from ``seed``: the same showers whatever
    ``batch_size`` and ``device`` (up to floating-point rounding on a GPU).
    """
    config = flow.config
    e_inc = np.asarray(e_inc, dtype=float).ravel()
    check_trained_range(e_inc, config, model="the flow")
    dev = resolve_device(device)
    net = flow.to(dev).eval()
    cond = torch.from_numpy(condition(e_inc, config))
    geo = get_geometry(config.geometry)
    gen = torch.Generator().manual_seed(seed)
    noise_energy = torch.randn(e_inc.size, flow.energy_mean.numel(), generator=gen)
    noise_shape = torch.randn(e_inc.size, geo.n_cells, generator=gen)
    out = []
    with torch.no_grad():
        for start in range(0, e_inc.size, batch_size):
            sl = slice(start, start + batch_size)
            out.append(net.sample(cond[sl].to(dev), noise_energy[sl].to(dev), noise_shape[sl].to(dev)).cpu().numpy())
            gc.collect(1)  # zuko's transforms hold the batch's tensors in reference cycles: free them now
    n_cells = geo.n_cells
    frac = np.concatenate(out) if out else np.zeros((0, n_cells), np.float32)
    cells = (frac.astype(np.float64) * 1000.0 * e_inc[:, None]).astype(np.float32)
    return ShowerSet(e_inc, cells, config.geometry)


def save_flow(flow: ShowerFlow, path: str | Path, *, recipe: dict | None = None) -> Path:
    """Write the flow's weights and config to ``path`` (.pt) and its recipe card (.json)."""
    return save_checkpoint(path, flow.state_dict(), kind=KIND, config=asdict(flow.config), card=recipe or {})


def load_flow(path: str | Path) -> tuple[ShowerFlow, dict]:
    """Read a flow written by :func:`save_flow`: (flow in eval mode, recipe card)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"flow checkpoint {path} not found; train one with train_flow and save_flow")
    ckpt = load_checkpoint(path, kind=KIND)
    return ckpt.load_into(build_flow(FlowConfig(**ckpt.config))).eval(), ckpt.card


def load_pretrained(name: str = "calo_flow") -> tuple[ShowerFlow, dict]:
    """The flow shipped with the package: (flow, recipe card)."""
    path = PRETRAINED_DIR / f"{name}.pt"
    if not path.is_file():
        raise DataError(
            f"no pretrained flow {name!r} in {PRETRAINED_DIR} (make one with scripts/train_calo_flow_checkpoint.py)"
        )
    return load_flow(path)
