"""Fine-tuning a (tiny, randomly initialised) 10-class JetClass-like model on a task: the task's head,
the backbone's learning rate, frozen BatchNorm statistics, the published model left as it was."""

import numpy as np
import pytest
import torch

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.history import TrainResult
from hepml_nb.jets.finetune import FrozenBatchNorm1d, fine_tune, task_model
from hepml_nb.jets.jetclass import JETCLASS_CLASSES, binary_score
from hepml_nb.jets.models import build_particlenet, build_tagger
from hepml_nb.jets.training import predict_scores

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _clouds(n, seed):
    """Top-like jets (label 1) have two separated prongs, QCD-like (label 0) one blob; 8-20 real particles of 30."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    mask = np.arange(30)[None, :] < rng.integers(8, 21, n)[:, None]
    points = rng.normal(0, 0.05, (n, 30, 2))
    points[labels == 1, ::2, 0] += 0.4
    points = (points * mask[..., None]).astype(np.float32)
    feats = np.concatenate([points, rng.normal(0, 1, (n, 30, 3))], axis=-1) * mask[..., None]
    return points, feats.astype(np.float32), mask, labels


def _inputs(data, name):
    """The model's inputs from ``_clouds`` (ParT: made-up massive four-vectors)."""
    points, feats, mask, _ = data
    if name.startswith("particlenet"):
        return points, feats, mask
    four = np.concatenate([np.abs(feats[..., :3]) + 0.1, np.abs(feats[..., :1]) + 1.0], -1) * mask[..., None]
    return feats, four.astype(np.float32), mask


def _published(seed, name="particlenet_lite"):
    """A small 10-output model standing in for a published one: random weights, BatchNorm statistics of
    the toy jets (cumulative averages over them, as a trained model has statistics of its data)."""
    torch.manual_seed(seed)
    model = build_tagger(name, input_dims=5, num_classes=len(JETCLASS_CLASSES))
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    for norm in norms:
        norm.momentum = None
    with torch.no_grad():
        model.train()(*(torch.as_tensor(a) for a in _inputs(_clouds(256, seed + 99), name)))
    for norm in norms:
        norm.momentum = 0.1
    model.name, model.feature_set = f"{name}_jetclass", "toy"
    return model.eval()


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_fine_tune_lowers_the_loss_and_gives_the_task_outputs(seed):
    train, val = _clouds(384, seed), _clouds(128, seed + 1)
    result = fine_tune(
        _published(seed),
        train,
        val,
        task="top",
        head="new",
        epochs=3,
        lr=1e-2,
        backbone_lr_scale=0.2,
        device="cpu",
        seed=seed,
        progress=False,
    )
    assert isinstance(result, TrainResult) and result.per_second > 0 and result.seconds > 0
    losses = result.history["train_loss"]
    assert len(losses) == 3 and losses[-1] < losses[0] - 0.2
    scores = predict_scores(result.model, *val[:-1], device="cpu")
    assert scores.shape == (128, 2) and result.model.head[-1].out_features == 2
    assert np.mean(scores.argmax(1) == val[-1]) > 0.9
    assert result.model.name == "particlenet_lite_jetclass_finetuned" and result.model.class_names == ("qcd", "top")


def test_fine_tune_trains_the_backbone_at_the_scaled_learning_rate(seed):
    """Two AdamW steps (the one-cycle schedule's: 0.69 and 1e-4 x the peak) move every weight by about 0.69 x
    its group's learning rate: the backbone's is lr x scale."""
    train = _clouds(64, seed)
    published = _published(seed)
    steps = {}
    for scale in (0.0, 0.1):
        tuned = fine_tune(
            published,
            train,
            train,
            task="top",
            epochs=1,
            batch_size=32,
            lr=1e-3,
            backbone_lr_scale=scale,
            weight_decay=0.0,
            device="cpu",
            seed=seed,
            progress=False,
        )
        assert tuned.best_epoch == 0  # the step was kept
        start = task_model(published, "top").state_dict()
        moved = {k: float((v.detach() - start[k]).abs().max()) for k, v in tuned.model.named_parameters()}
        steps[scale] = (moved.pop("head.3.weight"), max(moved[k] for k in moved if not k.startswith("head.3.")))
    assert steps[0.0][0] == pytest.approx(0.69 * 1e-3, rel=0.01) and steps[0.0][1] == 0.0
    head, backbone = steps[0.1]
    assert backbone / head == pytest.approx(0.1, rel=1e-3)


def test_fine_tune_keeps_batchnorm_statistics_and_the_published_model(seed):
    train, val = _clouds(128, seed), _clouds(64, seed + 1)
    published = _published(seed)
    before = _state(published)
    result = fine_tune(
        published,
        train,
        val,
        task="top",
        epochs=2,
        lr=5e-3,
        backbone_lr_scale=1.0,
        device="cpu",
        seed=seed,
        progress=False,
    )
    after = _state(published)
    assert all(torch.equal(before[k], after[k]) for k in before) and not published.training
    norms = [m for m in result.model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms and all(type(m) is FrozenBatchNorm1d for m in norms)
    tuned = result.model.state_dict()
    for key in (k for k in before if k.endswith(("running_mean", "running_var"))):
        assert torch.equal(tuned[key], before[key]), key
    assert not any(m.training for m in result.model.train().modules() if isinstance(m, torch.nn.BatchNorm1d))


@pytest.mark.parametrize("name", ["particlenet_lite", "part_small"])
def test_task_model_outputs_start_at_the_jetclass_discriminant(seed, name):
    published = _published(seed, name)
    inputs = _inputs(_clouds(32, seed), name)
    p10 = predict_scores(published, *inputs, device="cpu")
    top = predict_scores(task_model(published, "top"), *inputs, device="cpu")
    np.testing.assert_allclose(top[:, 1], binary_score(p10, "top"), atol=1e-6)
    five = predict_scores(task_model(published, "multiclass"), *inputs, device="cpu")
    assert five.shape == (32, 5)
    np.testing.assert_allclose(five[:, 0], five[:, 1], atol=1e-7)  # gluon and light-quark jets start as QCD


def test_task_model_new_head_is_seeded(seed):
    published = _published(seed)
    a, b, c = (task_model(published, "w", head="new", seed=s).head[-1].weight for s in (seed, seed, seed + 1))
    assert torch.equal(a, b) and not torch.equal(a, c) and a.shape[0] == 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"task": "higgs"}, "unknown task 'higgs'; choose one of: top, w, z, multiclass"),
        ({"task": "top", "head": "fresh"}, "unknown head 'fresh'; choose one of: outputs, new"),
        ({"task": "top", "backbone_lr_scale": -0.1}, r"backbone_lr_scale must be between 0 .* got -0.1"),
        ({"task": "top", "epochs": 0}, "epochs must be a positive integer, got 0"),
    ],
)
def test_fine_tune_rejects_bad_settings(seed, kwargs, match):
    data = _clouds(8, seed)
    with pytest.raises(ParameterError, match=match):
        fine_tune(_published(seed), data, data, device="cpu", progress=False, **kwargs)


def test_task_model_refuses_a_model_without_jetclass_outputs():
    with pytest.raises(ParameterError, match="ParticleNet has no 10-class last layer 'head'"):
        task_model(build_particlenet(input_dims=5), "top")
