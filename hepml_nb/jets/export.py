"""ONNX export of any jet tagger (ParticleNet, Particle Transformer) and a check that ONNX Runtime
reproduces the torch scores.

ONNX is the way back into C++ reconstruction software (CMSSW and others run
ParticleNet and ParT through ONNX Runtime). The exported graph is the padded formulation of
the network in eval mode (fixed number of particles, dynamic batch size); its inputs are named
after ``model.inputs`` (``points, features, mask`` or ``features, four_vectors, mask``; the mask
as float, 1 for real particles) and it outputs softmax ``scores``. The TorchScript exporter
(``dynamo=False``) is used; it exports both families, with ONNX Runtime agreeing to about 1e-6
(it has no ``sinh``: the ParT pair features do without). torch 2.13's recommended exporter
(``dynamo=True``) handles ParticleNet too, with the same ONNX Runtime agreement, but needs the
extra package ``onnxscript`` and takes about 12 s instead of 1.5 s on 2 CPU cores; the
TorchScript exporter's deprecation warnings (only those) are silenced.

Memory: the padded Particle Transformer holds (batch, pair channels, P, P) float32 tensors, 41 MB per
tensor for 64 jets of 100 particles and 16 channels. ONNX Runtime scores :data:`SCORE_BATCH` jets at a
time (256 jets of part_small in one batch peaked at about 580 MB), with its memory arena off (it would
keep its largest batch's memory after the session); its scores do not depend on the batch. The torch
model embeds its pairs in chunks itself (:data:`~hepml_nb.jets.transformer.PAIR_CHUNK`), so
:func:`torch_scores` keeps its batches of 512, whose class-attention matrix products round as before.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.lazy import needs_extra

_DEFAULT_INPUTS = ("points", "features", "mask")

__all__ = ["SCORE_BATCH", "ScoreModel", "export_onnx", "onnx_scores", "torch_scores", "compare_onnx"]

#: jets scored at a time by :func:`onnx_scores` (see the module's Memory note)
SCORE_BATCH = 64


#: The DeprecationWarnings of torch's TorchScript-based exporter (``dynamo=False``), the only ones silenced.
_LEGACY_EXPORT_WARNINGS = (
    "You are using the legacy TorchScript-based ONNX export",
    "The feature will be removed. Please remove usage of this function",
)


class ScoreModel(nn.Module):
    """Wrap a tagger: inputs in ``model.inputs`` order, float mask, softmax scores, padded implementation."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.inputs = tuple(getattr(model, "inputs", _DEFAULT_INPUTS))
        self._mask_at = self.inputs.index("mask")

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        args = [x > 0.5 if i == self._mask_at else x for i, x in enumerate(inputs)]
        return torch.softmax(self.model(*args, implementation="padded"), dim=-1)


def _dummy(name: str, n_particles: int, n_features: int) -> torch.Tensor:
    """A batch of two jets for tracing: all particles real (the traced graph does not depend on the values)."""
    if name == "mask":
        return torch.ones(2, n_particles)
    width = {"points": 2, "four_vectors": 4}.get(name, n_features)
    return torch.rand(2, n_particles, width) + 0.5


def export_onnx(
    model: nn.Module, path: Path | str, *, n_particles: int = 100, n_features: int = 7, opset: int = 17
) -> Path:
    """Export ``model`` (in eval mode, on CPU) to ONNX, one input per entry of ``model.inputs``.

    Parameters
    ----------
    model
        A tagger from :func:`~hepml_nb.jets.models.build_tagger` (ParticleNet or Particle Transformer).
    path
        Output ``.onnx`` file.
    n_particles, n_features
        Padding length and feature count of the inputs (batch size stays dynamic).
    """
    wrapper = ScoreModel(model).cpu().eval()
    dummy = tuple(_dummy(name, n_particles, n_features) for name in wrapper.inputs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {name: {0: "batch"} for name in (*wrapper.inputs, "scores")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks are constant for fixed n_particles
        for message in _LEGACY_EXPORT_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=DeprecationWarning)
        torch.onnx.export(
            wrapper,
            dummy,
            str(path),
            input_names=list(wrapper.inputs),
            output_names=["scores"],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    return path


def _check_batch(batch_size: int) -> None:
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ParameterError(f"batch_size must be a positive integer (jets per batch), got {batch_size!r}")


def onnx_scores(
    path: Path | str, *inputs: np.ndarray, threads: int | None = None, batch_size: int = SCORE_BATCH
) -> np.ndarray:
    """Softmax scores (N, n_classes) from ONNX Runtime for padded inputs, in the exported model's input order,
    ``batch_size`` jets at a time."""
    with needs_extra("jets"):
        import onnxruntime as ort

    if not Path(path).is_file():
        raise DataError(f"ONNX file {path} not found; create it with export_onnx(model, path)")
    _check_batch(batch_size)
    opts = ort.SessionOptions()
    opts.enable_cpu_mem_arena = False  # give each batch's memory back instead of keeping the largest
    if threads:
        opts.intra_op_num_threads = int(threads)
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    if len(names) != len(inputs):
        raise ParameterError(
            f"{Path(path).name} takes {len(names)} inputs ({', '.join(names)}), got {len(inputs)} arrays"
        )
    out = []
    for start in range(0, max(len(inputs[0]), 1), batch_size):  # no jets: one empty batch
        feeds = {n: np.asarray(a[start : start + batch_size], np.float32) for n, a in zip(names, inputs, strict=True)}
        out.append(session.run(["scores"], feeds)[0])
    return np.concatenate(out)


def torch_scores(model: nn.Module, *inputs: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Softmax scores (N, n_classes) of the torch model in eval mode (CPU, padded implementation)."""
    _check_batch(batch_size)
    wrapper = ScoreModel(model).cpu().eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(inputs[0]), batch_size):
            sl = slice(i, i + batch_size)
            out.append(wrapper(*(torch.as_tensor(np.asarray(a[sl], np.float32)) for a in inputs)).numpy())
    return np.concatenate(out)


def compare_onnx(model: nn.Module, path: Path | str, *inputs) -> float:
    """Largest absolute difference between ONNX Runtime and torch scores on these jets (``model.inputs`` order)."""
    diff = onnx_scores(path, *inputs) - torch_scores(model, *inputs)
    return float(np.max(np.abs(diff)))
