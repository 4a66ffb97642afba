"""Training loop, splits and predictions on small synthetic point clouds."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.history import TrainResult
from hepml_nb.jets.models import build_particlenet, build_tagger
from hepml_nb.jets.training import model_inputs, predict_scores, subset, train_tagger, train_val_test_split

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _clouds(n, seed):
    """Class 1 jets have two separated prongs, class 0 one blob; 8-20 real particles of 30."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    counts = rng.integers(8, 21, n)
    mask = np.arange(30)[None, :] < counts[:, None]
    points = rng.normal(0, 0.05, (n, 30, 2))
    points[labels == 1, ::2, 0] += 0.4
    points = (points * mask[..., None]).astype(np.float32)
    feats = np.concatenate([points, rng.normal(0, 1, (n, 30, 3))], axis=-1) * mask[..., None]
    return points, feats.astype(np.float32), mask, labels


def test_train_tagger_learns_and_restores_best(seed):
    train, val = _clouds(384, seed), _clouds(128, seed + 1)
    torch.manual_seed(seed)  # the initial weights
    model = build_particlenet(input_dims=5)
    result = train_tagger(model, train, val, epochs=3, batch_size=64, lr=5e-3, device="cpu", seed=seed, progress=False)
    assert result.history.names == ("train_loss", "val_loss", "val_accuracy", "lr")
    assert result.history.steps() == [1, 2, 3]
    assert isinstance(result, TrainResult) and result.model is model and not model.training
    assert result.seconds > 0 and result.per_second == pytest.approx(3 * 384 / result.seconds)
    assert max(result.history["val_accuracy"]) > 0.9
    scores = predict_scores(model, *val[:-1], device="cpu")
    assert scores.shape == (128, 2) and np.allclose(scores.sum(1), 1.0, atol=1e-5)
    accuracy = np.mean(scores.argmax(1) == val[3])
    assert result.best_epoch >= 0
    assert accuracy == pytest.approx(result.history["val_accuracy"][result.best_epoch], abs=1e-9)


def test_train_tagger_and_predict_scores_take_a_resolved_device_as_it_is(seed, cuda_unqueried):
    train, val = _clouds(64, seed), _clouds(32, seed + 1)
    model = build_particlenet(input_dims=5)
    train_tagger(model, train, val, epochs=1, batch_size=32, device=cuda_unqueried, seed=seed, progress=False)
    assert predict_scores(model, *val[:-1], device=cuda_unqueried).shape == (32, 2)


def test_train_tagger_keeps_better_starting_weights(seed):
    train, val = _clouds(256, seed), _clouds(128, seed + 1)
    torch.manual_seed(seed)
    model = build_particlenet(input_dims=5)
    train_tagger(model, train, val, epochs=3, batch_size=64, lr=5e-3, device="cpu", seed=seed, progress=False)
    before = predict_scores(model, *val[:-1], device="cpu")
    # a huge learning rate wrecks the weights; the good starting weights must be restored
    result = train_tagger(model, train, val, epochs=1, batch_size=64, lr=50.0, device="cpu", seed=seed, progress=False)
    assert result.best_epoch == -1
    np.testing.assert_allclose(predict_scores(model, *val[:-1], device="cpu"), before, atol=1e-6)


def test_train_tagger_is_reproducible(seed):
    train, val = _clouds(128, seed), _clouds(64, seed + 1)
    runs = []
    for _ in range(2):
        torch.manual_seed(seed)
        model = build_particlenet(input_dims=5)
        runs.append(
            train_tagger(model, train, val, epochs=1, batch_size=32, device="cpu", seed=seed, progress=False).history[
                "train_loss"
            ]
        )
    assert runs[0] == runs[1]


def test_train_tagger_lr_scales_set_each_parameters_learning_rate(seed):
    """Two AdamW steps (the second at 1e-4 of the first's rate) move each weight by about its peak learning
    rate x 0.69 (the one-cycle schedule's first value): the first matching pattern's factor x lr."""
    train = _clouds(64, seed)
    torch.manual_seed(seed)
    model = build_particlenet(input_dims=5)
    start = {k: v.detach().clone() for k, v in model.named_parameters()}
    scales = {r"head\.3\..*": 1.0, r"blocks\.0\..*": 0.5, r".*": 0.1}
    result = train_tagger(
        model,
        train,
        train,
        epochs=1,
        batch_size=32,
        lr=1e-3,
        weight_decay=0.0,
        lr_scales=scales,
        device="cpu",
        seed=seed,
        progress=False,
    )
    assert result.best_epoch == 0  # the steps were kept
    moved = {k: float((v.detach() - start[k]).abs().max()) for k, v in model.named_parameters()}
    head = moved["head.3.weight"]
    assert head == pytest.approx(0.69 * 1e-3, rel=0.01)
    assert moved["blocks.0.linears.0.weight"] / head == pytest.approx(0.5, rel=1e-3)
    assert moved["blocks.1.linears.0.weight"] / head == pytest.approx(0.1, rel=1e-3)
    assert moved["head.0.weight"] / head == pytest.approx(0.1, rel=1e-3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"batch_size": 1}, "batch_size must be an integer >= 2"),
        ({"lr": -1.0}, "learning rate must be positive"),
        ({"patience": 0}, "patience must be >= 1"),
        ({"device": "tpu"}, "device 'tpu' is not a device name; choose one of: auto, cpu, cuda"),
    ],
)
def test_train_tagger_rejects_bad_settings(kwargs, match):
    data = _clouds(8, 0)
    with pytest.raises(ParameterError, match=match):
        train_tagger(build_particlenet(input_dims=5), data, data, progress=False, **kwargs)


def test_train_val_test_split_disjoint_and_complete(seed):
    split = train_val_test_split(100, seed=seed)
    assert [len(split[k]) for k in ("train", "val", "test")] == [70, 15, 15]
    assert sorted(np.concatenate(list(split.values())).tolist()) == list(range(100))
    with pytest.raises(ParameterError, match="three positive numbers summing to 1"):
        train_val_test_split(100, fractions=(0.5, 0.5))


def _jets(n, seed, particles=30):
    """A JetData-like object: class 1 jets two-pronged (features and four-vectors), class 0 one blob."""
    points, feats, mask, labels = _clouds(n, seed)
    pt = np.random.default_rng(seed).uniform(1, 50, mask.shape)
    eta, phi = points[..., 0], points[..., 1]
    four = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta) + 0.01], -1)
    return SimpleNamespace(points=points, features=feats, mask=mask, labels=labels, four_vectors=four * mask[..., None])


def test_model_inputs_follow_model_inputs_with_dtypes():
    data = _jets(10, 0)
    part = build_tagger("part_small", input_dims=5)
    arrays = model_inputs(part, data, np.arange(4))
    assert [a.shape for a in arrays] == [(4, 30, 5), (4, 30, 4), (4, 30)]
    assert [a.dtype for a in arrays] == [np.float32, np.float32, np.bool_]
    pn = model_inputs(build_tagger("particlenet_lite", input_dims=5), data)
    assert [a.shape for a in pn] == [(10, 30, 2), (10, 30, 5), (10, 30)]
    default = subset(data, slice(2, 5))
    assert len(default) == 4 and default[0].shape == (3, 30, 2) and default[3].tolist() == data.labels[2:5].tolist()
    with pytest.raises(
        ParameterError, match="needs the jet arrays features, four_vectors, mask, but .* no four_vectors"
    ):
        model_inputs(part, SimpleNamespace(features=data.features, mask=data.mask))


def test_train_tagger_one_epoch_of_part_lowers_the_loss(seed):
    data = _jets(512, seed)
    torch.manual_seed(seed)
    model = build_tagger("part_small", input_dims=5)
    train, val = subset(data, np.arange(384), model), subset(data, np.arange(384, 512), model)
    before = float(
        torch.nn.functional.cross_entropy(
            torch.log(torch.as_tensor(predict_scores(model, *val[:-1], device="cpu"))), torch.as_tensor(val[-1])
        )
    )
    result = train_tagger(model, train, val, epochs=1, batch_size=32, lr=3e-3, device="cpu", seed=seed, progress=False)
    assert result.best_epoch == 0 and result.history["val_loss"][0] < before - 0.05
    scores = predict_scores(model, *model_inputs(model, data, np.arange(384, 512)), device="cpu")
    assert np.mean(scores.argmax(1) == val[-1]) > 0.8
