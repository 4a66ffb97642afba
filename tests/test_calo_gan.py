import numpy as np
import pytest
import torch

from hepml_nb.calo import gan
from hepml_nb.calo.gflash import reference_showers
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.history import TrainResult


@pytest.fixture(scope="module")
def small_sample():
    showers, _ = reference_showers(600, seed=7, progress=False)
    return showers


def test_to_model_space_round_trip(small_sample):
    cfg = gan.GanConfig()
    u = gan.to_model_space(small_sample, cfg)
    assert u.shape == (600, 504) and u.min() == 0.0 and u.max() <= 1.0
    back = gan.from_model_space(u, small_sample.e_inc, cfg)
    np.testing.assert_allclose(back.cells, small_sample.cells, rtol=2e-4, atol=1e-4)


def test_condition_maps_range_to_unit_interval():
    cfg = gan.GanConfig(e_min=1.0, e_max=100.0)
    assert gan.condition(np.array([1.0, 10.0, 100.0]), cfg)[:, 0] == pytest.approx([-1.0, 0.0, 1.0])


def test_train_wgan_gp_runs_validates_and_is_seeded(small_sample, tmp_path):
    calls = []

    def validate(net):
        calls.append(1)
        return {"sep_test": 0.5}

    result = gan.train_wgan_gp(
        small_sample,
        n_iterations=4,
        batch_size=32,
        n_critic=2,
        seed=3,
        validate_every=2,
        validate=validate,
        progress=False,
    )
    net, history = result.model, result.history
    assert isinstance(result, TrainResult) and not net.training and result.best_epoch is None
    # real showers the critic saw: 4 iterations x 2 critic steps x 32
    assert result.seconds > 0 and result.per_second == pytest.approx(4 * 2 * 32 / result.seconds)
    assert len(calls) == 2 and history[-1]["sep_test"] == 0.5
    assert all(np.isfinite(h["wasserstein"]) for h in history if "wasserstein" in h)
    net2 = gan.train_wgan_gp(small_sample, n_iterations=4, batch_size=32, n_critic=2, seed=3, progress=False).model
    for p, q in zip(net.parameters(), net2.parameters(), strict=True):
        assert torch.equal(p, q)
    fake = gan.generate_showers(net, small_sample.e_inc[:50], seed=1)
    assert fake.cells.shape == (50, 504) and (fake.cells >= 0).all()


def test_gan_takes_a_resolved_device_as_it_is(small_sample, cuda_unqueried):
    net = gan.train_wgan_gp(
        small_sample, n_iterations=1, batch_size=32, n_critic=1, device=cuda_unqueried, progress=False
    ).model
    fake = gan.generate_showers(net, small_sample.e_inc[:5], device=cuda_unqueried)
    assert fake.cells.shape == (5, 504)


def test_save_and_load_generator_give_identical_showers(small_sample, tmp_path):
    cfg = gan.GanConfig(hidden=(32, 64))
    net = gan.build_generator(cfg)
    path = gan.save_generator(net, tmp_path / "g.pt", recipe={"what": "test"})
    net2, card = gan.load_generator(path)
    assert gan.generator_config(net2) == cfg and card["what"] == "test" and (tmp_path / "g.json").exists()
    e = small_sample.e_inc[:20]
    a = gan.generate_showers(net, e, seed=5)
    b = gan.generate_showers(net2, e, seed=5, batch_size=7)
    np.testing.assert_allclose(a.cells, b.cells, rtol=1e-4, atol=1e-3)  # MeV; batched matmul rounding


def test_load_pretrained_generator_makes_showers():
    net, recipe = gan.load_pretrained()
    assert net.config.geometry == "calogan" and "train_calogan_checkpoint.py" in recipe["command"]
    assert (gan.PRETRAINED_DIR / "calogan_generator.pt").stat().st_size < 3e6
    fake = gan.generate_showers(net, np.array([5.0, 50.0, 95.0]), seed=0)
    response = fake.cells.sum(1) / (1000 * fake.e_inc)
    assert ((response > 0.5) & (response < 1.5)).all()


def test_gan_errors(small_sample, tmp_path):
    cfg = gan.GanConfig()
    net = gan.build_generator(cfg)
    with pytest.raises(ParameterError, match=r"span \[200, 200\] GeV but the GAN was trained on \[1.0, 100.0\]"):
        gan.generate_showers(net, np.array([200.0]))
    with pytest.raises(ParameterError, match="Linear carries no GanConfig; make generators with build_generator"):
        gan.generate_showers(torch.nn.Linear(65, 504), np.array([20.0]))
    with pytest.raises(ParameterError, match="geometry 'calogan' but the GAN is configured for 'dataset2'"):
        gan.train_wgan_gp(small_sample, config=gan.GanConfig(geometry="dataset2"), n_iterations=1)
    with pytest.raises(ParameterError, match="batch_size <= number of showers; got n_iterations=1, batch_size=10000"):
        gan.train_wgan_gp(small_sample, n_iterations=1, batch_size=10000)
    with pytest.raises(ParameterError, match="need n_iterations >= 1 .* got n_iterations=0"):
        gan.train_wgan_gp(small_sample, n_iterations=0)
    with pytest.raises(ParameterError, match="outside GanConfig's \\[10.0, 100.0\\] GeV; set e_min and e_max"):
        gan.train_wgan_gp(small_sample, config=gan.GanConfig(e_min=10.0), n_iterations=1)
    with pytest.raises(DataError, match="checkpoint .* not found"):
        gan.load_generator(tmp_path / "none.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(DataError, match="not a generator checkpoint"):
        gan.load_generator(tmp_path / "other.pt")
    with pytest.raises(DataError, match="no pretrained generator 'x'; available: calogan_generator"):
        gan.load_pretrained("x")


def test_energy_head_fixes_response_range(small_sample):
    e = small_sample.e_inc[:200]
    with_head = gan.generate_showers(gan.build_generator(gan.GanConfig()), e, seed=2)
    response = with_head.cells.sum(1) / (1000 * e)
    assert ((response > 0.69) & (response < 1.31)).all()  # 1 + 0.3 tanh(.)
    plain_cfg = gan.GanConfig(energy_head=False)
    plain = gan.build_generator(plain_cfg)
    assert plain.net[-1].out_features == 504 and gan.build_generator(gan.GanConfig()).net[-1].out_features == 505


class _LinearCritic(torch.nn.Module):
    """D(x, c) = w . x: its gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = torch.nn.Parameter(w)

    def forward(self, x, c):
        return x @ self.w


@pytest.mark.parametrize("norm,penalty", [(1.0, 0.0), (3.0, 4.0), (0.5, 0.25)])
def test_gradient_penalty_is_the_squared_distance_of_the_gradient_norm_from_one(norm, penalty):
    w = torch.randn(6, generator=torch.Generator().manual_seed(0))
    critic = _LinearCritic(norm * w / w.norm())
    real, fake, c = torch.randn(32, 6), torch.randn(32, 6), torch.zeros(32, 1)
    gp = gan.gradient_penalty(critic, real, fake, c, torch.Generator().manual_seed(1))
    assert gp.item() == pytest.approx(penalty, abs=1e-6)
    gp.backward()  # differentiable in the critic's weights, as the critic loss needs
    assert critic.w.grad is not None and (penalty == 0.0 or critic.w.grad.abs().sum() > 0)
