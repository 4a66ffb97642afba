import pytest
import torch

from hepml_nb.core.devices import cpu_threads, resolve_device, torch_seed, torch_threads
from hepml_nb.core.errors import ParameterError


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ParameterError, match="threads must be a positive number or None, got 0"), torch_threads(0):
        pass


def test_resolve_device_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert cpu_threads() >= 1


def test_resolve_device_takes_a_resolved_device_as_it_is(monkeypatch):
    """issue #26: a notebook resolves its ``device`` once; the library's functions, which call resolve_device
    on entry, neither check nor query CUDA again for the torch.device they are given."""
    queries = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: queries.append(1) or False)
    resolved = resolve_device("auto")
    assert queries == [1] and resolved == torch.device("cpu")
    assert resolve_device(resolved) is resolved and resolve_device(torch.device("cuda", 1)) == torch.device("cuda:1")
    assert queries == [1]


def test_resolve_device_errors():
    with pytest.raises(ParameterError, match="device 'gpu' is not a device name; choose one of: auto, cpu, cuda"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="set device='cpu' or device='auto'"):
            resolve_device("cuda")


def test_torch_seed_draws_the_seeded_stream_and_restores_the_callers():
    torch.manual_seed(123)
    expected_after = torch.rand(3)
    torch.manual_seed(123)
    with torch_seed(7):
        inside = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(inside, torch.rand(3))  # the same numbers as a global manual_seed(7)
    torch.manual_seed(123)
    with torch_seed(7):
        torch.rand(100)
    assert torch.equal(torch.rand(3), expected_after)  # the caller's stream is untouched
