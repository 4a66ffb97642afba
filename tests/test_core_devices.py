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
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert cpu_threads() >= 1


def test_resolve_device_errors():
    with pytest.raises(ParameterError, match="unknown device 'gpu'; choose one of: auto, cpu, cuda"):
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
