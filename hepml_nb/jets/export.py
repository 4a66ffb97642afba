"""ONNX export of ParticleNet and a check that ONNX Runtime reproduces the torch scores.

ONNX is the way back into C++ reconstruction software (CMSSW and others run
ParticleNet through ONNX Runtime). The exported graph is the padded formulation of
the network in eval mode (fixed number of particles, dynamic batch size) and outputs
softmax scores. The TorchScript exporter (``dynamo=False``) is used. torch 2.13's
recommended exporter (``dynamo=True``) handles ParticleNet too, with the same ONNX Runtime
agreement, but needs the extra package ``onnxscript`` and takes about 12 s instead of 1.5 s
on 2 CPU cores; the TorchScript exporter's deprecation warnings (only those) are silenced.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hepml_nb.core.errors import DataError
from hepml_nb.core.lazy import needs_extra

__all__ = ["ScoreModel", "export_onnx", "onnx_scores", "torch_scores", "compare_onnx"]


#: The DeprecationWarnings of torch's TorchScript-based exporter (``dynamo=False``), the only ones silenced.
_LEGACY_EXPORT_WARNINGS = (
    "You are using the legacy TorchScript-based ONNX export",
    "The feature will be removed. Please remove usage of this function",
)


class ScoreModel(nn.Module):
    """Wrap a ParticleNet: float mask input, softmax scores output, padded implementation."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, points: torch.Tensor, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(points, features, mask > 0.5, implementation="padded"), dim=-1)


def export_onnx(
    model: nn.Module, path: Path | str, *, n_particles: int = 100, n_features: int = 7, opset: int = 17
) -> Path:
    """Export ``model`` (in eval mode, on CPU) to ONNX with inputs ``points``, ``features``, ``mask``.

    Parameters
    ----------
    model
        A :class:`~hepml_nb.jets.models.ParticleNet`.
    path
        Output ``.onnx`` file.
    n_particles, n_features
        Padding length and feature count of the inputs (batch size stays dynamic).
    """
    wrapper = ScoreModel(model).cpu().eval()
    dummy = (torch.zeros(2, n_particles, 2), torch.zeros(2, n_particles, n_features), torch.ones(2, n_particles))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {name: {0: "batch"} for name in ("points", "features", "mask", "scores")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # the shape check is constant for fixed n_particles
        for message in _LEGACY_EXPORT_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=DeprecationWarning)
        torch.onnx.export(
            wrapper,
            dummy,
            str(path),
            input_names=["points", "features", "mask"],
            output_names=["scores"],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    return path


def onnx_scores(
    path: Path | str, points: np.ndarray, features: np.ndarray, mask: np.ndarray, *, threads: int | None = None
) -> np.ndarray:
    """Softmax scores (N, n_classes) from ONNX Runtime for padded inputs."""
    with needs_extra("jets"):
        import onnxruntime as ort

    if not Path(path).is_file():
        raise DataError(f"ONNX file {path} not found; create it with export_onnx(model, path)")
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = int(threads)
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    feeds = {
        "points": np.asarray(points, np.float32),
        "features": np.asarray(features, np.float32),
        "mask": np.asarray(mask, np.float32),
    }
    return session.run(["scores"], feeds)[0]


def torch_scores(
    model: nn.Module, points: np.ndarray, features: np.ndarray, mask: np.ndarray, *, batch_size: int = 512
) -> np.ndarray:
    """Softmax scores (N, n_classes) of the torch model in eval mode (CPU)."""
    wrapper = ScoreModel(model).cpu().eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(points), batch_size):
            sl = slice(i, i + batch_size)
            out.append(
                wrapper(
                    torch.as_tensor(points[sl], dtype=torch.float32),
                    torch.as_tensor(features[sl], dtype=torch.float32),
                    torch.as_tensor(mask[sl], dtype=torch.float32),
                ).numpy()
            )
    return np.concatenate(out)


def compare_onnx(model: nn.Module, path: Path | str, points, features, mask) -> float:
    """Largest absolute difference between ONNX Runtime and torch scores on these jets."""
    diff = onnx_scores(path, points, features, mask) - torch_scores(model, points, features, mask)
    return float(np.max(np.abs(diff)))
