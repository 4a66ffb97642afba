"""Conditional flow matching for calorimeter showers, in two stages, sized for a CPU.

Flow matching (Lipman et al., arXiv:2210.02747; rectified flow, Liu et al., arXiv:2209.03003)
learns a velocity field ``v(x_t, t | c)`` that carries Gaussian noise ``x_0`` at ``t = 0`` to
data ``x_1`` at ``t = 1`` along straight lines: the network is regressed on
``x_1 - x_0`` at ``x_t = (1 - t) x_0 + t x_1``, and sampling integrates ``dx/dt = v`` (Heun's
method here). CaloDREAM (Favaro et al., arXiv:2405.09629) splits a shower the same way as
CaloFlow: an energy network, then a shape network conditioned on it. Here:

* **stage 1, the shower summary**: ``ln(E_tot / E_inc)``, then per block of cells (a layer with
  cells; a layer of a few rows, such as CaloGAN's 3 x 96 strips, row by row: :func:`cell_groups`)
  its share of ``E_tot`` (log), its number of hit cells (log, dequantised), and its centre of
  energy and width in x and y (a single hit: its centre spread over its cell, no width); a small
  flow-matching network learns their joint density given ``E_inc``;
* **stage 2, the cells**: every cell in "spot units" ``q = E_cell / E_inc * N(E_inc)``, with
  ``N = spot_norm * E_inc ** spot_exponent`` the number of energy spots of the GFlash
  parametrisation (one spot is about one unit at any energy), as ``x = ln(q + offset)``; empty
  cells are filled with noise below ``ln(offset)``. A residual-MLP flow-matching network learns
  their density given ``E_inc`` and the summary.

Sampling draws a summary, then cells given it, then makes the shower consistent with its
summary: in each block the hit cells are those with the largest ``x`` (plus, with
``select_prior``, the log of a Gaussian at the summary's centre and width), as many as the
summary's hit count (the other cells are empty: exact zeros); they are rescaled to the block's
share of ``E_tot`` and (with ``tilt``) multiplied by ``exp(a u + b u^2)`` per axis ``u``, the
smallest reweighting that gives the summary's centre of energy and width (an exponential tilt,
solved by Newton's method). ``E_tot``, the energy of every block and every hit count are those
of the summary exactly; so are the centres and widths where the hit cells can reach them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.gan import check_trained_range, check_training_set, condition
from hepml_nb.calo.geometry import Geometry, get_geometry
from hepml_nb.core.checkpoints import load_checkpoint, save_checkpoint
from hepml_nb.core.devices import resolve_device, torch_seed, torch_threads
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.history import TrainingHistory, TrainResult

__all__ = [
    "FlowMatchingConfig",
    "ShowerFlowMatching",
    "SUMMARY_KINDS",
    "build_model",
    "cell_groups",
    "flow_matching_loss",
    "layer_summary",
    "tilt_to_moments",
    "train_flow_matching",
    "generate_showers",
    "save_model",
    "load_model",
    "load_pretrained",
    "PRETRAINED_DIR",
]

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
KIND = "calo_flow_matching"
#: Per layer with cells, in this order: log energy fraction, log(1 + hit cells), centre x, centre y, width x, width y.
SUMMARY_KINDS = ("log_efrac", "log_hits", "centre_x", "centre_y", "width_x", "width_y")
_EMPTY_BAND = 2.0  # empty cells: ln(offset) - U(0, 2)


@dataclass(frozen=True)
class FlowMatchingConfig:
    """Architecture, preprocessing and sampling of the two-stage flow-matching model (stored with every checkpoint).

    ``geometry``; ``e_min``/``e_max``: energy range of the condition [GeV];
    ``summary_hidden``, ``summary_blocks`` and ``cell_hidden``, ``cell_blocks``: width and residual
    blocks of the two velocity networks; ``time_features``: sine/cosine pairs of the time embedding;
    ``spot_norm``, ``spot_exponent``: spot units ``q = E_cell / E_inc * spot_norm * E_inc**spot_exponent``
    (GFlash's spot count at the project's ``spot_scale`` 0.05 in Pb/LAr: 19.7 E^0.876);
    ``offset``: ``x = ln(q + offset)``; ``hit_mev``: cells above it count as hit (the features'
    sparsity threshold); ``min_hit_units``: smallest generated deposit [spot units] (a GFlash cell holds at
    least one spot, 0.4 units and more; 0.6 was chosen on held-out showers: it keeps the tail of the
    generated cell spectrum from reaching below the smallest deposits);
    ``moments``: the summary holds centres and widths (else only energies and hit counts);
    ``tilt``: generated layers are tilted to the summary's centres and widths;
    ``tilt_min_bins``: axes with fewer bins in a layer are not tilted; ``split_rows``: layers of at most
    this many rows are summarised row by row (:func:`cell_groups`); ``select_prior``: weight of the
    summary's centre and width in the choice of the hit cells (0: the largest generated values; 1 puts
    single hits where the summary says, but crowds the hits of a block around its centre: on held-out
    showers the tutorial low-level AUC rose from 0.92 to 0.997 while the high-level one stayed);
    ``sample_steps``: Heun steps.
    """

    geometry: str = "calogan"
    e_min: float = 1.0
    e_max: float = 100.0
    summary_hidden: int = 128
    summary_blocks: int = 3
    cell_hidden: int = 512
    cell_blocks: int = 3
    time_features: int = 8
    spot_norm: float = 19.7
    spot_exponent: float = 0.876
    offset: float = 0.02
    hit_mev: float = 1e-3
    min_hit_units: float = 0.6
    moments: bool = True
    tilt: bool = True
    tilt_min_bins: int = 2
    split_rows: int = 3
    select_prior: float = 0.0
    sample_steps: int = 8


# -- the shower summary ------------------------------------------------------------------------------------------
def cell_groups(geometry: str | Geometry, *, split_rows: int = 0) -> list[slice]:
    """The blocks of cells the summary describes, as slices of the flat cells: one per layer with cells,
    except that a layer of 2 to ``split_rows`` rows (the first index of its shape) is split into its rows.

    In the CaloGAN geometry ``split_rows=3`` splits layer 0 (3 x 96 strips, 160 mm tall) into its three
    rows: the centre and width in y of that layer are then fixed by the rows' energies, which the summary
    holds, instead of by a centre and a width that a few hit cells in the outer rows can rarely reach.
    """
    geo = get_geometry(geometry)
    off = geo.layer_offsets
    out: list[slice] = []
    for i in geo.relevant_layers:
        rows, cols = geo.layer_shapes[i]
        if 2 <= rows <= split_rows:
            out.extend(slice(int(off[i]) + r * cols, int(off[i]) + (r + 1) * cols) for r in range(rows))
        else:
            out.append(slice(int(off[i]), int(off[i + 1])))
    return out


def layer_summary(showers: ShowerSet, *, hit_mev: float = 1e-3, groups: list[slice] | None = None) -> np.ndarray:
    """Per layer with cells (or per block of ``groups``): energy fraction, hit cells, centre of energy and
    width in x and y.

    Parameters
    ----------
    showers : ShowerSet
        Cells [MeV], incident energies [GeV].
    hit_mev : float
        Cells above this energy [MeV] count as hit.
    groups : list of slice, optional
        Blocks of cells (:func:`cell_groups`); default: the layers with cells.

    Returns
    -------
    array (N, n_groups, 6), float64
        ``E_group / E_inc``, number of hit cells, centre x, centre y [mm], width x, width y [mm]
        (``x``, ``y`` as :meth:`Geometry.cell_centres`; centres and widths of an empty block are 0).
    """
    geo = get_geometry(showers.geometry)
    groups = cell_groups(geo) if groups is None else groups
    x, y = geo.cell_centres()
    cells = np.maximum(np.asarray(showers.cells, dtype=np.float64), 0.0)
    e_inc_mev = 1000.0 * np.asarray(showers.e_inc, dtype=np.float64)
    out = np.zeros((len(showers), len(groups), 6))
    for j, sl in enumerate(groups):
        block = cells[:, sl]
        total = block.sum(1)
        safe = np.where(total > 0, total, 1.0)
        out[:, j, 0] = total / e_inc_mev
        out[:, j, 1] = (block > hit_mev).sum(1)
        for k, coord in enumerate((x[sl], y[sl])):
            centre = block @ coord / safe
            width = np.sqrt(np.maximum(block @ coord**2 / safe - centre**2, 0.0))
            out[:, j, 2 + k] = np.where(total > 0, centre, 0.0)
            out[:, j, 4 + k] = np.where(total > 0, width, 0.0)
    return out


# -- the exponential tilt ----------------------------------------------------------------------------------------
def tilt_to_moments(
    energy: torch.Tensor,
    coords: torch.Tensor,
    centre: torch.Tensor,
    width: torch.Tensor,
    active: torch.Tensor,
    *,
    iterations: int = 30,
    damping: float = 1e-6,
) -> torch.Tensor:
    """Reweight each row of ``energy`` by ``exp(sum_a alpha_a u_a + beta_a u_a^2)`` so that its centre and width
    along each axis ``a`` become ``centre`` and ``width``; the support and the row sums are kept.

    The weights are the maximum-entropy (smallest Kullback-Leibler) change of the energy distribution with
    the asked moments: ``(alpha, beta)`` minimise the convex ``F = ln sum_i E_i exp(theta . phi_i) - theta . m``,
    solved by damped Newton steps with a backtracking line search. Where a row hits fewer than three distinct
    coordinates along an axis, only the centre is matched (two), or nothing (one); targets out of the reach
    of the hit cells are approached.

    Parameters
    ----------
    energy : tensor (B, n)
        Non-negative cell energies of one layer.
    coords : tensor (n, A)
        Coordinate of every cell along each axis [mm].
    centre, width : tensors (B, A)
        Target centre of energy and width per axis [mm].
    active : tensor (B, A), bool
        Which axes to match.
    iterations, damping
        Newton steps; Levenberg-Marquardt damping of the Hessian.

    Returns
    -------
    tensor (B, n), the dtype of ``energy``
    """
    out = energy.clone()
    rows = (energy > 0).sum(1) > 0
    if rows.any():  # rows without a hit stay zero
        out[rows] = _tilt_rows(
            energy[rows].double(), coords, centre[rows], width[rows], active[rows], iterations, damping
        ).to(out.dtype)
    return out


def _tilt_rows(e, coords, centre, width, active, iterations: int, damping: float) -> torch.Tensor:
    """:func:`tilt_to_moments` of rows with at least one hit, in float64."""
    hit = e > 0
    coords, centre, width = coords.double().to(e.device), centre.double(), width.double()
    n_axes = coords.shape[1]
    # only the hit cells matter: gather as many per row as the fullest row has (padding has zero energy)
    index = torch.topk(e, int(hit.sum(1).max()), dim=1).indices
    e_hit = e.gather(1, index)
    distinct = torch.stack([_distinct_hits(hit, coords[:, a]) for a in range(n_axes)], 1)  # (B, A)
    pitch = torch.stack([_pitch(coords[:, a]) for a in range(n_axes)]).to(e)
    scale = torch.maximum(width, 0.5 * pitch)
    u = (coords[index] - centre[:, None, :]) / scale[:, None, :]  # (B, n_hit, A)
    mask = torch.cat([active & (distinct >= 2), active & (distinct >= 3)], 1).to(e)
    phi = torch.cat([u, u * u], 2) * mask[:, None, :]  # unmatched moments do not enter
    target = torch.cat([torch.zeros_like(width), (width / scale) ** 2], 1) * mask
    log_e = torch.where(e_hit > 0, torch.log(e_hit.clamp_min(1e-300)), torch.full_like(e_hit, -torch.inf))
    theta = torch.zeros_like(target)
    todo = torch.arange(len(e), device=e.device)
    for _ in range(iterations):  # Newton steps on the rows not yet converged
        step, f0, slope, converged = _newton_step(
            log_e[todo], phi[todo], target[todo], theta[todo], mask[todo], damping
        )
        size = _backtrack(log_e[todo], phi[todo], target[todo], theta[todo], step, f0, slope)
        theta[todo] = theta[todo] + size[:, None] * step
        todo = todo[~converged & (size > 0)]
        if not len(todo):
            break
    w = torch.softmax(log_e + (phi * theta[:, None, :]).sum(2), 1)
    out = torch.zeros_like(e).scatter(1, index, w * e.sum(1, keepdim=True))
    return torch.where(hit, out, torch.zeros_like(out))


def _dual(log_e, phi, target, theta) -> torch.Tensor:
    """The tilt's convex objective ``ln sum_i E_i exp(theta . phi_i) - theta . m`` per row."""
    return torch.logsumexp(log_e + (phi * theta[:, None, :]).sum(2), 1) - (theta * target).sum(1)


def _newton_step(log_e, phi, target, theta, mask, damping: float):
    """Damped Newton direction of :func:`_dual`, its value and slope, and which rows have converged."""
    w = torch.softmax(log_e + (phi * theta[:, None, :]).sum(2), 1)
    mean = (w[:, :, None] * phi).sum(1)
    grad = mean - target
    centred = phi - mean[:, None, :]
    eye = torch.eye(phi.shape[2], dtype=phi.dtype, device=phi.device)
    hess = torch.einsum("bn,bni,bnj->bij", w, centred, centred) + eye * (damping + (1.0 - mask)[:, None, :])
    step = -torch.linalg.solve(hess, grad[:, :, None])[:, :, 0]
    f0 = torch.logsumexp(log_e + (phi * theta[:, None, :]).sum(2), 1) - (theta * target).sum(1)
    return step, f0, (grad * step).sum(1), grad.abs().amax(1) < 1e-9


def _backtrack(log_e, phi, target, theta, step, f0, slope, halvings: int = 12) -> torch.Tensor:
    """Armijo step size per row: 1, 1/2, 1/4, ... until F drops enough (0 when it never does)."""
    size = torch.ones_like(f0)
    pending = torch.arange(len(f0), device=f0.device)
    for _ in range(halvings):
        r = pending
        trial = _dual(log_e[r], phi[r], target[r], theta[r] + size[r, None] * step[r])
        pending = r[trial > f0[r] + 1e-4 * size[r] * slope[r]]
        if not len(pending):
            return size
        size[pending] *= 0.5
    size[pending] = 0.0
    return size


def _distinct_hits(hit: torch.Tensor, coord: torch.Tensor) -> torch.Tensor:
    """Number of distinct values of ``coord`` (n,) among the hit cells of each row of ``hit`` (B, n)."""
    values, index = torch.unique(coord, return_inverse=True)
    onehot = torch.zeros(coord.shape[0], values.shape[0], dtype=torch.float64, device=hit.device)
    onehot[torch.arange(coord.shape[0]), index] = 1.0
    return ((hit.double() @ onehot) > 0).sum(1)


def _distinct(coord: torch.Tensor) -> int:
    """Number of distinct values of ``coord``."""
    return int(torch.unique(coord).numel())


def _pitch(coord: torch.Tensor) -> torch.Tensor:
    """Smallest spacing between distinct coordinate values (1 mm when there is a single value)."""
    values = torch.unique(coord)
    if values.numel() < 2:
        return torch.ones((), dtype=coord.dtype)
    return (values[1:] - values[:-1]).min()


# -- the networks ------------------------------------------------------------------------------------------------
class _Block(nn.Module):
    """Residual block: ``h + W2 silu(W1 silu(norm h) + W_c context)``."""

    def __init__(self, hidden: int, context: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.lin1 = nn.Linear(hidden, hidden)
        self.ctx = nn.Linear(context, hidden)
        self.lin2 = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return h + self.lin2(nn.functional.silu(self.lin1(nn.functional.silu(self.norm(h))) + self.ctx(context)))


class _VelocityNet(nn.Module):
    """``v(x_t, t | context)``: a residual MLP with a Fourier time embedding joined to the context."""

    freq: torch.Tensor

    def __init__(self, dim: int, context: int, hidden: int, blocks: int, time_features: int):
        super().__init__()
        self.register_buffer("freq", torch.pi * torch.arange(1, time_features + 1, dtype=torch.float32))
        embed = context + 2 * time_features + 1
        self.inp = nn.Linear(dim + embed, hidden)
        self.blocks = nn.ModuleList(_Block(hidden, embed) for _ in range(blocks))
        self.norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        angle = t * self.freq
        emb = torch.cat([context, t, torch.sin(angle), torch.cos(angle)], 1)
        h = self.inp(torch.cat([x, emb], 1))
        for block in self.blocks:
            h = block(h, emb)
        return self.out(nn.functional.silu(self.norm(h)))


class ShowerFlowMatching(nn.Module):
    """The summary and cell velocity networks, the standardisation of their spaces and the geometry's coordinates."""

    summary_mean: torch.Tensor
    summary_std: torch.Tensor
    cell_mean: torch.Tensor
    cell_std: torch.Tensor
    coords: torch.Tensor
    pitch: torch.Tensor

    def __init__(self, config: FlowMatchingConfig):
        super().__init__()
        geo = get_geometry(config.geometry)
        self.config, self.geometry = config, geo
        self.groups = cell_groups(geo, split_rows=config.split_rows)
        self.n_groups, self.n_cells = len(self.groups), geo.n_cells
        self.summary_dim = 1 + self.n_groups * (6 if config.moments else 2)
        self.summary_net = _VelocityNet(
            self.summary_dim, 1, config.summary_hidden, config.summary_blocks, config.time_features
        )
        self.cell_net = _VelocityNet(
            geo.n_cells, 1 + self.summary_dim, config.cell_hidden, config.cell_blocks, config.time_features
        )
        for name, size in (("summary", self.summary_dim), ("cell", geo.n_cells)):
            self.register_buffer(f"{name}_mean", torch.zeros(size))
            self.register_buffer(f"{name}_std", torch.ones(size))
        x, y = geo.cell_centres()
        self.register_buffer("coords", torch.as_tensor(np.stack([x, y], 1), dtype=torch.float32))
        # cell pitch of each block along x and y (0 where the block has a single coordinate value)
        pitch = [[_pitch(self.coords[sl, a]).item() if _distinct(self.coords[sl, a]) > 1 else 0.0 for a in range(2)]
                 for sl in self.groups]  # fmt: skip
        self.register_buffer("pitch", torch.tensor(pitch, dtype=torch.float64), persistent=False)

    # -- data space <-> model space --------------------------------------------------------------------------------
    def units(self, e_inc: torch.Tensor) -> torch.Tensor:
        """MeV per spot unit for incident energies ``e_inc`` (N,) [GeV], shape (N, 1)."""
        c = self.config
        return (1000.0 * e_inc / (c.spot_norm * e_inc**c.spot_exponent))[:, None]

    def encode_summary(self, summary: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Raw summaries (N, G, 6) from :func:`layer_summary` -> model space (N, summary_dim), not standardised.

        First ``ln(E_tot / E_inc)``, then per block ``ln(E_block / E_tot)``, the hit count dequantised with
        uniform noise (``ln(1 + n + u)``) and the centres and widths. A block with a single hit has its centre
        on a cell centre and no width: the centre is spread uniformly over the cell (dequantised, the decoding
        picks that cell back), the widths are undefined. Undefined entries (and everything but the hit count
        of an empty block) are NaN here, noise after :meth:`standardise_summary`.
        """
        keep = 6 if self.config.moments else 2
        hits = summary[:, :, 1]
        total = summary[:, :, 0].sum(1)
        out = summary[:, :, :keep].clone()
        out[:, :, 0] = torch.log(summary[:, :, 0].clamp_min(1e-30) / total.clamp_min(1e-30)[:, None])
        if self.config.moments:
            one = (hits == 1)[:, :, None]
            jitter = (torch.rand(out[:, :, 2:4].shape, generator=gen, dtype=out.dtype) - 0.5) * self.pitch.to(out)
            out[:, :, 2:4] = torch.where(one, out[:, :, 2:4] + jitter, out[:, :, 2:4])
            out[:, :, 4:6] = torch.where(one, torch.full_like(out[:, :, 4:6], torch.nan), out[:, :, 4:6])
        out = torch.where((hits == 0)[:, :, None], torch.full_like(out, torch.nan), out)
        out[:, :, 1] = torch.log1p(hits + torch.rand(hits.shape, generator=gen, dtype=out.dtype))
        return torch.cat([torch.log(total.clamp_min(1e-30))[:, None], out.reshape(len(out), -1)], 1)

    def standardise_summary(self, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Standardise a model-space summary; the undefined (NaN) entries of empty layers become standard-normal
        noise, which the sampler learns to ignore (the hit count says the layer is empty)."""
        z = (s - self.summary_mean.to(s)) / self.summary_std.to(s)
        return torch.where(torch.isnan(z), torch.randn(z.shape, generator=gen, dtype=z.dtype), z).float()

    def encode_cells(self, cells: torch.Tensor, e_inc: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Cells [MeV] (N, n_cells) -> ``ln(q + offset)`` with empty cells noise-filled (not standardised)."""
        c = self.config
        q = cells / self.units(e_inc)
        empty = float(np.log(c.offset)) - _EMPTY_BAND * torch.rand(cells.shape, generator=gen)
        return torch.where(cells > c.hit_mev, torch.log(q.clamp_min(0.0) + c.offset), empty)

    def decode(self, summary: torch.Tensor, x: torch.Tensor, e_inc: torch.Tensor) -> torch.Tensor:
        """Model-space summary (N, summary_dim) and cells (N, n_cells), both not standardised -> cells [MeV].

        In each block the hit cells are the largest ``x``, as many as the summary's hit count; the blocks'
        energy shares (normalised over the blocks with hits) times ``E_tot`` give each block's energy.
        """
        c = self.config
        per_group = summary[:, 1:].reshape(len(summary), self.n_groups, -1)
        hits = torch.floor(torch.expm1(per_group[:, :, 1].clamp(0.0, 20.0)))
        if c.moments:  # a single hit has no width (the summary's entries are noise there)
            per_group = per_group.clone()
            per_group[:, :, 4:6] = torch.where((hits <= 1)[:, :, None], 0.0, per_group[:, :, 4:6])
        share = torch.where(hits > 0, torch.exp(per_group[:, :, 0].clamp(max=0.0)), torch.zeros_like(hits))
        energy = (
            share / share.sum(1, keepdim=True).clamp_min(1e-30) * torch.exp(summary[:, :1]) * 1000.0 * e_inc[:, None]
        )
        units = self.units(e_inc)
        q = (torch.exp(x) - c.offset).clamp_min(c.min_hit_units)
        cells = torch.zeros_like(x)
        for j, sl in enumerate(self.groups):
            k = hits[:, j].clamp(0, sl.stop - sl.start).long()
            chosen = _top_k_mask(self._selection_scores(x[:, sl], j, per_group[:, j]), k)
            block = torch.where(chosen, q[:, sl], torch.zeros_like(q[:, sl]))
            block = block / block.sum(1, keepdim=True).clamp_min(1e-30) * energy[:, j : j + 1]
            if c.moments and c.tilt:
                block = self._tilt_layer(block, sl, per_group[:, j], units)
            cells[:, sl] = block
        return cells

    def _selection_scores(self, x: torch.Tensor, j: int, summary: torch.Tensor) -> torch.Tensor:
        """What decides which cells of block ``j`` are hit: its ``x`` plus ``select_prior`` times the log of a
        Gaussian around the summary's centre with its width (at least half a cell) along each axis with
        several cells."""
        c = self.config
        if not (c.moments and c.select_prior > 0):
            return x
        coords = self.coords[self.groups[j]].to(x)
        score = x.clone()
        for a in range(2):
            pitch = float(self.pitch[j, a])
            if pitch > 0:
                scale = summary[:, 4 + a].clamp_min(0.5 * pitch)
                score = (
                    score
                    - 0.5 * c.select_prior * ((coords[None, :, a] - summary[:, 2 + a, None]) / scale[:, None]) ** 2
                )
        return score

    def _tilt_layer(self, block: torch.Tensor, sl: slice, summary: torch.Tensor, units: torch.Tensor) -> torch.Tensor:
        """Tilt one layer to its summary's centres and widths; deposits stay at least ``min_hit_units``."""
        c = self.config
        coords = self.coords[sl]
        n_bins = torch.tensor([torch.unique(coords[:, a]).numel() for a in range(2)], device=block.device)
        active = (n_bins >= c.tilt_min_bins)[None].expand(len(block), -1)
        tilted = tilt_to_moments(block, coords, summary[:, 2:4], summary[:, 4:6].clamp_min(0.0), active)
        floor = torch.where(block > 0, c.min_hit_units * units, torch.zeros_like(block))
        tilted = torch.maximum(tilted, floor)
        return tilted / tilted.sum(1, keepdim=True).clamp_min(1e-30) * block.sum(1, keepdim=True)

    # -- sampling --------------------------------------------------------------------------------------------------
    def sample(
        self, e_inc: torch.Tensor, noise_summary: torch.Tensor, noise_cells: torch.Tensor, *, steps: int
    ) -> torch.Tensor:
        """Cells [MeV] (N, n_cells) for incident energies ``e_inc`` (N,) [GeV] from standard-normal draws
        ``noise_summary`` (N, summary_dim) and ``noise_cells`` (N, n_cells), with ``steps`` Heun steps each."""
        cond = _condition_tensor(e_inc, self.config)
        z_summary = _heun(self.summary_net, noise_summary, cond, steps)
        z_cells = _heun(self.cell_net, noise_cells, torch.cat([cond, z_summary], 1), steps)
        summary = z_summary * self.summary_std + self.summary_mean
        x = z_cells * self.cell_std + self.cell_mean
        return self.decode(summary, x, e_inc)


def _top_k_mask(values: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the ``k[i]`` largest entries of each row of ``values`` (B, n)."""
    order = torch.argsort(values, dim=1, descending=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(values.shape[1], device=values.device).expand_as(order))
    return rank < k[:, None]


def _condition_tensor(e_inc: torch.Tensor, config: FlowMatchingConfig) -> torch.Tensor:
    return torch.from_numpy(condition(e_inc.detach().cpu().numpy(), config)).to(e_inc.device)


def _heun(net: nn.Module, x: torch.Tensor, context: torch.Tensor, steps: int) -> torch.Tensor:
    """Integrate ``dx/dt = net(x, t, context)`` from t = 0 to 1 with ``steps`` Heun steps."""
    dt = 1.0 / steps
    for i in range(steps):
        t0 = torch.full((len(x), 1), i * dt, dtype=x.dtype, device=x.device)
        v0 = net(x, t0, context)
        v1 = net(x + dt * v0, t0 + dt, context)
        x = x + 0.5 * dt * (v0 + v1)
    return x


def build_model(config: FlowMatchingConfig) -> ShowerFlowMatching:
    """A new (untrained) :class:`ShowerFlowMatching`."""
    return ShowerFlowMatching(config)


# -- training ----------------------------------------------------------------------------------------------------
def _check_training(showers: ShowerSet, config: FlowMatchingConfig, steps: int, batch_size: int) -> None:
    check_training_set(
        showers, config, model="flow-matching model", steps_name="steps", steps=steps, batch_size=batch_size
    )
    if config.moments is False and config.tilt:
        raise ParameterError("tilt=True needs moments=True (the tilt matches the summary's centres and widths)")
    if config.split_rows < 0 or config.select_prior < 0:
        raise ParameterError(
            f"split_rows and select_prior must be >= 0 (0 turns them off), got {config.split_rows} and "
            f"{config.select_prior}"
        )


def _standardise(model: ShowerFlowMatching, summary: torch.Tensor, cells: torch.Tensor, e_inc, gen) -> None:
    """Set the model's mean/std buffers from the training showers (the undefined entries of empty layers
    left out of the summary's)."""
    with torch.no_grad():
        s = model.encode_summary(summary, gen)
        filled = ~torch.isnan(s)
        count = filled.sum(0).clamp_min(1)
        mean = torch.where(filled, s, 0.0).sum(0) / count
        var = torch.where(filled, (s - mean) ** 2, 0.0).sum(0) / count
        model.summary_mean.copy_(mean.float())
        model.summary_std.copy_(var.sqrt().clamp_min(1e-3).float())
        x = model.encode_cells(cells, e_inc, gen)
        model.cell_mean.copy_(x.mean(0))
        model.cell_std.copy_(x.std(0).clamp_min(1e-3))


def flow_matching_loss(net: nn.Module, x1: torch.Tensor, context: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Rectified-flow loss ``|v(x_t, t) - (x_1 - x_0)|^2`` at a uniform ``t`` (mean over the batch and dimensions).

    ``x1``: data (batch, dim); ``context``: the condition of each row; ``net(x, t, context)`` the velocity.
    """
    x0 = torch.randn(x1.shape, generator=gen, device=x1.device)
    t = torch.rand((len(x1), 1), generator=gen, device=x1.device)
    xt = (1.0 - t) * x0 + t * x1
    return ((net(xt, t, context) - (x1 - x0)) ** 2).mean()


def train_flow_matching(
    showers: ShowerSet,
    *,
    config: FlowMatchingConfig = FlowMatchingConfig(),
    steps: int = 20000,
    batch_size: int = 256,
    lr: float = 1e-3,
    ema: float = 0.999,
    seed: int = 0,
    device: str = "auto",
    threads: int | None = None,
    validate_every: int = 0,
    validate: Callable[[ShowerFlowMatching], dict] | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train both velocity networks together (Adam, cosine-annealed ``lr`` after a short warm-up).

    Parameters
    ----------
    showers : ShowerSet
        Training showers in ``config.geometry``, energies inside ``[e_min, e_max]``.
    steps, batch_size, lr
        Optimiser steps, showers per step, peak learning rate.
    ema
        Decay of the exponential moving average of the weights; the returned model holds the average.
    seed, device, threads
        Seed of initialisation, batches and noise; ``auto``, ``cpu`` or ``cuda``; torch CPU threads.
    validate_every, validate
        Every ``validate_every`` steps call ``validate(model)`` (the averaged model, CPU, eval mode)
        and store its dict in the history.

    Returns
    -------
    TrainResult
        ``model`` (CPU, eval mode, averaged weights), ``history`` (``step``, ``summary_loss``,
        ``cell_loss`` every 100 steps, plus validation records), ``seconds`` (wall time),
        ``per_second`` (showers per second).
    """
    _check_training(showers, config, steps, batch_size)
    with torch_threads(threads):
        return _train(showers, config, steps, batch_size, lr, ema, seed, device, validate_every, validate, progress)


def _train(showers, config, steps, batch_size, lr, ema, seed, device, validate_every, validate, progress):
    """The loop of :func:`train_flow_matching` (arguments checked there)."""
    start = time.perf_counter()
    dev = torch.device(resolve_device(device))
    gen = torch.Generator().manual_seed(seed)
    groups = cell_groups(config.geometry, split_rows=config.split_rows)
    summary = torch.from_numpy(layer_summary(showers, hit_mev=config.hit_mev, groups=groups))
    cells = torch.from_numpy(np.asarray(showers.cells, dtype=np.float32))
    e_inc = torch.from_numpy(np.asarray(showers.e_inc, dtype=np.float32))
    with torch_seed(seed):
        model = build_model(config)
    _standardise(model, summary, cells, e_inc, gen)
    average = build_model(config)
    average.load_state_dict(model.state_dict())
    model.to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    warm = min(500, steps // 10 + 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warm) * 0.5 * (1 + np.cos(np.pi * min(i, steps) / steps))
    )
    history, running = TrainingHistory("step"), np.zeros(2)
    for step in tqdm(range(1, steps + 1), desc="flow matching", disable=not progress):
        idx = torch.randint(0, len(cells), (batch_size,), generator=gen)
        loss_s, loss_c = _losses(model, summary[idx], cells[idx], e_inc[idx], gen, dev)
        opt.zero_grad(set_to_none=True)
        (loss_s + loss_c).backward()
        opt.step()
        sched.step()
        _update_average(average, model, ema if step > warm else 0.0)
        running += (loss_s.item(), loss_c.item())
        if step % 100 == 0 or step == steps:
            n = 100 if step % 100 == 0 else step % 100
            history.log(step, summary_loss=running[0] / n, cell_loss=running[1] / n)
            running[:] = 0.0
        if validate is not None and validate_every and (step % validate_every == 0 or step == steps):
            history.log(step, **validate(average.eval()))
    seconds = time.perf_counter() - start
    return TrainResult(average.cpu().eval(), history, seconds=seconds, per_second=steps * batch_size / seconds)


def _losses(model, summary, cells, e_inc, gen, dev) -> tuple[torch.Tensor, torch.Tensor]:
    """Flow-matching losses of the summary and the cell network on one batch (inputs prepared on the CPU)."""
    with torch.no_grad():
        s = model.standardise_summary(model.encode_summary(summary, gen), gen)
        x = ((model.encode_cells(cells, e_inc, gen) - model.cell_mean.cpu()) / model.cell_std.cpu()).float()
        cond = torch.from_numpy(condition(e_inc.numpy(), model.config))
    s, x, cond = s.to(dev), x.to(dev), cond.to(dev)
    loss_s = flow_matching_loss(model.summary_net, s, cond, _device_generator(gen, dev))
    loss_c = flow_matching_loss(model.cell_net, x, torch.cat([cond, s], 1), _device_generator(gen, dev))
    return loss_s, loss_c


def _device_generator(gen: torch.Generator, dev: torch.device) -> torch.Generator:
    """``gen`` itself on the CPU; on a GPU a generator seeded from it (the stream stays reproducible)."""
    if dev.type == "cpu":
        return gen
    return torch.Generator(device=dev).manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen)))


def _update_average(average: nn.Module, model: nn.Module, decay: float) -> None:
    with torch.no_grad():
        for a, p in zip(average.parameters(), model.parameters(), strict=True):
            a.mul_(decay).add_(p.detach().cpu(), alpha=1.0 - decay)


# -- generation and checkpoints ----------------------------------------------------------------------------------
def generate_showers(
    model: ShowerFlowMatching,
    e_inc: np.ndarray,
    *,
    seed: int = 0,
    batch_size: int = 2000,
    steps: int | None = None,
    device: str = "cpu",
) -> ShowerSet:
    """One shower per incident energy ``e_inc`` (N,) [GeV], as a ShowerSet in MeV.

    ``steps``: Heun steps of each stage (default: the config's ``sample_steps``; each costs two
    network evaluations). The noise is drawn up front on the CPU from ``seed``: the same showers
    whatever ``batch_size`` and ``device`` (up to floating-point rounding).
    """
    config = model.config
    e_inc = np.asarray(e_inc, dtype=float).ravel()
    check_trained_range(e_inc, config, model="the flow-matching model")
    steps = config.sample_steps if steps is None else int(steps)
    if steps < 1 or batch_size < 1:
        raise ParameterError(f"need steps >= 1 and batch_size >= 1, got steps={steps}, batch_size={batch_size}")
    dev = torch.device(resolve_device(device))
    net = model.to(dev).eval()
    gen = torch.Generator().manual_seed(seed)
    noise_summary = torch.randn(e_inc.size, model.summary_dim, generator=gen)
    noise_cells = torch.randn(e_inc.size, model.n_cells, generator=gen)
    energies = torch.from_numpy(e_inc.astype(np.float32))
    out = []
    with torch.no_grad():
        for start in range(0, e_inc.size, batch_size):
            sl = slice(start, start + batch_size)
            made = net.sample(energies[sl].to(dev), noise_summary[sl].to(dev), noise_cells[sl].to(dev), steps=steps)
            out.append(made.cpu().numpy())
    cells = np.concatenate(out) if out else np.zeros((0, model.n_cells), np.float32)
    return ShowerSet(e_inc, cells.astype(np.float32), config.geometry)


def save_model(model: ShowerFlowMatching, path: str | Path, *, recipe: dict | None = None) -> Path:
    """Write the model's weights and config to ``path`` (.pt) and its recipe card (.json)."""
    return save_checkpoint(path, model.state_dict(), kind=KIND, config=asdict(model.config), card=recipe or {})


def load_model(path: str | Path, *, geometry: str | None = None) -> tuple[ShowerFlowMatching, dict]:
    """Read a model written by :func:`save_model`: (model in eval mode, recipe card).

    ``geometry``: refuse (DataError) a model made for another geometry.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"flow-matching checkpoint {path} not found; train one with train_flow_matching and save_model")
    ckpt = load_checkpoint(path, kind=KIND)
    try:
        config = FlowMatchingConfig(**ckpt.config)
    except TypeError as exc:
        raise DataError(f"{path} has a config this version cannot build ({exc}); retrain and save it again") from exc
    if geometry is not None and get_geometry(geometry).name != config.geometry:
        raise DataError(
            f"{path.name} was trained for geometry {config.geometry!r}, not {geometry!r}; train a model on showers "
            f"of {geometry!r} (train_flow_matching, or the notebook's train_gan = True)"
        )
    return ckpt.load_into(build_model(config)), ckpt.card


def load_pretrained(name: str = KIND, *, geometry: str | None = None) -> tuple[ShowerFlowMatching, dict]:
    """The flow-matching model shipped with the package: (model, recipe card)."""
    path = PRETRAINED_DIR / f"{name}.pt"
    if not path.is_file():
        raise DataError(
            f"no pretrained flow-matching model {name!r} in {PRETRAINED_DIR} "
            "(make one with scripts/train_calogan_checkpoint.py --model flowmatching)"
        )
    return load_model(path, geometry=geometry)
