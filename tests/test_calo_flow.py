"""The CaloFlow-style shower flow: exact preprocessing, seeded sampling, a short fit, checkpoints, errors."""

import numpy as np
import pytest
import torch

from hepml_nb.calo import flow, gflash
from hepml_nb.calo.features import shower_features
from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.core.history import TrainResult


@pytest.fixture(scope="module")
def showers():
    ref, _ = gflash.reference_showers(2000, seed=31, progress=False)
    return ref


@pytest.fixture(scope="module")
def trained(showers):
    return flow.train_flow(showers, epochs=4, seed=3, threads=1, progress=False)


def test_encode_decode_round_trip_and_zero_threshold(showers):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = flow.build_flow(flow.FlowConfig())
    frac = torch.from_numpy(flow._fractions(showers.subset(np.arange(50)), model.config, np.random.default_rng(1)))
    log_layer, logit_share = model.encode(frac)
    back = model.decode(log_layer, logit_share).double()
    empty = showers.cells[:50] == 0
    # every real deposit comes back (with its dequantisation noise, < 1e-6 of E_inc); empty cells are zero again
    expected = np.where(empty, 0.0, frac.double().numpy())
    np.testing.assert_allclose(back.numpy(), expected, rtol=2e-4, atol=1e-9)
    layer_sum = log_layer.exp().sum(1)
    np.testing.assert_allclose(layer_sum.numpy(), frac.sum(1).numpy(), rtol=1e-5)


def test_flow_learns_the_layer_energies_and_response(showers, trained):
    model, history = trained.model, trained.history
    records = history.to_records()
    assert records[-1]["val_nll"] < records[0]["val_nll"]
    assert isinstance(trained, TrainResult) and not model.training
    val_nll = history["val_nll"]
    assert trained.best_epoch == val_nll.index(min(val_nll))  # the best epoch's weights are kept
    # 2000 showers, 200 held out: 1800 // 256 = 7 batches of 256 per epoch, 4 epochs
    assert trained.seconds > 0 and trained.per_second == pytest.approx(4 * 7 * 256 / trained.seconds)
    fake = flow.generate_showers(model, showers.e_inc, seed=4)
    ref_f, gen_f = shower_features(showers), shower_features(fake)
    # flow I alone sets these: a wrong layer bookkeeping or standardisation would be far off
    assert gen_f["etot_over_einc"].mean() == pytest.approx(ref_f["etot_over_einc"].mean(), rel=0.03)
    for layer in range(3):
        key = f"efrac_{layer}"
        assert gen_f[key].mean() == pytest.approx(ref_f[key].mean(), abs=0.03)


def test_sampling_is_seeded_whatever_the_batch_size_and_survives_a_checkpoint(showers, trained, tmp_path):
    model = trained.model
    e = showers.e_inc[:300]
    a = flow.generate_showers(model, e, seed=7)
    # float32: another batch size may take another matrix-product kernel, so rounding differs (seen: 2e-6 relative)
    np.testing.assert_allclose(
        flow.generate_showers(model, e, seed=7, batch_size=37).cells, a.cells, rtol=1e-5, atol=1e-6
    )
    assert not np.allclose(flow.generate_showers(model, e, seed=8).cells, a.cells)
    path = flow.save_flow(model, tmp_path / "f.pt", recipe={"command": "test"})
    loaded, card = flow.load_flow(path)
    assert card["command"] == "test"
    np.testing.assert_array_equal(flow.generate_showers(loaded, e, seed=7).cells, a.cells)


def test_flow_takes_a_resolved_device_as_it_is(showers, cuda_unqueried):
    few = showers.subset(slice(0, 200))
    model = flow.train_flow(few, epochs=1, batch_size=100, seed=1, threads=1, device=cuda_unqueried, progress=False)
    assert len(flow.generate_showers(model.model, few.e_inc[:5], device=cuda_unqueried)) == 5


def test_flow_rejects_bad_input(showers, trained):
    with pytest.raises(ParameterError, match="geometry 'calogan' but the flow is configured for 'dataset2'"):
        flow.train_flow(showers, config=flow.FlowConfig(geometry="dataset2"), epochs=1, progress=False)
    with pytest.raises(ParameterError, match="outside FlowConfig's \\[10.0, 100.0\\] GeV"):
        flow.train_flow(showers, config=flow.FlowConfig(e_min=10.0), epochs=1, progress=False)
    with pytest.raises(ParameterError, match="need epochs >= 1 and 2 <= batch_size <= number of showers; got epochs=0"):
        flow.train_flow(showers, epochs=0, progress=False)
    few = showers.subset(slice(0, 200))
    with pytest.raises(ParameterError, match="leaves 180 to train on, fewer than batch_size=190; pass more showers"):
        flow.train_flow(few, epochs=1, batch_size=190, progress=False)
    with pytest.raises(ParameterError, match="the flow was trained on \\[1.0, 100.0\\] GeV"):
        flow.generate_showers(trained.model, np.array([500.0]))


def test_flow_trains_on_dataset1_whose_layers_may_hold_no_cells():
    """Dataset 1 photons: 24 layer ids, 19 of them without voxels. Flow I models the 5 with voxels
    (their log energy is finite), and the flow trains and generates showers in that layout."""
    from conftest import toy_showers

    showers = toy_showers("dataset1-photons", 300, seed=2)
    config = flow.FlowConfig(geometry="dataset1-photons", e_min=1.0, e_max=100.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = flow.build_flow(config)
    frac = torch.from_numpy(flow._fractions(showers, config, np.random.default_rng(1)))
    log_layer, logit_share = model.encode(frac)
    assert log_layer.shape == (300, 5) and torch.isfinite(log_layer).all() and torch.isfinite(logit_share).all()
    result = flow.train_flow(showers, config=config, epochs=2, batch_size=64, seed=3, threads=1, progress=False)
    assert np.isfinite(result.history.to_records()[-1]["val_nll"])
    made = flow.generate_showers(result.model, showers.e_inc[:40], seed=1)
    assert made.cells.shape == (40, 368) and made.geometry == "dataset1-photons"
    assert np.isfinite(made.cells).all() and (made.cells >= 0).all() and (made.cells.sum(1) > 0).all()


def test_flow_training_that_never_gives_a_finite_loss_says_so(monkeypatch):
    showers = gflash.reference_showers(200, seed=4, progress=False)[0]
    log_prob = flow.ShowerFlow.log_prob
    monkeypatch.setattr(flow.ShowerFlow, "log_prob", lambda self, f, c: tuple(x * np.nan for x in log_prob(self, f, c)))
    with pytest.raises(DataError, match="validation loss was not finite in any of 1 epochs"):
        flow.train_flow(showers, epochs=1, batch_size=64, seed=1, threads=1, progress=False)


def test_generate_showers_leaves_no_tensor_in_garbage_cycles():
    """zuko's transforms form reference cycles holding each batch's tensors (about 550 MB for 20,000
    calogan showers): generate_showers collects them, batch by batch, instead of waiting for Python's gc."""
    import gc

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = flow.build_flow(flow.FlowConfig())
    e = np.linspace(2.0, 90.0, 40)
    flow.generate_showers(model, e, seed=1, batch_size=16)  # first call: one-off objects
    gc.collect()
    flow.generate_showers(model, e, seed=1, batch_size=16)
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, torch.Tensor)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []
