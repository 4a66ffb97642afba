"""Guards for optional hardware: pick a torch device with a clear fallback."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from hepml_nb.core.errors import ParameterError

__all__ = ["resolve_device", "cpu_threads", "torch_threads", "torch_seed"]

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto") -> str:
    """Return ``"cuda"`` or ``"cpu"`` for a ``device`` parameter (``auto``, ``cpu``, ``cuda``, ``cuda:N``).

    ``auto`` takes CUDA when available. Asking for ``cuda`` on a machine without a
    GPU raises a ParameterError that says to use ``cpu`` or ``auto``.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ParameterError(
                f"device {device!r} asked for, but torch sees no CUDA GPU on this machine; "
                "set device='cpu' or device='auto'"
            )
        return device
    raise ParameterError(f"unknown device {device!r}; choose one of: auto, cpu, cuda, cuda:N")


def cpu_threads() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads (None: leave as is), restoring the previous number.

    Small networks train several times faster on one thread when the cores are shared
    with other work (OpenMP threads otherwise spin against each other).
    """
    import torch

    previous = torch.get_num_threads()
    if n is not None:
        if isinstance(n, bool) or int(n) < 1:
            raise ParameterError(f"threads must be a positive number or None, got {n}")
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def torch_seed(seed: int, device: str = "cpu") -> Iterator[None]:
    """Run the block on torch's global random stream seeded with ``seed``, then restore the caller's state.

    ``torch.random.fork_rng`` scopes the seed: weight initialisation or dropout inside the
    block draw the same numbers as after ``torch.manual_seed(seed)``, but code after the
    block sees the random state it had before (no hidden global reseeding). ``device``
    (``cpu``, ``cuda``, ``cuda:N``) says which CUDA generator is forked as well.
    """
    import torch

    devices: list[int] = []
    if str(device).startswith("cuda"):
        index = torch.device(device).index
        devices = [torch.cuda.current_device() if index is None else index]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
