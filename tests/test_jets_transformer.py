"""Particle Transformer: pair features, interaction bias, masking, permutation invariance, configurations."""

import math

import numpy as np
import pytest
import torch

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets.models import count_parameters
from hepml_nb.jets.transformer import CONFIGS, PAIR_FEATURES, ParticleTransformer, build_part, pair_features

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _four_vector(pt, eta, phi, m):
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    return [px, py, pz, math.sqrt(px * px + py * py + pz * pz + m * m)]


def _batch(seed, *, batch=6, particles=20, features=7, n_real=(1, 15)):
    gen = torch.Generator().manual_seed(seed)
    counts = torch.randint(n_real[0], n_real[1] + 1, (batch,), generator=gen)
    mask = torch.arange(particles)[None, :] < counts[:, None]
    feats = torch.randn(batch, particles, features, generator=gen) * mask[..., None]
    pt = torch.rand(batch, particles, generator=gen) * 60 + 0.5
    eta, phi = (torch.randn(batch, particles, 2, generator=gen) * 0.3).unbind(-1)
    p4 = torch.stack([pt * phi.cos(), pt * phi.sin(), pt * eta.sinh(), (pt * eta.cosh()).hypot(torch.tensor(0.14))], -1)
    return feats, p4 * mask[..., None], mask


def _trained_model(seed, name="part_small", features=7):
    torch.manual_seed(seed)
    model = build_part(name, input_dims=features)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for step in range(3):  # move BatchNorm running statistics and weights away from their initial values
        loss = model(*_batch(seed + step)).logsumexp(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def test_pair_features_of_two_particles_equal_hand_computed_values():
    a, b = (40.0, 0.1, 0.2, 0.14), (10.0, -0.2, 0.5, 0.5)  # pt, eta, phi, m
    va, vb = np.array(_four_vector(*a)), np.array(_four_vector(*b))

    def rapidity(v):
        return 0.5 * math.log((v[3] + v[2]) / (v[3] - v[2]))

    delta = math.hypot(rapidity(va) - rapidity(vb), a[2] - b[2])
    s = va + vb
    expected = [
        math.log(delta),
        math.log(min(a[0], b[0]) * delta),
        math.log(min(a[0], b[0]) / (a[0] + b[0])),
        math.log(s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2),
    ]
    got = pair_features(torch.tensor(va, dtype=torch.float32), torch.tensor(vb, dtype=torch.float32))
    np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5)
    assert PAIR_FEATURES == ("ln_delta", "ln_kt", "ln_z", "ln_m2")
    np.testing.assert_allclose(got.numpy(), pair_features(torch.tensor(vb), torch.tensor(va)).numpy(), rtol=1e-6)


def test_pair_features_wrap_phi_across_pi():
    a, b = _four_vector(100.0, 0.5, math.pi - 0.01, 0.14), _four_vector(80.0, 0.5001, -math.pi + 0.01, 0.14)
    va, vb = np.array(a), np.array(b)
    s = va + vb
    m2 = s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2
    got = pair_features(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)).numpy()
    assert got[0] == pytest.approx(math.log(math.hypot(1e-4, 0.02)), rel=1e-3)  # dphi 0.02 across +-pi
    assert got[3] == pytest.approx(math.log(m2), abs=2e-3)  # float32 inputs: m^2 = 3.3 GeV^2 to 0.2 %


def test_pair_features_of_padding_are_finite():
    zero = torch.zeros(4)
    got = pair_features(zero, zero)
    assert torch.isfinite(got).all() and got[0] == pytest.approx(math.log(1e-8))


@pytest.mark.parametrize("train_mode", [False, True])
def test_part_padding_changes_no_output(seed, train_mode):
    model = _trained_model(seed).train(train_mode)
    feats, p4, mask = _batch(seed + 10)
    gen = torch.Generator().manual_seed(1)
    noise = torch.randn(*feats.shape, generator=gen) * 50 * (~mask)[..., None]
    noise4 = torch.randn(*p4.shape, generator=gen).abs() * 50 * (~mask)[..., None]
    torch.manual_seed(0)
    out = model(feats, p4, mask)
    torch.manual_seed(0)  # same dropout draws
    scrambled = model(feats + noise, p4 + noise4, mask)
    assert torch.equal(out, scrambled)


def test_part_paper_configuration_padding_changes_no_output(seed):
    model = _trained_model(seed, "part").eval()
    feats, p4, mask = _batch(seed + 3)
    noise = torch.randn(*feats.shape) * 50 * (~mask)[..., None]
    with torch.no_grad():
        assert torch.equal(model(feats, p4, mask), model(feats + noise, p4 - noise[..., :4], mask))


def test_part_permutation_of_real_particles_changes_no_output(seed):
    model = _trained_model(seed).eval()
    feats, p4, mask = _batch(seed + 1, n_real=(3, 20))
    order = torch.stack([torch.randperm(20, generator=torch.Generator().manual_seed(i)) for i in range(6)])
    take = lambda x: torch.gather(x, 1, order.unsqueeze(-1).expand_as(x))  # noqa: E731
    with torch.no_grad():
        out = model(feats, p4, mask)
        permuted = model(take(feats), take(p4), torch.gather(mask, 1, order))  # padded slots move too
    torch.testing.assert_close(out, permuted, rtol=1e-4, atol=1e-5)


def test_part_packed_equals_padded_implementation(seed):
    model = _trained_model(seed).eval()
    feats, p4, mask = _batch(seed + 5, n_real=(1, 20))  # includes one-particle jets
    with torch.no_grad():
        packed, padded = model(feats, p4, mask), model(feats, p4, mask, implementation="padded")
    torch.testing.assert_close(packed, padded, rtol=1e-5, atol=1e-5)


def test_part_interaction_bias_changes_output(seed):
    model = _trained_model(seed).eval()
    feats, p4, mask = _batch(seed)
    with torch.no_grad():
        with_bias = model(feats, p4, mask)
        without = model(feats, p4, mask, interaction=False)
        boosted = model(feats, p4 * 3.0, mask)  # same directions, other kT and m^2: only the bias sees it
    assert (with_bias - without).abs().max() > 1e-3
    assert (with_bias - boosted).abs().max() > 1e-4


def test_part_real_particles_change_output(seed):
    model = _trained_model(seed).eval()
    feats, p4, mask = _batch(seed, n_real=(3, 10))
    moved = feats.clone()
    moved[0, 0] += 1.0
    with torch.no_grad():
        assert not torch.allclose(model(feats, p4, mask)[0], model(moved, p4, mask)[0])


def test_part_jets_with_few_or_no_particles_give_finite_scores(seed):
    model = _trained_model(seed)
    feats, p4, mask = _batch(seed, n_real=(1, 2))
    mask[0] = False  # an empty jet
    model.train()
    model(feats, p4, mask).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    with torch.no_grad():
        for implementation in ("packed", "padded"):
            assert torch.isfinite(model.eval()(feats, p4, mask, implementation=implementation)).all()


def test_part_paper_configuration_parameter_count():
    # arXiv:2202.03772, Table 3: 2.14 M parameters (JetClass: 17 particle inputs, 10 classes)
    model = build_part("part", input_dims=17, num_classes=10)
    assert count_parameters(model) == pytest.approx(2.14e6, rel=0.01)
    assert len(model.blocks) == 8 and len(model.cls_blocks) == 2 and model.num_heads == 8
    assert model.pair_embed.mlp[-3].out_channels == 8  # one interaction bias per head
    small = build_part("part_small", input_dims=7)
    assert 20_000 < count_parameters(small) < 100_000
    assert ParticleTransformer.inputs == ("features", "four_vectors", "mask")


def test_build_part_rejects_unknown_name_and_bad_heads():
    with pytest.raises(ParameterError, match="unknown model 'part_xl'; choose one of: part, part_small"):
        build_part("part_xl", input_dims=7)
    with pytest.raises(ParameterError, match="embedding width 30 is not divisible by num_heads = 4"):
        ParticleTransformer(7, embed_dims=(30,), num_heads=4)
    with pytest.raises(ParameterError, match="unknown implementation 'fast'; choose one of: packed, padded"):
        build_part(input_dims=7)(*_batch(0), implementation="fast")
    assert set(CONFIGS) == {"part", "part_small"}


def test_part_padded_embeds_pairs_in_chunks_with_the_scores_of_one_pass(seed, monkeypatch):
    """The padded implementation (ONNX, torch_scores) embeds at most PAIR_CHUNK pairs at a time (its
    pair tensors grow with batch x P^2) and gives bit for bit the scores of one pass over the batch."""
    from hepml_nb.jets import transformer

    model = _trained_model(seed).eval()
    feats, p4, mask = _batch(seed + 7, batch=11, particles=20)
    sizes = []
    model.pair_embed.register_forward_pre_hook(lambda module, args: sizes.append(args[0].shape[-1]))
    with torch.no_grad():
        one_pass = model(feats, p4, mask, implementation="padded")
        assert sizes == [11 * 20 * 20]
        monkeypatch.setattr(transformer, "PAIR_CHUNK", 3 * 20 * 20, raising=False)  # three jets at a time
        sizes.clear()
        chunked = model(feats, p4, mask, implementation="padded")
    assert sizes == [3 * 400, 3 * 400, 3 * 400, 2 * 400]
    assert torch.equal(chunked, one_pass)
