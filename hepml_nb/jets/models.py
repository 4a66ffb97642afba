"""ParticleNet and ParticleNet-Lite: EdgeConv on a dynamic k-nearest-neighbour graph.

Qu & Gouskos, "ParticleNet: Jet Tagging via Particle Clouds", arXiv:1902.08570.
Each EdgeConv block finds the k nearest neighbours of every particle (in
(delta-eta, delta-phi) for the first block, in feature space afterwards), forms the
edge features ``(x_i, x_j - x_i)``, applies three shared linear + BatchNorm + ReLU
layers, averages over the k edges and adds a shortcut. Global average pooling over
real particles and a fully connected layer with dropout give the class scores.

Padded particles never influence real ones: their features are zeroed, their
coordinates are moved 1e9 away so that no real particle picks them as neighbours
(except in jets with k or fewer real particles, where they contribute zeros), their
outputs are zeroed after every block and they are left out of the pooling.

Speed (same mathematics as the paper): the first linear layer acts on
``(x_i, x_j - x_i)``, so it equals ``(W_a - W_b) x_i + W_b x_j``; both terms are
computed once per particle and only the second is gathered over neighbours, with
flat indices, channels last, and only for real particles ("packed" rows).
:meth:`EdgeConvBlock.forward_padded` keeps the padded layout (for ONNX export) and,
with ``direct=True``, the direct formulation (for tests and benchmarks).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets.names import TAGGERS

__all__ = [
    "CONFIGS",
    "TAGGERS",
    "TAGGER_LABELS",
    "EdgeConvBlock",
    "ParticleNet",
    "build_particlenet",
    "build_tagger",
    "knn_indices",
    "count_parameters",
]

#: paper configurations: k, channels of each EdgeConv block, (FC width, dropout)
CONFIGS = {
    "particlenet": {"k": 16, "blocks": ((64, 64, 64), (128, 128, 128), (256, 256, 256)), "fc": (256, 0.1)},
    "particlenet_lite": {"k": 7, "blocks": ((32, 32, 32), (64, 64, 64)), "fc": (128, 0.1)},
}
#: their names in tables and plots
TAGGER_LABELS = {
    "particlenet_lite": "ParticleNet-Lite",
    "particlenet": "ParticleNet",
    "part_small": "ParT (small)",
    "part": "ParT",
}
_FAR = 1e9


def knn_indices(points: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (B, P, k) of the k nearest neighbours of each point, itself excluded.

    Parameters
    ----------
    points
        (B, P, D) coordinates, channels last.
    """
    sq = (points * points).sum(dim=-1)
    dist = sq.unsqueeze(2) - 2 * torch.bmm(points, points.transpose(1, 2)) + sq.unsqueeze(1)
    return dist.topk(k + 1, dim=-1, largest=False, sorted=True).indices[:, :, 1:]


class EdgeConvBlock(nn.Module):
    """One EdgeConv block with a shortcut, on packed real particles (rows of a (M, C) tensor)."""

    def __init__(self, k: int, in_channels: int, channels: Sequence[int]):
        super().__init__()
        self.k = k
        widths = [2 * in_channels, *channels]
        self.linears = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in pairwise(widths))
        self.norms = nn.ModuleList(nn.BatchNorm1d(c) for c in channels)
        self.shortcut = nn.Linear(in_channels, channels[-1], bias=False)
        self.shortcut_norm = nn.BatchNorm1d(channels[-1])

    def _edge_mlp(self, h: torch.Tensor, *, skip_first: bool) -> torch.Tensor:
        """Linear + BN + ReLU layers on edge features (M, k, C), then the mean over the k edges."""
        m, k, _ = h.shape
        h = h.reshape(m * k, -1)
        for i, (lin, norm) in enumerate(zip(self.linears, self.norms, strict=True)):
            if i > 0 or not skip_first:
                h = lin(h)
            h = torch.relu_(norm(h))
        return h.reshape(m, k, -1).mean(dim=1)

    def forward(self, x: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
        """Features (M, C) of real particles and neighbour rows (M, k) -> (M, C_out).

        A neighbour row equal to M stands for a padded particle (zero features).
        """
        c = x.shape[1]
        w = self.linears[0].weight  # (C1, 2C): columns act on [x_i | x_j - x_i]
        centre = x @ (w[:, :c] - w[:, c:]).t()
        neigh = torch.cat([x @ w[:, c:].t(), x.new_zeros(1, w.shape[0])])
        h = neigh.index_select(0, neighbours.reshape(-1)).reshape(*neighbours.shape, -1) + centre.unsqueeze(1)
        return torch.relu(self._edge_mlp(h, skip_first=True) + self.shortcut_norm(self.shortcut(x)))

    def forward_padded(self, points: torch.Tensor, x: torch.Tensor, *, direct: bool = False) -> torch.Tensor:
        """Padded layout: (B, P, D) points, (B, P, C) features -> (B, P, C_out), every slot computed.

        ``direct=True`` builds ``(x_i, x_j - x_i)`` for every edge and applies the full
        MLP, as in the paper's code; otherwise the first layer is applied per particle.
        """
        b, p, c = x.shape
        flat = (knn_indices(points, self.k) + (torch.arange(b, device=x.device) * p).view(b, 1, 1)).reshape(-1)
        xf = x.reshape(b * p, c)
        if direct:
            centre = xf.unsqueeze(1).expand(-1, self.k, -1)
            neigh = xf.index_select(0, flat).reshape(b * p, self.k, c)
            h = self._edge_mlp(torch.cat([centre, neigh - centre], dim=-1), skip_first=False)
        else:
            w = self.linears[0].weight
            centre = xf @ (w[:, :c] - w[:, c:]).t()
            neigh = (xf @ w[:, c:].t()).index_select(0, flat).reshape(b * p, self.k, -1)
            h = self._edge_mlp(neigh + centre.unsqueeze(1), skip_first=True)
        return torch.relu(h + self.shortcut_norm(self.shortcut(xf))).reshape(b, p, -1)


def _neighbour_rows(points: torch.Tensor, k: int, rows_of: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Packed-row indices (M, k) of the k nearest neighbours of each real particle."""
    b, p, _ = points.shape
    idx = knn_indices(points, k) + (torch.arange(b, device=points.device) * p).view(b, 1, 1)
    return rows_of[idx.reshape(b * p, k).index_select(0, real)]


class ParticleNet(nn.Module):
    """ParticleNet classifier on padded particle clouds.

    Parameters
    ----------
    input_dims
        Number of per-particle features.
    num_classes
        Output classes (2 for top vs QCD).
    k, blocks, fc
        Neighbours per particle, channels of each EdgeConv block, (FC width, dropout);
        see :data:`CONFIGS` for the paper's ParticleNet and ParticleNet-Lite.

    Notes
    -----
    The fast path works on the real particles only ("packed" rows), so BatchNorm batch
    statistics in training use real particles only (masked BatchNorm). In eval mode the
    result equals the padded formulations (``implementation="padded"`` or ``"direct"``).
    """

    #: the :class:`~hepml_nb.jets.io.JetData` attributes ``forward`` takes, in order
    inputs = ("points", "features", "mask")

    def __init__(
        self,
        input_dims: int,
        num_classes: int = 2,
        *,
        k: int = 7,
        blocks: Sequence[Sequence[int]] = ((32, 32, 32), (64, 64, 64)),
        fc: tuple[int, float] = (128, 0.1),
    ):
        super().__init__()
        self.input_norm = nn.BatchNorm1d(input_dims)
        widths = [input_dims, *(ch[-1] for ch in blocks)]
        self.blocks = nn.ModuleList(EdgeConvBlock(k, widths[i], ch) for i, ch in enumerate(blocks))
        self.head = nn.Sequential(
            nn.Linear(widths[-1], fc[0]), nn.ReLU(), nn.Dropout(fc[1]), nn.Linear(fc[0], num_classes)
        )
        self.k = k
        self.config = {
            "input_dims": input_dims,
            "num_classes": num_classes,
            "k": k,
            "blocks": [list(c) for c in blocks],
            "fc": list(fc),
        }

    def forward(
        self, points: torch.Tensor, features: torch.Tensor, mask: torch.Tensor, *, implementation: str = "packed"
    ) -> torch.Tensor:
        """Class logits (B, num_classes) from points (B, P, 2), features (B, P, F), mask (B, P).

        ``implementation``: ``packed`` (default, fastest: real particles only), ``padded``
        (every slot, export-friendly, used for ONNX) or ``direct`` (padded, explicit edge
        features: the reference formulation). All three agree in eval mode.
        """
        if features.shape[1] <= self.k:
            raise ParameterError(
                f"jets are padded to {features.shape[1]} particles, but the model takes "
                f"k = {self.k} neighbours; use max_particles > {self.k}"
            )
        if implementation in ("padded", "direct"):
            return self._forward_padded(points, features, mask, direct=implementation == "direct")
        if implementation != "packed":
            raise ParameterError(f"unknown implementation {implementation!r}; choose one of: packed, padded, direct")
        b, p, f = features.shape
        flat_mask = mask.reshape(-1).bool()
        real = flat_mask.nonzero().squeeze(1)
        m = real.numel()
        rows_of = torch.full((b * p,), m, dtype=torch.long, device=features.device)
        rows_of[real] = torch.arange(m, device=features.device)
        shift = (~mask.bool()).unsqueeze(-1).to(features.dtype) * _FAR
        x = self.input_norm(features.reshape(b * p, f).index_select(0, real))
        graph = points.reshape(b * p, -1).index_select(0, real)
        for block in self.blocks:
            padded = x.new_zeros(b * p, graph.shape[1]).index_copy(0, real, graph).view(b, p, -1) + shift
            x = block(x, _neighbour_rows(padded, self.k, rows_of, real))
            graph = x
        jet = torch.div(real, p, rounding_mode="floor")
        pooled = x.new_zeros(b, x.shape[1]).index_add(0, jet, x)
        counts = torch.bincount(jet, minlength=b).clamp(min=1).unsqueeze(1).to(x.dtype)
        return self.head(pooled / counts)

    def _forward_padded(self, points, features, mask, *, direct: bool) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(features.dtype)
        b, p, f = features.shape
        shift = (1.0 - m) * _FAR
        x = self.input_norm((features * m).reshape(b * p, f)).reshape(b, p, f) * m
        for i, block in enumerate(self.blocks):
            graph = points * m + shift if i == 0 else x + shift
            x = block.forward_padded(graph, x, direct=direct) * m
        return self.head(x.sum(dim=1) / m.sum(dim=1).clamp(min=1.0))


def build_particlenet(name: str = "particlenet_lite", *, input_dims: int, num_classes: int = 2) -> ParticleNet:
    """A ParticleNet with the paper configuration ``name`` (``particlenet`` or ``particlenet_lite``)."""
    if name not in CONFIGS:
        raise ParameterError(f"unknown model {name!r}; choose one of: {', '.join(CONFIGS)}")
    model = ParticleNet(input_dims, num_classes, **CONFIGS[name])
    model.name = name
    return model


def build_tagger(name: str, *, input_dims: int, num_classes: int = 2) -> nn.Module:
    """The tagger ``name`` (one of :data:`TAGGERS`) for ``input_dims`` particle features.

    Every tagger has a class attribute ``inputs`` naming the :class:`~hepml_nb.jets.io.JetData`
    attributes its ``forward`` takes (see :func:`hepml_nb.jets.training.model_inputs`), a ``config``
    that rebuilds it and a ``name``.
    """
    if name in CONFIGS:
        return build_particlenet(name, input_dims=input_dims, num_classes=num_classes)
    from hepml_nb.jets.transformer import CONFIGS as PART_CONFIGS
    from hepml_nb.jets.transformer import build_part

    if name in PART_CONFIGS:
        return build_part(name, input_dims=input_dims, num_classes=num_classes)
    raise ParameterError(f"unknown tagger {name!r}; choose one of: {', '.join(TAGGERS)}")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
