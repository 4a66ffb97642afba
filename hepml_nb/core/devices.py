"""Guards for optional hardware: pick a torch device with a clear fallback."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from hepml_nb.core.errors import ParameterError

if TYPE_CHECKING:
    import torch

__all__ = ["check_device_name", "resolve_device", "cpu_threads", "torch_threads", "torch_seed"]

DEVICES = ("auto", "cpu", "cuda")


def check_device_name(device: str) -> str:
    """Accept a torch device name: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; ParameterError otherwise.

    Only the name is checked (no torch import): the rule of every topic's ``device`` parameter
    before a run, and the first step of :func:`resolve_device`.
    """
    text = str(device)
    if text in DEVICES or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise ParameterError(f"device {device!r} is not a device name; choose one of: auto, cpu, cuda, cuda:N")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The torch device for a ``device`` parameter (``auto``, ``cpu``, ``cuda``, ``cuda:N``).

    ``auto`` takes CUDA when available. Asking for ``cuda`` on a machine without a GPU raises a
    ParameterError that says to use ``cpu`` or ``auto``. A :class:`torch.device` is already
    resolved and comes back unchanged (no check, no CUDA query): a notebook resolves its
    parameter once and passes the result to the library, whose functions call this on entry.
    """
    import torch

    if isinstance(device, torch.device):
        return device
    name = check_device_name(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name != "cpu" and not torch.cuda.is_available():
        raise ParameterError(
            f"device {device!r} asked for, but torch sees no CUDA GPU on this machine; "
            "set device='cpu' or device='auto'"
        )
    return torch.device(name)


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
def torch_seed(seed: int, device: str | torch.device = "cpu") -> Iterator[None]:
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
