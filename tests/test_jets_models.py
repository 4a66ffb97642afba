"""ParticleNet: masking, equivalence of the fast and direct EdgeConv, kNN, configurations."""

import pytest
import torch

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets.models import (
    CONFIGS,
    TAGGERS,
    ParticleNet,
    build_particlenet,
    build_tagger,
    count_parameters,
    knn_indices,
)
from hepml_nb.jets.transformer import ParticleTransformer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _batch(seed, *, batch=6, particles=20, features=7, n_real=(3, 15)):
    gen = torch.Generator().manual_seed(seed)
    counts = torch.randint(n_real[0], n_real[1] + 1, (batch,), generator=gen)
    mask = torch.arange(particles)[None, :] < counts[:, None]
    points = torch.randn(batch, particles, 2, generator=gen) * 0.3 * mask[..., None]
    feats = torch.randn(batch, particles, features, generator=gen) * mask[..., None]
    return points, feats, mask


def _trained_model(seed, name="particlenet_lite", features=7):
    torch.manual_seed(seed)
    model = build_particlenet(name, input_dims=features)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for step in range(3):  # move BatchNorm running statistics and weights away from their initial values
        points, feats, mask = _batch(seed + step)
        loss = model(points, feats, mask).logsumexp(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize("train_mode", [False, True])
def test_particlenet_padding_changes_no_output(seed, train_mode):
    model = _trained_model(seed).train(train_mode)
    points, feats, mask = _batch(seed + 10)
    noise = torch.randn(*feats.shape, generator=torch.Generator().manual_seed(1)) * 50 * (~mask)[..., None]
    torch.manual_seed(0)
    out = model(points, feats, mask)
    torch.manual_seed(0)  # same dropout draws
    scrambled = model(points + noise[..., :2], feats + noise, mask)
    assert torch.equal(out, scrambled)


def test_particlenet_real_particles_change_output(seed):
    model = _trained_model(seed).eval()
    points, feats, mask = _batch(seed)
    moved = feats.clone()
    moved[0, 0] += 1.0
    with torch.no_grad():
        assert not torch.allclose(model(points, feats, mask)[0], model(points, moved, mask)[0])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_particlenet_fast_equals_direct_formulation(seed, name):
    model = _trained_model(seed, name).eval()
    points, feats, mask = _batch(seed + 5, n_real=(2, 20))  # includes jets with fewer than k real particles
    with torch.no_grad():
        packed = model(points, feats, mask)
        padded = model(points, feats, mask, implementation="padded")
        direct = model(points, feats, mask, implementation="direct")
    torch.testing.assert_close(packed, direct, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(padded, direct, rtol=1e-5, atol=1e-5)


def test_particlenet_gradients_reach_every_parameter(seed):
    model = _trained_model(seed)
    points, feats, mask = _batch(seed)
    model(points, feats, mask).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_knn_indices_match_brute_force(seed):
    pts = torch.randn(3, 12, 2, generator=torch.Generator().manual_seed(seed))
    idx = knn_indices(pts, 4)
    for b in range(3):
        for i in range(12):
            dist = ((pts[b] - pts[b, i]) ** 2).sum(1)
            dist[i] = float("inf")
            assert set(idx[b, i].tolist()) == set(dist.argsort()[:4].tolist())


def test_build_particlenet_paper_configurations():
    lite = build_particlenet("particlenet_lite", input_dims=7)
    full = build_particlenet("particlenet", input_dims=7)
    assert lite.k == 7 and full.k == 16
    assert [b.linears[-1].out_features for b in full.blocks] == [64, 128, 256]
    assert [b.linears[-1].out_features for b in lite.blocks] == [32, 64]
    assert 20_000 < count_parameters(lite) < 40_000 < 300_000 < count_parameters(full) < 400_000
    points, feats, mask = _batch(0)
    assert lite.eval()(points, feats, mask).shape == (6, 2)


def test_build_particlenet_rejects_unknown_name():
    with pytest.raises(ParameterError, match="unknown model 'particlenet_xl'; choose one of: particlenet, "):
        build_particlenet("particlenet_xl", input_dims=7)


def test_particlenet_rejects_unknown_implementation():
    model = build_particlenet(input_dims=7)
    with pytest.raises(ParameterError, match="unknown implementation 'fast'; choose one of: packed"):
        model(*_batch(0), implementation="fast")


def test_particlenet_rejects_too_few_particle_slots():
    model = build_particlenet("particlenet", input_dims=7)
    with pytest.raises(ParameterError, match="padded to 10 particles, but the model takes k = 16"):
        model(*_batch(0, particles=10, n_real=(2, 5)))


@pytest.mark.parametrize("name", TAGGERS)
def test_build_tagger_builds_every_tagger(name):
    model = build_tagger(name, input_dims=7, num_classes=3)
    family = ParticleTransformer if name in ("part_small", "part") else ParticleNet
    assert isinstance(model, family) and model.name == name and model.config["num_classes"] == 3
    assert model.inputs == family.inputs


def test_tagger_inputs_name_jetdata_attributes():
    assert ParticleNet.inputs == ("points", "features", "mask")
    assert ParticleTransformer.inputs == ("features", "four_vectors", "mask")
    assert TAGGERS == ("particlenet_lite", "particlenet", "part_small", "part")


def test_build_tagger_rejects_unknown_name():
    with pytest.raises(
        ParameterError, match="unknown tagger 'pn'; choose one of: particlenet_lite, particlenet, part_small, part"
    ):
        build_tagger("pn", input_dims=7)
