"""Tests of quantisation-aware training, its export, and the Pareto front."""

import numpy as np
import pandas as pd
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.fpga import qat, rtl
from hepml_nb.fpga.fixed import quantize_fixed


@pytest.fixture
def blobs(seed):
    """Three Gaussian classes in 6 features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=1500)
    X = rng.normal(size=(1500, 6)) + 3.0 * np.eye(3, 6)[y]
    return X.astype(np.float32), y


def test_train_qat_export_is_the_trained_network(blobs, one_torch_thread):
    import torch

    X, y = blobs
    result = qat.train_qat(
        X,
        y,
        hidden=(8,),
        weight_bits=[4, 5],
        activation_type="ap_ufixed<6,2>",
        input_type="ap_fixed<8,3>",
        output_type="ap_fixed<12,6>",
        epochs=3,
        progress=False,
    )
    with torch.no_grad():
        logits = result.model(torch.from_numpy(X)).double().numpy()
    np.testing.assert_array_equal(quantize_fixed(logits, 12, 6, overflow="SAT"), rtl.reference_logits(result.net, X))
    assert result.net.weight_bits == (4, 5) and len(result.loss) == 3
    for w, bits, frac in zip(result.net.weights, result.net.weight_bits, result.net.weight_frac, strict=True):
        codes = w * 2.0**frac
        assert np.all(codes == np.round(codes)) and codes.max() < 2 ** (bits - 1) and codes.min() >= -(2 ** (bits - 1))


def test_train_qat_learns_and_prunes(blobs, one_torch_thread):
    X, y = blobs
    result = qat.train_qat(X, y, hidden=(8,), weight_bits=4, prune=0.5, epochs=20, progress=False)
    metrics = qat.quantized_metrics(result.net, X, y, ["a", "b", "c"])
    assert metrics["accuracy"] > 0.65
    assert result.net.n_nonzero() <= 0.5 * (6 * 8 + 8 * 3) + 1


def test_train_qat_fine_tunes_a_float_model(blobs, one_torch_thread):
    from hepml_nb.fpga.training import train_tagger

    X, y = blobs
    float_model = train_tagger(X, y, hidden=(8,), epochs=20, progress=False).model
    result = qat.train_qat(X, y, hidden=(8,), init=float_model, epochs=1, progress=False)
    assert qat.quantized_metrics(result.net, X, y, ["a", "b", "c"])["accuracy"] > 0.8
    with pytest.raises(ParameterError, match="do not match the QAT layers"):
        qat.train_qat(X, y, hidden=(4,), init=float_model, epochs=1, progress=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"prune": 1.0}, r"prune must be a fraction in \[0, 1\)"),
        ({"epochs": 0}, "epochs and batch_size must be >= 1"),
        ({"activation_type": "ap_ufixed<4>"}, "not of the form"),
    ],
)
def test_train_qat_rejects_bad_input(blobs, kwargs, match):
    X, y = blobs
    with pytest.raises(ParameterError, match=match):
        qat.train_qat(X, y, hidden=(8,), progress=False, **kwargs)


def test_pareto_front_keeps_undominated_points():
    table = pd.DataFrame({"lut": [100, 200, 150, 300, 250], "accuracy": [0.60, 0.70, 0.58, 0.72, 0.69]})
    front = qat.pareto_front(table)
    assert list(front["lut"]) == [100, 200, 300]
    with pytest.raises(ParameterError, match="column 'ff' not in the table"):
        qat.pareto_front(table, cost="ff")


@pytest.mark.parametrize("type_text", ["ap_fixed<4,2>", "ap_ufixed<4,2>"])
def test_fake_fixed_rounds_forward_and_passes_the_gradient_inside_the_range(type_text):
    import torch

    x = torch.linspace(-5, 5, 41, dtype=torch.float64, requires_grad=True)
    q = qat.fake_fixed(x, type_text)
    q.sum().backward()
    signed, width, integer = rtl.parse_fixed_type(type_text)
    sign_bit = 1 if signed else 0  # ap_ufixed<W,I> holds the values of ap_fixed<W+1,I+1> from 0 up
    top = 2.0 ** (integer - sign_bit)
    low, high = (-top if signed else 0.0), top - 2.0 ** (integer - width)
    expected = quantize_fixed(np.clip(x.detach().numpy(), low, high), width + 1 - sign_bit, integer + 1 - sign_bit)
    np.testing.assert_array_equal(q.detach().numpy(), expected)
    inside = (x.detach().numpy() >= low) & (x.detach().numpy() <= high)
    np.testing.assert_array_equal(x.grad.numpy(), inside.astype(float))
