"""Particle Transformer (ParT): attention between particles, biased by pair-wise interaction features.

Qu, Li & Qian, "Particle Transformer for Jet Tagging", arXiv:2202.03772. Each particle is
embedded by an MLP; each pair of particles gets four interaction features computed from the
four-vectors (:func:`pair_features`: ln Delta, ln kT, ln z, ln m^2), embedded by a second MLP
into one number per attention head and added to the attention logits ("interaction bias").
Particle-attention blocks (NormFormer-style: extra LayerNorms after the attention and in the
feed-forward part, learned per-head and residual scales) update the particles; class-attention
blocks (CaiT) then let a learned class token attend to them, and a linear layer on the
normalised class token gives the class scores.

Padded particles never influence real ones: their inputs are replaced by zeros, every
attention logit towards them is pushed to -1e9 (its softmax weight is exactly 0) and the
interaction bias of every pair involving them is 0. A jet with no real particle gives finite
scores.

Speed: the default ``implementation="packed"`` drops the padded columns that no jet of the
batch uses, embeds only real particles and computes the pair embedding only for the real
pairs with i >= j (the features are symmetric); in training, the BatchNorm layers therefore
see real particles and real pairs only (as in the authors' code). ``implementation="padded"``
computes every slot and every pair (fixed shapes, used for ONNX export); both agree in eval mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from hepml_nb.core.errors import ParameterError

__all__ = ["CONFIGS", "PAIR_CHUNK", "PAIR_FEATURES", "ParticleTransformer", "build_part", "pair_features"]

#: the paper's ParT (8 particle-attention, 2 class-attention blocks, 8 heads; 2.14 M parameters for
#: JetClass's 17 inputs and 10 classes) and a small CPU configuration (about 45 k parameters), which
#: trains at about ParticleNet-Lite's speed on CPU (no dropout: drawing the dropout masks of the
#: attention weights costs about a quarter of the CPU time)
CONFIGS = {
    "part": {
        "embed_dims": (128, 512, 128),
        "pair_embed_dims": (64, 64, 64),
        "num_heads": 8,
        "num_layers": 8,
        "num_cls_layers": 2,
        "dropout": 0.1,
    },
    "part_small": {
        "embed_dims": (32, 64, 32),
        "pair_embed_dims": (16, 16),
        "num_heads": 4,
        "num_layers": 2,
        "num_cls_layers": 1,
        "dropout": 0.0,
    },
}
#: names of the interaction features, in the order of :func:`pair_features`
PAIR_FEATURES = ("ln_delta", "ln_kt", "ln_z", "ln_m2")
_EPS = 1e-8
_NEG = -1e9  # attention logit offset of padded keys: exp(_NEG) is exactly 0 in float32
#: pairs embedded at a time by the padded implementation: its pair-embedding tensors take
#: channels x pairs x 4 bytes (32 MiB per 16-channel tensor, 52 jets of 100 particles), not the
#: 164 MB per tensor of a 256-jet batch; jets are cut into chunks, so each jet's bias is unchanged
PAIR_CHUNK = 1 << 19


def _kinematics(v: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """pt, rapidity, phi, E and the 3-momentum (..., 3) of four-vectors (..., 4) = (px, py, pz, E)."""
    px, py, pz, energy = v.unbind(-1)
    pt = torch.sqrt(px * px + py * py)
    rapidity = 0.5 * torch.log1p(2 * pz / (energy - pz).clamp(min=1e-20))
    return pt, rapidity, torch.atan2(py, px), energy, v[..., :3]


def _combine(ki: Sequence[torch.Tensor], kj: Sequence[torch.Tensor], eps: float, dim: int = -1) -> torch.Tensor:
    """Pair features (4 along ``dim``) from the per-particle kinematics of both particles (broadcasting)."""
    pti, yi, phii, ei, pi = ki
    ptj, yj, phij, ej, pj = kj
    dy = yi - yj
    dphi = torch.remainder(phii - phij + math.pi, 2 * math.pi) - math.pi
    delta = torch.sqrt(dy * dy + dphi * dphi)
    ptmin = torch.minimum(pti, ptj)
    p = pi + pj
    m2 = (ei + ej) ** 2 - (p * p).sum(-1)
    return torch.stack(
        (
            torch.log(delta.clamp(min=eps)),
            torch.log((ptmin * delta).clamp(min=eps)),
            torch.log((ptmin / (pti + ptj).clamp(min=eps)).clamp(min=eps)),
            torch.log(m2.clamp(min=eps)),
        ),
        dim=dim,
    )


def pair_features(vi: torch.Tensor, vj: torch.Tensor, *, eps: float = _EPS) -> torch.Tensor:
    """Interaction features (..., 4) of particle pairs: ln Delta, ln kT, ln z, ln m^2.

    Parameters
    ----------
    vi, vj
        Four-vectors (..., 4) ``px, py, pz, E`` in GeV (broadcastable against each other).
    eps
        Floor of every argument of the logarithms (padding and a particle with itself give ln eps).

    Returns
    -------
    torch.Tensor
        ``Delta = sqrt(dy^2 + dphi^2)`` (rapidity y, dphi wrapped to [-pi, pi)),
        ``kT = min(pT_i, pT_j) Delta``, ``z = min(pT_i, pT_j) / (pT_i + pT_j)``, ``m^2 = (p_i + p_j)^2``
        (arXiv:2202.03772, Eq. 3), each through ``ln``.

    Notes
    -----
    In float32, m^2 of a nearly collinear pair of light particles (below about 0.01 GeV^2 at
    E ~ 100 GeV) is rounding noise: the inputs themselves carry an E^2 error of about
    1e-7 E^2. Rewriting m^2 as a sum of non-negative terms does not help for that reason.
    """
    return _combine(_kinematics(vi), _kinematics(vj), eps)


class _Embed(nn.Module):
    """BatchNorm of the inputs, then LayerNorm + Linear + GELU layers: rows (M, C_in) -> (M, C_out)."""

    def __init__(self, in_dim: int, dims: Sequence[int]):
        super().__init__()
        self.input_norm = nn.BatchNorm1d(in_dim)
        layers: list[nn.Module] = []
        for a, b in zip([in_dim, *dims][:-1], dims, strict=True):
            layers += [nn.LayerNorm(a), nn.Linear(a, b), nn.GELU()]
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.input_norm(x))


class _PairEmbed(nn.Module):
    """BatchNorm of the inputs, then 1x1 convolution + BatchNorm + GELU layers, channels first:
    (1, C_in, n_pairs) -> (1, C_out, n_pairs) (BatchNorm is 4 times faster on CPU in this layout)."""

    def __init__(self, in_dim: int, dims: Sequence[int]):
        super().__init__()
        layers: list[nn.Module] = [nn.BatchNorm1d(in_dim)]
        for a, b in zip([in_dim, *dims][:-1], dims, strict=True):
            layers += [nn.Conv1d(a, b, 1), nn.BatchNorm1d(b), nn.GELU()]
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.mlp:
            if isinstance(layer, nn.Conv1d):  # as a matrix product: 3 times faster than the convolution on CPU
                x = torch.matmul(layer.weight.squeeze(-1), x) + layer.bias.unsqueeze(-1)
            else:
                x = layer(x)
        return x


class AttentionBlock(nn.Module):
    """Particle-attention block (``forward(x, bias)``) or class-attention block (``forward(x, bias, cls)``).

    NormFormer layout as in the paper: LayerNorm, multi-head attention with an additive bias
    (B, H, Q, K) on the logits, per-head scale, LayerNorm, dropout, residual; then LayerNorm,
    Linear (4x) + GELU, LayerNorm, Linear, dropout and a learned scale of the residual.
    In a class-attention block the query is the normalised class token (CaiT's layout,
    ``class_query_norm=True``) or the class token as it is (weaver-core's ParT, ``False``);
    keys and values are the normalised class token and particles either way.
    """

    def __init__(
        self, dim: int, num_heads: int, *, dropout: float = 0.1, ffn_ratio: int = 4, class_query_norm: bool = True
    ):
        super().__init__()
        if dim % num_heads:
            raise ParameterError(f"embedding width {dim} is not divisible by num_heads = {num_heads}")
        self.num_heads, self.dropout, self.class_query_norm = num_heads, dropout, class_query_norm
        self.pre_attn_norm = nn.LayerNorm(dim)
        self.in_proj = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)
        self.head_scale = nn.Parameter(torch.ones(num_heads))
        self.post_attn_norm = nn.LayerNorm(dim)
        self.pre_fc_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn_ratio * dim)
        self.post_fc_norm = nn.LayerNorm(ffn_ratio * dim)
        self.fc2 = nn.Linear(ffn_ratio * dim, dim)
        self.resid_scale = nn.Parameter(torch.ones(dim))
        self.drop = nn.Dropout(dropout)

    def _attend(self, q_in: torch.Tensor, kv_in: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, nq, c = q_in.shape
        h = self.num_heads
        w, wb = self.in_proj.weight, self.in_proj.bias
        q = nn.functional.linear(q_in, w[:c], wb[:c]).view(b, nq, h, -1).transpose(1, 2)
        k, v = nn.functional.linear(kv_in, w[c:], wb[c:]).view(b, -1, 2, h, c // h).permute(2, 0, 3, 1, 4)
        p = self.dropout if self.training else 0.0
        out = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p)
        out = out * self.head_scale.view(1, h, 1, 1)
        return self.out_proj(out.transpose(1, 2).reshape(b, nq, c))

    def forward(self, x: torch.Tensor, bias: torch.Tensor, cls: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, P, C); ``bias`` (B, H or 1, Q, K) added to the logits; ``cls`` (B, 1, C) or None."""
        if cls is None:
            residual = x
            u = self.pre_attn_norm(x)
            y = self._attend(u, u, bias)
        else:
            residual = cls
            u = self.pre_attn_norm(torch.cat([cls, x], dim=1))
            y = self._attend(u[:, :1] if self.class_query_norm else cls, u, bias)
        x = self.drop(self.post_attn_norm(y)) + residual
        y = self.drop(nn.functional.gelu(self.fc1(self.pre_fc_norm(x))))
        y = self.drop(self.fc2(self.post_fc_norm(y)))
        return y + self.resid_scale * x


class ParticleTransformer(nn.Module):
    """Particle Transformer classifier on padded jets.

    Parameters
    ----------
    input_dims
        Number of per-particle features.
    num_classes
        Output classes (2 for top vs QCD).
    embed_dims
        Widths of the particle-embedding MLP; the last is the width of the attention blocks.
    pair_embed_dims
        Widths of the pair-embedding MLP (a last layer of ``num_heads`` outputs is added).
    num_heads, num_layers, num_cls_layers
        Attention heads, particle-attention blocks, class-attention blocks.
    dropout
        Dropout in the particle-attention blocks (attention weights, after the attention and in
        the feed-forward part); the class-attention blocks use none, as in the paper.
    class_query_norm
        Whether the class-attention query is the LayerNorm-ed class token (True, as in CaiT) or the
        class token itself (False, as in weaver-core's ParT, which the published JetClass models
        use: :func:`hepml_nb.jets.jetclass.load_jetclass` builds them so).

    See :data:`CONFIGS` for the paper's configuration (``part``) and the small CPU one.
    """

    #: the :class:`~hepml_nb.jets.io.JetData` attributes ``forward`` takes, in order
    inputs = ("features", "four_vectors", "mask")

    def __init__(
        self,
        input_dims: int,
        num_classes: int = 2,
        *,
        embed_dims: Sequence[int] = (128, 512, 128),
        pair_embed_dims: Sequence[int] = (64, 64, 64),
        num_heads: int = 8,
        num_layers: int = 8,
        num_cls_layers: int = 2,
        dropout: float = 0.1,
        class_query_norm: bool = True,
    ):
        super().__init__()
        dim = embed_dims[-1]
        self.embed = _Embed(input_dims, embed_dims)
        self.pair_embed = _PairEmbed(len(PAIR_FEATURES), [*pair_embed_dims, num_heads])
        self.blocks = nn.ModuleList(AttentionBlock(dim, num_heads, dropout=dropout) for _ in range(num_layers))
        self.cls_blocks = nn.ModuleList(
            AttentionBlock(dim, num_heads, dropout=0.0, class_query_norm=class_query_norm)
            for _ in range(num_cls_layers)
        )
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        self.num_heads = num_heads
        self.config = {
            "input_dims": input_dims,
            "num_classes": num_classes,
            "embed_dims": list(embed_dims),
            "pair_embed_dims": list(pair_embed_dims),
            "num_heads": num_heads,
            "num_layers": num_layers,
            "num_cls_layers": num_cls_layers,
            "dropout": dropout,
            "class_query_norm": class_query_norm,
        }
        self._init_weights()

    def _init_weights(self) -> None:
        """Xavier-uniform linear layers (q, k, v separately), zero biases, residual branches scaled
        by 1/sqrt(2 l) in block l, class token ~ N(0, 0.02) -- as in the authors' code."""
        for name, module in self.named_modules():
            if isinstance(module, nn.Linear | nn.Conv1d):
                if name.endswith("in_proj"):
                    bound = math.sqrt(6.0 / (module.weight.shape[0] // 3 + module.weight.shape[1]))
                    nn.init.uniform_(module.weight, -bound, bound)
                else:
                    nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            for layer, block in enumerate(self.blocks, start=1):
                block.out_proj.weight.div_(math.sqrt(2.0 * layer))
                block.fc2.weight.div_(math.sqrt(2.0 * layer))
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def forward(
        self,
        features: torch.Tensor,
        four_vectors: torch.Tensor,
        mask: torch.Tensor,
        *,
        implementation: str = "packed",
        interaction: bool = True,
    ) -> torch.Tensor:
        """Class logits (B, num_classes) from features (B, P, F), four-vectors (B, P, 4), mask (B, P).

        ``implementation``: ``packed`` (default: real particles and real pairs only) or ``padded``
        (every slot and pair; fixed shapes, used for ONNX). ``interaction=False`` leaves out the
        interaction bias (the plain-transformer ablation of the paper, for comparisons and tests).
        """
        if implementation not in ("packed", "padded"):
            raise ParameterError(f"unknown implementation {implementation!r}; choose one of: packed, padded")
        mask = mask.bool()
        if implementation == "packed":
            used = mask.any(dim=0).nonzero()
            width = int(used.max()) + 1 if used.numel() else 1  # drop padded columns no jet uses
            features, four_vectors, mask = features[:, :width], four_vectors[:, :width], mask[:, :width]
        m = mask.unsqueeze(-1)
        features = torch.where(m, features, torch.zeros_like(features))
        four_vectors = torch.where(m, four_vectors, torch.zeros_like(four_vectors))
        if implementation == "packed":
            x, bias = self._embed_packed(features, four_vectors, mask, interaction)
        else:
            x, bias = self._embed_padded(features, four_vectors, mask, interaction)
        keys = torch.where(mask, 0.0, _NEG).to(x.dtype)  # (B, P)
        attn = keys.view(-1, 1, 1, keys.shape[1]) if bias is None else bias + keys.view(-1, 1, 1, keys.shape[1])
        for block in self.blocks:
            x = block(x, attn)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        cls_keys = torch.cat([keys.new_zeros(keys.shape[0], 1), keys], dim=1).view(keys.shape[0], 1, 1, -1)
        for block in self.cls_blocks:
            cls = block(x, cls_keys, cls)
        return self.head(self.norm(cls.squeeze(1)))

    def _embed_packed(self, features, four_vectors, mask, interaction):
        b, p, f = features.shape
        real = mask.reshape(-1).nonzero().squeeze(1)
        rows = self.embed(features.reshape(b * p, f).index_select(0, real))
        x = rows.new_zeros(b * p, rows.shape[1]).index_copy(0, real, rows).view(b, p, -1)
        if not interaction:
            return x, None
        lower = torch.ones(p, p, dtype=torch.bool, device=mask.device).tril()
        jet, i, j = (mask.unsqueeze(2) & mask.unsqueeze(1) & lower).nonzero(as_tuple=True)
        kin = _kinematics(four_vectors)
        kin_i = [k[jet, i] for k in kin]
        kin_j = [k[jet, j] for k in kin]
        pairs = self.pair_embed(_combine(kin_i, kin_j, _EPS, dim=0).unsqueeze(0)).squeeze(0).t()  # (n_pairs, H)
        bias = pairs.new_zeros(b, p, p, self.num_heads)
        bias = bias.index_put((jet, i, j), pairs).index_put((jet, j, i), pairs)
        return x, bias.permute(0, 3, 1, 2)

    def _embed_padded(self, features, four_vectors, mask, interaction):
        b, p, f = features.shape
        x = self.embed(features.reshape(b * p, f)).view(b, p, -1) * mask.unsqueeze(-1).to(features.dtype)
        if not interaction:
            return x, None
        kin = _kinematics(four_vectors)
        step = max(1, PAIR_CHUNK // (p * p))
        if b <= step or torch.jit.is_tracing():  # an exported graph keeps one pass (any batch size)
            return x, self._pair_bias_padded(kin, mask)
        chunks = [self._pair_bias_padded([k[s : s + step] for k in kin], mask[s : s + step]) for s in range(0, b, step)]
        return x, torch.cat(chunks)

    def _pair_bias_padded(self, kin, mask):
        """Interaction bias (B, H, P, P) of every pair of slots, zero where either is padding."""
        b, p = mask.shape
        pairs = _combine([k.unsqueeze(2) for k in kin], [k.unsqueeze(1) for k in kin], _EPS, dim=0)  # (4, B, P, P)
        bias = self.pair_embed(pairs.reshape(1, pairs.shape[0], -1)).view(-1, b, p, p).transpose(0, 1)
        pair_mask = (mask.unsqueeze(2) & mask.unsqueeze(1)).unsqueeze(1)
        return torch.where(pair_mask, bias, torch.zeros_like(bias))


def build_part(name: str = "part_small", *, input_dims: int, num_classes: int = 2) -> ParticleTransformer:
    """A Particle Transformer with the configuration ``name`` (``part`` or ``part_small``)."""
    if name not in CONFIGS:
        raise ParameterError(f"unknown model {name!r}; choose one of: {', '.join(CONFIGS)}")
    model = ParticleTransformer(input_dims, num_classes, **CONFIGS[name])
    model.name = name
    return model
