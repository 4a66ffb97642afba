"""Quantisation-aware training (QAT) of the tagger in PyTorch, with per-layer bit widths and pruning.

The forward pass rounds weights, biases and activations exactly as the hardware will
(:mod:`hepml_nb.fpga.rtl`); the backward pass treats each rounding as the identity
(the straight-through estimator, Bengio et al., arXiv:1308.3432; as in QKeras/HGQ,
Coelho et al., arXiv:2006.10159). Clipping keeps its zero gradient outside the range.
After training, :func:`hepml_nb.fpga.quantize_tagger` of the trained layers gives the
very network that was trained, ready for da4ml. Magnitude pruning (a fixed fraction of
the smallest weights of each layer set to zero) shrinks the shift-and-add logic further.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import pandas as pd

from hepml_nb.core.devices import torch_threads
from hepml_nb.core.errors import ParameterError
from hepml_nb.core.lazy import needs_extra
from hepml_nb.fpga.fixed import integer_bits_needed
from hepml_nb.fpga.models import DEFAULT_HIDDEN, classification_metrics
from hepml_nb.fpga.rtl import QuantizedMLP, _kif, _per_layer, parse_fixed_type, quantize_tagger, reference_logits

__all__ = ["QATResult", "fake_fixed", "train_qat", "quantized_metrics", "pareto_front"]


class QATResult(NamedTuple):
    """The trained quantisation-aware model (PyTorch), the exported :class:`QuantizedMLP`, loss per epoch."""

    model: torch.nn.Module  # noqa: F821
    net: QuantizedMLP
    loss: list[float]


def _ste(x, q):
    """Value ``q`` forward, gradient of ``x`` backward."""
    return x + (q - x).detach()


def _fake_weight(w, bits: int):
    import torch

    integer = min(integer_bits_needed(float(w.detach().abs().max())), bits)
    scale = 2.0 ** (bits - integer)
    q = torch.clamp(torch.floor(w * scale + 0.5), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) / scale
    return _ste(w, q), bits - integer


def fake_fixed(x, type_text: str):
    """``x`` (a torch tensor) rounded to ``type_text`` forward, the identity backward (inside its range).

    The forward value is truncated to ``ap_fixed<W,I>`` / ``ap_ufixed<W,I>`` with saturation
    (ReLU included for ``ap_ufixed``), as the hardware computes it; the gradient passes through
    the rounding unchanged (straight-through estimator) and is zero where the value saturates.

    Parameters
    ----------
    x
        Tensor of any shape.
    type_text
        ``ap_fixed<W,I>`` or ``ap_ufixed<W,I>`` (:func:`hepml_nb.fpga.parse_fixed_type`).
    """
    with needs_extra("fpga"):
        import torch

    k, i, f = _kif(type_text)
    scale, high = 2.0**f, 2.0**i - 2.0**-f
    clipped = torch.clamp(x, -(2.0**i) * k, high)
    return _ste(clipped, torch.floor(clipped * scale) / scale)


def _make_module(sizes, weight_bits, input_type, activation_types):
    import torch

    class QuantMLP(torch.nn.Module):
        """MLP with fake quantisation; ``forward`` returns the (unrounded) logits."""

        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in pairwise(sizes))

        def forward(self, x):
            x = fake_fixed(x, input_type)
            f_in = _kif(input_type)[2]
            for n, layer in enumerate(self.layers):
                w, f_w = _fake_weight(layer.weight, weight_bits[n])
                grid = 2.0 ** (f_in + f_w)
                b = _ste(layer.bias, torch.round(layer.bias * grid) / grid)
                x = x @ w.T + b
                if n < len(activation_types):
                    x = fake_fixed(x, activation_types[n])
                    f_in = _kif(activation_types[n])[2]
            return x

    return QuantMLP()


def train_qat(
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: Sequence[int] = DEFAULT_HIDDEN,
    input_type: str = "ap_fixed<10,4>",
    weight_bits: int | Sequence[int] = 6,
    activation_type: str | Sequence[str] = "ap_ufixed<8,3>",
    output_type: str = "ap_fixed<12,6>",
    prune: float = 0.0,
    init=None,
    epochs: int = 20,
    batch_size: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool = True,
) -> QATResult:
    """Train the tagger with fake quantisation in the loop (optionally starting from a float model).

    Parameters
    ----------
    X, y
        Standardised features (N, F) and class indices (N,).
    input_type, weight_bits, activation_type, output_type
        As in :func:`hepml_nb.fpga.quantize_tagger` (per-layer values allowed).
    prune
        Fraction in [0, 1) of each layer's smallest weights set to zero and kept there.
    init
        Optional float PyTorch tagger whose ``Linear`` weights start the training (fine-tuning).

    Returns
    -------
    QATResult
        With ``net`` the exported network (bit-exact with the trained forward pass).
    """
    import torch
    from tqdm.auto import tqdm

    if not 0.0 <= prune < 1.0:
        raise ParameterError(f"prune must be a fraction in [0, 1), got {prune}")
    if epochs < 1 or batch_size < 1:
        raise ParameterError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    X, y = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)
    sizes = [X.shape[1], *map(int, hidden), int(y.max()) + 1]
    bits = [int(b) for b in _per_layer(weight_bits, len(sizes) - 1, "weight_bits")]
    acts = tuple(_per_layer(activation_type, len(sizes) - 2, "activation_type"))
    for text in (input_type, output_type, *acts):
        parse_fixed_type(text)
    torch.manual_seed(seed)
    model = _make_module(sizes, bits, input_type, acts)
    if init is not None:
        _copy_linears(init, model)
    masks = [_prune_mask(layer.weight.detach(), prune) for layer in model.layers]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    history = []
    with torch_threads(1):
        _apply_masks(model, masks)
        for _ in tqdm(range(epochs), desc="QAT", disable=not progress):
            order, total = torch.randperm(len(Xt), generator=gen), 0.0
            for start in range(0, len(Xt), batch_size):
                idx = order[start : start + batch_size]
                loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                _apply_masks(model, masks)
                total += loss.item() * len(idx)
            history.append(total / len(Xt))
    net = quantize_tagger(
        model, input_type=input_type, weight_bits=bits, activation_type=list(acts), output_type=output_type
    )
    return QATResult(model.eval(), net, history)


def _copy_linears(source, target) -> None:
    import torch

    src = [m for m in source.modules() if isinstance(m, torch.nn.Linear)]
    if [tuple(m.weight.shape) for m in src] != [tuple(m.weight.shape) for m in target.layers]:
        raise ParameterError(
            f"init model layers {[tuple(m.weight.shape) for m in src]} do not match the QAT "
            f"layers {[tuple(m.weight.shape) for m in target.layers]}; pass the same hidden sizes"
        )
    with torch.no_grad():
        for s, t in zip(src, target.layers, strict=True):
            t.weight.copy_(s.weight)
            t.bias.copy_(s.bias)


def _prune_mask(w, fraction: float):
    import torch

    if fraction == 0:
        return torch.ones_like(w)
    threshold = torch.quantile(w.abs().flatten(), fraction)
    return (w.abs() > threshold).to(w.dtype)


def _apply_masks(model, masks) -> None:
    import torch

    with torch.no_grad():
        for layer, mask in zip(model.layers, masks, strict=True):
            layer.weight.mul_(mask)


def quantized_metrics(net: QuantizedMLP, X: np.ndarray, y: np.ndarray, class_names: Sequence[str]) -> dict:
    """Accuracy and AUCs of the fixed-point network (numpy reference; softmax of the logits for the AUCs)."""
    logits = reference_logits(net, X)
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return classification_metrics(y, z / z.sum(axis=1, keepdims=True), class_names)


def pareto_front(table: pd.DataFrame, *, cost: str = "lut", score: str = "accuracy") -> pd.DataFrame:
    """Rows of ``table`` not beaten by another row with lower-or-equal ``cost`` and higher ``score``.

    Returns the front sorted by ``cost``.
    """
    for column in (cost, score):
        if column not in table:
            raise ParameterError(f"column {column!r} not in the table; columns are: {', '.join(table.columns)}")
    ordered = table.sort_values([cost, score], ascending=[True, False])
    keep, best = [], -np.inf
    for index, row in ordered.iterrows():
        if row[score] > best:
            keep.append(index)
            best = row[score]
    return ordered.loc[keep]
