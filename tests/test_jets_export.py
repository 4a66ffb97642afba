"""ONNX export: ONNX Runtime reproduces the torch scores."""

import numpy as np
import pytest
import torch

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.jets.export import compare_onnx, export_onnx, onnx_scores, torch_scores
from hepml_nb.jets.models import build_particlenet, build_tagger

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_export_onnx_scores_match_torch(tmp_path, seed):
    torch.manual_seed(seed)
    model = build_particlenet(input_dims=9)
    model.train()
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 40, 33)
    mask = np.arange(40)[None, :] < counts[:, None]
    points = (rng.normal(0, 0.3, (33, 40, 2)) * mask[..., None]).astype(np.float32)
    feats = (rng.normal(0, 1, (33, 40, 9)) * mask[..., None]).astype(np.float32)
    with torch.no_grad():  # move BatchNorm running statistics away from 0 / 1
        model(torch.as_tensor(points), torch.as_tensor(feats), torch.as_tensor(mask))
    path = export_onnx(model, tmp_path / "pn.onnx", n_particles=40, n_features=9)
    ort = onnx_scores(path, points, feats, mask)
    ref = torch_scores(model, points, feats, mask)
    assert ort.shape == (33, 2) and np.allclose(ort.sum(1), 1.0, atol=1e-5)
    assert np.max(np.abs(ort - ref)) < 1e-5
    assert compare_onnx(model, path, points, feats, mask) < 1e-5
    assert np.std(ref[:, 1]) > 1e-4  # the scores are not all the same


@pytest.mark.parametrize("name", ["part_small", "part"])
def test_export_onnx_part_scores_match_torch(tmp_path, seed, name):
    torch.manual_seed(seed)
    model = build_tagger(name, input_dims=9)
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 40, 17)
    mask = np.arange(40)[None, :] < counts[:, None]
    feats = (rng.normal(0, 1, (17, 40, 9)) * mask[..., None]).astype(np.float32)
    pt, eta, phi = rng.uniform(1, 60, (17, 40)), rng.normal(0, 0.3, (17, 40)), rng.normal(0, 0.3, (17, 40))
    p4 = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta) + 0.1], -1)
    p4 = (p4 * mask[..., None]).astype(np.float32)
    with torch.no_grad():  # move BatchNorm running statistics away from 0 / 1
        model.train()(*(torch.as_tensor(a) for a in (feats, p4, mask)))
    path = export_onnx(model, tmp_path / "part.onnx", n_particles=40, n_features=9)
    import onnx

    assert [i.name for i in onnx.load(str(path)).graph.input] == ["features", "four_vectors", "mask"]
    ort = onnx_scores(path, feats, p4, mask)
    ref = torch_scores(model, feats, p4, mask)
    assert ort.shape == (17, 2) and np.max(np.abs(ort - ref)) < 1e-5
    assert compare_onnx(model, path, feats, p4, mask) < 1e-5
    assert np.std(ref[:, 1]) > 1e-4
    with torch.no_grad():  # the packed implementation (training, predict_scores) gives the same scores
        packed = torch.softmax(model.eval()(*(torch.as_tensor(a) for a in (feats, p4, mask))), -1).numpy()
    assert np.max(np.abs(packed - ref)) < 1e-5


def test_onnx_scores_checks_the_number_of_inputs(tmp_path):
    path = export_onnx(build_particlenet(input_dims=7).eval(), tmp_path / "pn.onnx", n_particles=16)
    with pytest.raises(ParameterError, match=r"pn.onnx takes 3 inputs \(points, features, mask\), got 2 arrays"):
        onnx_scores(path, np.zeros((1, 16, 2)), np.zeros((1, 16, 7)))


def test_onnx_scores_missing_file(tmp_path):
    with pytest.raises(DataError, match="ONNX file .* not found; create it with export_onnx"):
        onnx_scores(tmp_path / "none.onnx", np.zeros((1, 4, 2)), np.zeros((1, 4, 7)), np.ones((1, 4)))


def test_export_onnx_silences_only_the_legacy_exporter_warnings(tmp_path):
    import warnings

    model = build_particlenet(input_dims=7).eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_onnx(model, tmp_path / "pn.onnx", n_particles=16)
        warnings.warn("another deprecation", DeprecationWarning, stacklevel=1)  # others still reach the user
    assert [str(w.message) for w in caught] == ["another deprecation"]


def _part_jets(n: int, seed: int):
    """A part_small tagger and ``n`` padded jets of up to 40 particles (features, four-vectors, mask)."""
    torch.manual_seed(seed)
    model = build_tagger("part_small", input_dims=9).eval()
    rng = np.random.default_rng(seed)
    mask = np.arange(40)[None, :] < rng.integers(1, 40, n)[:, None]
    feats = (rng.normal(0, 1, (n, 40, 9)) * mask[..., None]).astype(np.float32)
    pt, eta, phi = rng.uniform(1, 60, (n, 40)), rng.normal(0, 0.3, (n, 40)), rng.normal(0, 0.3, (n, 40))
    p4 = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta) + 0.1], -1)
    return model, (feats, (p4 * mask[..., None]).astype(np.float32), mask)


def test_torch_scores_splits_into_its_batches(seed):
    n = 13
    model, inputs = _part_jets(n, seed)
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append(len(args[0])))
    batched = torch_scores(model, *inputs, batch_size=5)
    assert seen == [5, 5, 3]
    np.testing.assert_allclose(batched, torch_scores(model, *inputs), rtol=1e-5, atol=1e-6)


def test_onnx_scores_batches_give_the_scores_of_one_pass(tmp_path, seed):
    from hepml_nb.jets.export import SCORE_BATCH

    model, inputs = _part_jets(SCORE_BATCH + 7, seed)
    path = export_onnx(model, tmp_path / "part.onnx", n_particles=40, n_features=9)
    one = onnx_scores(path, *inputs, batch_size=len(inputs[0]))
    np.testing.assert_array_equal(onnx_scores(path, *inputs, batch_size=5), one)
    np.testing.assert_array_equal(onnx_scores(path, *inputs), one)


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_scores_reject_bad_batch_size(tmp_path, bad):
    model, inputs = _part_jets(3, 0)
    with pytest.raises(ParameterError, match="batch_size must be a positive integer"):
        torch_scores(model, *inputs, batch_size=bad)
    path = export_onnx(model, tmp_path / "part.onnx", n_particles=40, n_features=9)
    with pytest.raises(ParameterError, match="batch_size must be a positive integer"):
        onnx_scores(path, *inputs, batch_size=bad)
